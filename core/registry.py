"""The one shape of plugin in Stepwise: a registry that modules fill in when imported.

A registry belongs to the app that uses what is registered (core for page panels,
dashboard for alert rules, reports for the director's reports). The contributing modules
register with a decorator at import, and the owning app's ``AppConfig.ready()`` imports
them: with ``autodiscover_modules`` when other apps contribute, so no list of apps is
kept anywhere.

Entries are ordered by their ``order`` and then by registration, which for modules found
by ``autodiscover_modules`` is the order of ``INSTALLED_APPS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    key: str
    value: T
    order: int
    sequence: int  # registration order, the tie-break between equal orders


class Registry(Generic[T]):
    """Values under string keys, in a stable order.

    With ``unique=True`` a key names one value (a report's slug, a rule's name) and a
    second registration under it is a mistake; otherwise a key names a group of values
    (a page hook such as ``"chart"`` that several apps contribute to).
    """

    def __init__(self, *, unique: bool) -> None:
        self.unique = unique
        self._entries: list[Entry[T]] = []

    def add(self, key: str, value: T, *, order: int = 50) -> T:
        if self.unique and any(e.key == key for e in self._entries):
            raise ValueError(f"{key!r} is already registered.")
        self._entries.append(Entry(key, value, order, len(self._entries)))
        self._entries.sort(key=lambda e: (e.order, e.sequence))
        return value

    def register(self, key: str, *, order: int = 50) -> Callable[[T], T]:
        """Decorator form of :meth:`add`; the decorated object is returned unchanged."""

        def decorator(value: T) -> T:
            return self.add(key, value, order=order)

        return decorator

    def entries(self, key: str | None = None) -> list[Entry[T]]:
        return [e for e in self._entries if key is None or e.key == key]

    def values(self, key: str | None = None) -> list[T]:
        return [e.value for e in self.entries(key)]

    def get(self, key: str) -> T | None:
        for entry in self._entries:
            if entry.key == key:
                return entry.value
        return None

    def __iter__(self) -> Iterator[T]:
        return iter(self.values())

    def __len__(self) -> int:
        return len(self._entries)
