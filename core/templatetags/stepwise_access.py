"""``{% if user|may_open:"patients:caseload" %}``: offer a link only to a user the view
lets in by role (``core.access.may_open``), so no page shows a link that answers 403."""

from __future__ import annotations

from typing import Any

from django import template

from core.access import may_open as _may_open

register = template.Library()


@register.filter
def may_open(user: Any, url_name: str) -> bool:
    return _may_open(user, str(url_name))
