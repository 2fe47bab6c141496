"""Writes for patients and enrollments (moved to ``enrollment``; split next)."""

from .enrollment import *  # noqa: F403
