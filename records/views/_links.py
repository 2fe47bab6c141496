"""Links to records' pages for lists of many items."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import NoReverseMatch, reverse


def url_or_blank(name: str, pk: int) -> str:
    """The page of an item, built by the plans, notes and groups areas: the queue still
    renders (without the link) on a deployment where one of those routes is absent."""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


# A pk no row has, reversed once per route and replaced per item: a list of a hundred
# items then costs one ``reverse`` per route instead of one per item.
_PK_MARK = 987654321


def url_maker(name: str) -> Callable[[int], str]:
    """``url_or_blank(name, pk)`` for many pks, the route resolved once."""
    pattern = url_or_blank(name, _PK_MARK)
    if not pattern or pattern.count(str(_PK_MARK)) != 1:
        return lambda pk: url_or_blank(name, pk)
    head, tail = pattern.split(str(_PK_MARK))
    return lambda pk: f"{head}{pk}{tail}"
