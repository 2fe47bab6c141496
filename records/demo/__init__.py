"""The demo clinic's clinical record, one module per area; importing this package
registers their steps (``core.demo.DEMO_STEPS``)."""

from . import groups, notes, plans, queue  # noqa: F401
