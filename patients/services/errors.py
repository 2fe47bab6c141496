"""What the services raise besides ``ValidationError``."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class ConcurrentEditError(ValidationError):
    pass
