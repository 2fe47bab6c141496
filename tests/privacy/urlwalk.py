"""Walk the URLconf: every route, with dummy arguments, for the access tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

DUMMY = {"int": 987654321, "str": "x", "slug": "x", "uuid": uuid.UUID(int=1), "path": "x"}


@dataclass
class Route:
    name: str  # namespaced, e.g. "patients:chart"
    callback: object
    kwargs: dict  # converter name per argument

    @property
    def takes_id(self) -> bool:
        return any(c == "int" for c in self.kwargs.values())


def _converter_name(converter) -> str:
    return type(converter).__name__.replace("Converter", "").lower()


def iter_routes(resolver=None, namespace: str = "", converters=None):
    resolver = resolver or get_resolver()
    converters = converters or {}
    for entry in resolver.url_patterns:
        entry_converters = {
            **converters,
            **{k: _converter_name(v) for k, v in getattr(entry.pattern, "converters", {}).items()},
        }
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}{entry.namespace}:"
            yield from iter_routes(entry, ns, entry_converters)
        elif isinstance(entry, URLPattern) and entry.name:
            yield Route(f"{namespace}{entry.name}", entry.callback, entry_converters)


def dummy_kwargs(route: Route) -> dict:
    return {k: DUMMY.get(c, "x") for k, c in route.kwargs.items()}
