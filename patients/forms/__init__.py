"""Forms of the staff screens (moved to ``admission``; split next)."""

from .admission import *  # noqa: F403
