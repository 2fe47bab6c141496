"""Pages that several apps contribute to (staff home, patient chart, portal home, a
session's attendance sheet).

An app contributes in its ``panels`` module: functions registered with
``@register(hook, order=...)`` that return a ``Panel`` (a template and its context) or
None. ``CoreConfig.ready()`` finds those modules with ``autodiscover_modules``, so core
names no app above it. Each panel runs a fixed number of queries whatever the data size,
so the page's count stays pinned as apps are added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .access import UserRequest
from .registry import Registry


@dataclass
class Panel:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


# Called as func(request: UserRequest, **kwargs): panels are collected only by views
# behind staff_required or patient_required.
PanelFunction = Callable[..., Panel | None]

# Keyed by hook ("staff_home", "chart", "portal_home", and "attendance": scheduling's
# attendance sheet of a session, called with ``session=``); lower orders come first.
PANELS: Registry[PanelFunction] = Registry(unique=False)


def register(hook: str, *, order: int) -> Callable[[PanelFunction], PanelFunction]:
    return PANELS.register(hook, order=order)


def collect(hook: str, request: UserRequest, **kwargs: Any) -> list[Panel]:
    panels = (func(request, **kwargs) for func in PANELS.values(hook))
    return [panel for panel in panels if panel is not None]
