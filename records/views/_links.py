"""Links to records' pages for lists of many items."""

from __future__ import annotations

from collections.abc import Callable

from core import links


def url_maker(name: str) -> Callable[[int], str]:
    """The page of each item, built by the plans, notes and groups areas: the queue still
    renders (without the link) on a deployment where one of those routes is absent."""
    return links.url_maker(name, missing_ok=True)
