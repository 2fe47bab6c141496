"""The clinical record's panels (staff home, chart, portal home), one module per area;
importing this package registers them (``core.panels``)."""

from . import groups, notes, plans, queue  # noqa: F401
