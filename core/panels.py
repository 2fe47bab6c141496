"""Pages that several apps contribute to (staff home, patient chart, portal home).

Each app may define, in its ``panels`` module, functions that return a ``Panel``
(a template and its context) or None. Each panel runs a fixed number of queries
whatever the data size, so the page's count stays pinned as apps are added.
"""

from dataclasses import dataclass, field
from importlib import import_module
from importlib.util import find_spec

PANEL_APPS = (
    "patients",
    "scheduling",
    "drugtests",
    "recovery",
    "notifications",
    "privacy",
    "dashboard",
)


@dataclass
class Panel:
    template: str
    context: dict = field(default_factory=dict)
    order: int = 50


def collect(hook: str, request, **kwargs) -> list[Panel]:
    panels = []
    for app in PANEL_APPS:
        name = f"{app}.panels"
        if find_spec(app) is None or find_spec(name) is None:
            continue
        func = getattr(import_module(name), hook, None)
        if func is None:
            continue
        panel = func(request, **kwargs)
        if panel is not None:
            panels.append(panel)
    return sorted(panels, key=lambda p: p.order)
