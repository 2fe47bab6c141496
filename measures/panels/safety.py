"""Panels of this area (none yet)."""
