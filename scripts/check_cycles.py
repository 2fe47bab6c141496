"""Fail when modules of one app import each other in a cycle (`make test` runs this).

import-linter's contracts keep the apps layered; inside an app the modules should form
a one-way chain too (models <- selectors <- services <- views, say), so a cycle shows a
module doing two jobs. Imports inside functions count: they only hide a cycle.
Imports under ``if TYPE_CHECKING:`` do not (nothing runs them).

Usage: .venv/bin/python scripts/check_cycles.py [app ...]   (default: every app)
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def apps_configured() -> list[str]:
    """The apps import-linter checks (pyproject.toml), so both checks cover the same code."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["importlinter"]["root_packages"])


def components_strong(nodes: Iterable[str], edges: dict[str, set[str]]) -> Iterator[list[str]]:
    """Tarjan's strongly connected components, without recursion (apps can be deep)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                yield sorted(component)


def cycles_find(graph: grimp.ImportGraph, app: str) -> list[list[str]]:
    """Groups of the app's modules that reach each other through imports of the app."""
    modules = {app} | graph.find_descendants(app)
    edges = {
        module: {
            imported
            for imported in graph.find_modules_directly_imported_by(module)
            if imported in modules and imported != module
        }
        for module in modules
    }
    return [group for group in components_strong(modules, edges) if len(group) > 1]


def cycle_describe(graph: grimp.ImportGraph, group: list[str]) -> list[str]:
    members = set(group)
    lines = []
    for importer in group:
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
            if imported == importer:
                continue
            details = graph.get_import_details(importer=importer, imported=imported)
            where = ", ".join(f"l.{d['line_number']}" for d in details)
            lines.append(f"    {importer} -> {imported} ({where})")
    return lines


def main(argv: list[str]) -> int:
    apps = argv or apps_configured()
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*apps, exclude_type_checking_imports=True, cache_dir=None)
    found = 0
    for app in apps:
        for group in cycles_find(graph, app):
            found += 1
            print(f"{app}: {len(group)} modules import each other in a cycle:")
            print("\n".join(cycle_describe(graph, group)))
    if found:
        print(f"{found} import cycle(s) inside apps.")
        return 1
    print(f"No import cycles inside {len(apps)} apps.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
