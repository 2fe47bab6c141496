"""Panels contingency contributes (core.panels); each area registers in its own module."""

from . import portal, settings, staff  # noqa: F401
