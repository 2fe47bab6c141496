"""``{{ number|phone:site }}``: a stored (E.164) phone number written for a site's readers,
nationally for its country, internationally for another (``core.phones.phone_display``).
The argument is a Site or a country code; without one, the default region (US)."""

from __future__ import annotations

from typing import Any

from django import template

from core.phones import phone_display

register = template.Library()


@register.filter
def phone(value: Any, where: Any = None) -> str:
    region = getattr(where, "country", where)
    return phone_display(str(value or ""), region if isinstance(region, str) else None)
