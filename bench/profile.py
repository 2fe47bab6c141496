"""Where one benchmarked page spends its time, in process (the test client through the
whole middleware stack), against an already seeded bench database.

    python bench/profile.py --db stepwise_bench_500 --page "drug-test day list"
    python bench/profile.py --db stepwise_bench_500 --summary   # every page, one line each

For one page: its queries (count and each one's time on a warm request), then the top
functions by cumulative time over ``--repeat`` requests (cProfile). ``--summary`` splits
each page's median request into SQL, template rendering (its own SQL excluded) and the
rest (middleware, view code, the ORM building queries), which is what says whether a
page is limited by its queries, its template or the stack around it. Same environment
and clock as bench/pages.py (bench.settings, BENCH_NOW); a database seeded by it (or
``seed_scale``) is needed. Figures are in-process milliseconds on a shared machine:
compare pages within one run.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on the path, where this module's name
# would hide the standard library's ``profile`` that cProfile imports: the project root
# instead.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402


def _setup(db: str) -> None:
    from bench.pages import env_for

    os.environ.update(env_for(db))
    import django
    from django.core.management import call_command

    django.setup()
    # Production settings serve hashed static names from the collected manifest.
    call_command("collectstatic", "--noinput", verbosity=0)


class _Split:
    """SQL time (through the connection's execute wrapper) and template time (around the
    Django backend's top-level render), the SQL run inside the template kept apart."""

    def __init__(self) -> None:
        self.sql = self.sql_in_template = self.template = 0.0
        self.queries: list[tuple[float, str]] = []
        self._in_template = False

    def execute(self, execute, sql, params, many, context):  # noqa: ANN001 - Django's hook
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - started
            self.sql += spent
            self.queries.append((spent, sql))
            if self._in_template:
                self.sql_in_template += spent

    def patch_templates(self):  # noqa: ANN201
        from django.template.backends.django import Template

        original = Template.render
        split = self

        def render(self, context=None, request=None):  # noqa: ANN001, ANN202
            # Only the outermost render counts: forms and panels render their own
            # templates from inside the page's.
            if split._in_template:
                return original(self, context, request)
            split._in_template = True
            started = time.perf_counter()
            try:
                return original(self, context, request)
            finally:
                split.template += time.perf_counter() - started
                split._in_template = False

        Template.render = render
        return lambda: setattr(Template, "render", original)


def _client_for(cookie_value: str):  # noqa: ANN202
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie_value
    return client


def _context() -> tuple[dict, dict]:
    """Session keys per bench user and the pages' paths (as bench/context.py builds them)."""
    from bench.context import USERS, _paths, session_for
    from core.models import User

    users = {key: User.objects.get(username=name) for key, name in USERS.items()}
    sessions = {key: session_for(user) for key, user in users.items()}
    return sessions, _paths(users)


def measure(client, path: str, repeat: int) -> dict:  # noqa: ANN001
    """Median request split into SQL, template (own) and the rest, in milliseconds."""
    from django.db import connection

    response = client.get(path, secure=True)  # warm: caches, the session's zone
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")
    rows = []
    for _ in range(repeat):
        split = _Split()
        undo = split.patch_templates()
        try:
            with connection.execute_wrapper(split.execute):
                started = time.perf_counter()
                client.get(path, secure=True)
                total = time.perf_counter() - started
        finally:
            undo()
        template_own = split.template - split.sql_in_template
        rows.append(
            {
                "total": total * 1000,
                "sql": split.sql * 1000,
                "template": template_own * 1000,
                "other": (total - split.sql - template_own) * 1000,
                "queries": len(split.queries),
                "query_list": split.queries,
            }
        )
    # The median request, whole: its parts add up to its total.
    middle = sorted(rows, key=lambda r: r["total"])[len(rows) // 2]
    return {
        **{k: round(middle[k], 1) for k in ("total", "sql", "template", "other")},
        "queries": middle["queries"],
        "query_list": middle["query_list"],
    }


def limit_of(row: dict) -> str:
    """The largest share of the page's time."""
    parts = {"queries": row["sql"], "template": row["template"], "middleware/view": row["other"]}
    return max(parts, key=parts.__getitem__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a seeded bench database")
    parser.add_argument("--page", help="a page name from bench/pages.py")
    parser.add_argument("--summary", action="store_true", help="every page, one line each")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    if not (args.page or args.summary):
        parser.error("give --page NAME or --summary")
    _setup(args.db)
    from bench.pages import PAGES, selected_pages

    sessions, paths = _context()
    if args.summary:
        print("| page | queries | median ms | SQL ms | template ms | other ms | limited by |")
        print("|---|---|---|---|---|---|---|")
        for name, user, path in PAGES:
            row = measure(_client_for(sessions[user]), path(paths), args.repeat)
            print(
                f"| {name} | {row['queries']} | {row['total']} | {row['sql']} | "
                f"{row['template']} | {row['other']} | {limit_of(row)} |",
                flush=True,
            )
        return
    ((name, user, path),) = selected_pages(args.page)
    client = _client_for(sessions[user])
    row = measure(client, path(paths), args.repeat)
    print(f"{name} ({path(paths)}): {row['queries']} queries; median request {row['total']} ms")
    print(
        f"  SQL {row['sql']} ms, template {row['template']} ms (its own SQL excluded), "
        f"other {row['other']} ms; limited by {limit_of(row)}"
    )
    for spent, sql in row["query_list"]:
        print(f"  {spent * 1000:7.2f} ms  {sql[:160]}")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.repeat):
        client.get(path(paths), secure=True)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
