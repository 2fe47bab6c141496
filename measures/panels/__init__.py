"""Panels measures contributes (core.panels); each area registers in its own module."""

from . import chart, checkin, entry, safety, settings  # noqa: F401
