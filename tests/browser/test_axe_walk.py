"""axe-core over every page the URLconf exposes, for every role, at desktop and phone
sizes, on the demo clinic (issue 21).

How the walk is shaped, and why (it must stay short: make test's budget):

- Data: the demo clinic (``core.demo.seed_all``, what ``make run`` seeds), inside this
  test's transaction, rolled back at the end; the clock frozen at the suite's instant.
- Pages: each role (Django's test client, signed in) crawls its pages by links from its
  home page, one URL per view; then the URLconf's routes no link reached are tried with
  path parameters seen in crawled links of the same app (``tests/privacy/urlwalk.py``
  enumerates them). Each view is checked once, by the first role (in ROLES' order) that
  reaches it, plus every role's home page: the same template over another object or for
  another role adds time, not coverage, so a later role's crawl does not open the views
  an earlier one has. Signed out: the login and password-reset pages. Only full HTML
  documents are checked (an htmx fragment is checked inside the page that loads it).
- Browser: no live server (it would need the seed committed). One chromium, one context
  per role. Pages load from a loopback origin whose /static/ is a small file server in a
  thread (the project's static folder); every other request goes to ``context.route``,
  which answers it in-process with that role's test client inside the seeded
  transaction (the documents the crawl fetched from its cache). Same origin for both, so
  the CSP's 'self' holds. Only GETs reach the app: a page's own background POST (the
  session keep-alive) is answered 204 without running.
- axe: injected into every document as an init script (no request; the CSP does not
  apply to it). WCAG 2.0 and 2.1, A and AA (the issue's standard), at 1280x800; then the
  viewport is resized to 390x844 and axe runs again on the same loaded page (no reload).
  Serious and critical findings fail the test, listed by rule, page, role, size and
  selector.

The figures (pages per role, sizes, findings by rule, seconds) are printed (``-s``).
Measured on 2026-11-28 on the shared 2-core machine under a load average of about 7
(other test runs; an idle machine was not available): 126 pages (director 98, counselor
6, nurse 3, front desk 1, collector 1, patient 15, signed out 2), each at both sizes;
188 s wall for the test's body (seeding 71, crawl 21, browser 95: loading 37, axe at
desktop size 26, at phone size 26), 192 s for pytest with the browser's launch and the
test database; 32 CPU seconds in this process and 92 in Playwright and chromium. The
seed alone takes 17 s on the idle machine (the hostile walk's figures). Not checked:
the backup-codes page (a director with two-step verification set up), the password
reset form (a token link) and the forms some POST routes show only in states the demo
lacks; the other routes no role gets a page from are POST-only or downloads (printed).
The first run, before the fixes of issue 21: 20 serious findings (page x size) on 12
views: color-contrast 10 (50 nodes: outline-warning buttons on the review queue, a
recovery patient and the chart; the session cancel button; inline code on a held lab
message's row), scrollable-region-focusable 10 (the drug-test report at both sizes; at
phone size the draw, fairness, lab message, outbox, access log, recovery patient,
attendance report and billing tables). After: none, of any impact.
"""

from __future__ import annotations

import mimetypes
import os
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from core.access import may_open
from tests.hostile.walker import PageParser, content_of, is_html
from tests.privacy.urlwalk import iter_routes

pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.xdist_group("axe-walk")]

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
# Role -> the demo's account. Front desk is not in the list, but its home and the
# views only it reaches cost a few pages.
ROLES = {
    "director": "director",
    "counselor": "counselor",
    "nurse": "nurse",
    "frontdesk": "frontdesk",
    "collector": "collector",
    "patient": "patient1",
    # Signed out: the login and password-reset pages.
    "anonymous": None,
}
START: dict[str, list[str]] = {"anonymous": ["/accounts/login/"]}
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
# Signing out would end a role's walk; the admin is Django's; a colleague's MFA reset
# ends their sessions (and is a form, not a page to read).
SKIP = ("/admin/", "/accounts/logout/", "/static/", "/healthz", "/privacy/mfa-reset/")


@dataclass
class Finding:
    rule: str
    impact: str
    view: str
    url: str
    role: str
    size: str
    targets: list[str]

    def line(self) -> str:
        shown = ", ".join(self.targets[:3]) + (" ..." if len(self.targets) > 3 else "")
        return (
            f"{self.rule} ({self.impact}): {self.url} [{self.view}] role={self.role} "
            f"size={self.size} nodes={len(self.targets)}: {shown}"
        )


def view_of(url: str) -> str | None:
    try:
        return resolve(urlsplit(url).path).view_name
    except Resolver404:
        return None


def is_document(response: Any, body: bytes) -> bool:
    return response.status_code == 200 and is_html(response) and b"<html" in body[:400].lower()


class Crawler:
    """One URL per view, by links, for one role; full documents kept for the browser."""

    def __init__(self, client: Client, known: set[str], user: Any = None) -> None:
        self.client = client
        self.user = user
        self.offered_refused: set[tuple[str, str]] = set()  # (page, link) the role's rule refuses
        self.known = known  # views an earlier role has: not opened again, home aside
        self.documents: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.views: dict[str, str] = {}  # view -> the first URL of it that was a document
        self.links: set[str] = set()

    def get(self, url: str) -> tuple[Any, bytes]:
        sid = connection.savepoint()
        response = self.client.get(url)
        body = content_of(response)
        if response.status_code >= 500:
            connection.savepoint_rollback(sid)
            connection.needs_rollback = False
        else:
            connection.savepoint_commit(sid)
        return response, body

    def local(self, url: str) -> str | None:
        parts = urlsplit(url)
        if parts.netloc not in ("", "testserver") or not parts.path.startswith("/"):
            return None
        if any(parts.path.startswith(p) for p in SKIP):
            return None
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def crawl(self, starts: list[str]) -> None:
        queue, seen = list(starts), set(starts)
        done: set[str] = set()
        # Another URL of a view may be a page where one was not (a redirect, a 404), but a
        # download is a download: at most three tries (a PDF label per specimen adds up).
        tries: Counter[str] = Counter()
        while queue:
            url = queue.pop(0)
            view = view_of(url)
            if view is None or view in done or tries[view] >= 3:
                continue
            if view in self.known and url not in starts:
                continue
            tries[view] += 1
            response, body = self.get(url)
            if not is_document(response, body):
                continue
            done.add(view)
            self.keep(view, url, response, body)
            parser = PageParser(url)
            parser.feed(body.decode("utf-8", "replace"))
            for link in parser.links:
                target = self.local(link)
                if target:
                    self.links.add(target)
                    linked = view_of(target)
                    if self.user is not None and linked and not may_open(self.user, linked):
                        self.offered_refused.add((url, target))
                if target and target not in seen:
                    seen.add(target)
                    queue.append(target)

    def keep(self, view: str, url: str, response: Any, body: bytes) -> None:
        self.views.setdefault(view, url)
        headers = {k: v for k, v in response.items() if k.lower() != "content-length"}
        self.documents[url] = (response.status_code, headers, body)


def fill_unlinked(crawlers: dict[str, Crawler]) -> None:
    """The routes no crawl reached, for the first role that gets a page from them, their
    parameters taken from links seen in the same app (a few tried)."""
    seen: dict[tuple[str, str], set[Any]] = defaultdict(set)
    for crawler in crawlers.values():
        for url in crawler.links | set(crawler.documents):
            try:
                match = resolve(urlsplit(url).path)
            except Resolver404:
                continue
            for key, value in match.kwargs.items():
                seen[(match.view_name.split(":")[0], key)].add(value)
    reached = {view for c in crawlers.values() for view in c.views}
    for route in iter_routes():
        if route.name in reached or route.name.startswith("admin:"):
            continue
        app = route.name.split(":")[0]
        candidates = [sorted(seen.get((app, k), ()), key=str)[:4] for k in route.kwargs]
        if not all(candidates):
            continue
        urls = []
        for i in range(max((len(c) for c in candidates), default=1)):
            kwargs = {k: c[i % len(c)] for k, c in zip(route.kwargs, candidates, strict=True)}
            try:
                urls.append(reverse(route.name, kwargs=kwargs))
            except NoReverseMatch:
                continue
        urls = [u for u in dict.fromkeys(urls) if not any(u.startswith(p) for p in SKIP)]
        for crawler in crawlers.values():
            found = False
            for url in urls:
                response, body = crawler.get(url)
                if response.status_code in (403, 405) or "/accounts/login/" in response.get(
                    "Location", ""
                ):
                    break
                if is_document(response, body):
                    crawler.keep(route.name, url, response, body)
                    found = True
                    break
            if found:
                break


class Server:
    """Answers the browser's requests of one role, in-process."""

    def __init__(self, crawler: Crawler, origin: str) -> None:
        self.crawler = crawler
        self.origin = origin
        self.static: dict[str, tuple[bytes, str]] = {}
        self.requests = 0

    def handle(self, route: Any) -> None:
        request = route.request
        parts = urlsplit(request.url)
        self.requests += 1
        if parts.netloc not in ("testserver", urlsplit(self.origin).netloc):
            route.abort()
            return
        if parts.path.startswith("/static/"):
            found = self.static_file(parts.path.removeprefix("/static/"))
            if found is None:
                route.fulfill(status=404, body="")
            else:
                body, kind = found
                route.fulfill(status=200, body=body, headers={"Content-Type": kind})
            return
        url = parts.path + (f"?{parts.query}" if parts.query else "")
        cached = self.crawler.documents.get(url)
        if cached is not None and request.resource_type == "document":
            status, headers, body = cached
            route.fulfill(status=status, headers=headers, body=body)
            return
        if request.method != "GET":
            route.fulfill(status=204, body="")
            return
        headers = {}
        for name in ("HX-Request", "HX-Target", "HX-Trigger", "HX-Current-URL"):
            value = request.headers.get(name.lower())
            if value is not None:
                headers[name] = value
        sid = connection.savepoint()
        response = self.crawler.client.get(url, headers=headers)
        body = content_of(response)
        if response.status_code >= 500:
            connection.savepoint_rollback(sid)
            connection.needs_rollback = False
        else:
            connection.savepoint_commit(sid)
        out = {k: v for k, v in response.items() if k.lower() != "content-length"}
        route.fulfill(status=response.status_code, headers=out, body=body)

    def static_file(self, path: str) -> tuple[bytes, str] | None:
        if path not in self.static:
            found = finders.find(path)
            if not found:
                return None
            kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
            self.static[path] = (Path(found).read_bytes(), kind)
        return self.static[path]


AXE_PATH = str(Path(__file__).resolve().parents[2] / "static/vendor/axe/axe.min.js")


class StaticFiles(SimpleHTTPRequestHandler):
    """/static/<path> from the project's static folder (STATICFILES_DIRS)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(STATIC_DIR), **kwargs)

    def translate_path(self, path: str) -> str:
        return super().translate_path(path.removeprefix("/static"))

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def static_server() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StaticFiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


SETTLE = """async () => {
  // htmx's load-triggered requests and their swaps, then two frames for layout.
  for (let i = 0; i < 50 && document.querySelector('.htmx-request'); i++) {
    await new Promise(r => setTimeout(r, 20));
  }
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
}"""
AXE = """async (tags) => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                     resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact,
                                 targets: v.nodes.map(n => n.target.join(' '))}));
}"""


def check(
    page: Any, origin: str, url: str, view: str, role: str, phases: Counter[str]
) -> tuple[list[Finding], Counter[str]]:
    findings: list[Finding] = []
    every: Counter[str] = Counter()  # every rule and impact, for the figures
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        phases[name] += now - clock
        clock = now

    page.set_viewport_size(dict(zip(("width", "height"), SIZES["desktop"], strict=True)))
    page.goto(f"{origin}{url}", wait_until="load")
    page.evaluate(SETTLE)
    lap("load")
    for size, (width, height) in SIZES.items():
        if size != "desktop":
            page.set_viewport_size({"width": width, "height": height})
            page.evaluate(SETTLE)
        for v in page.evaluate(AXE, TAGS):
            every[f"{v['id']} ({v['impact']})"] += 1
            if v["impact"] in BLOCKING:
                findings.append(Finding(v["id"], v["impact"], view, url, role, size, v["targets"]))
        lap(f"axe {size}")
    return findings, every


def browser_cpu_seconds() -> float:
    """CPU seconds of this process's descendants (the Playwright driver, chromium and its
    renderers, the exited ones counted by their parents), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    times: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    mine, total = {os.getpid()}, 0
    changed = True
    while changed:
        changed = False
        for pid, ppid in parent.items():
            if ppid in mine and pid not in mine:
                mine.add(pid)
                total += times[pid]
                changed = True
    return total / ticks


def test_axe_finds_nothing_serious_on_any_page_of_any_role(browser):
    from core.demo import seed_all
    from core.models import User

    started = time.perf_counter()
    cpu_started = time.process_time()
    browser_cpu_started = browser_cpu_seconds()
    seed_all("axe-walk-demo-password")
    # What the demo lacks: a court letter and a batch of them (their pages), made as the
    # hostile walk makes them; the director's crawl starts there too.
    from tests.hostile.test_hostile_input import _add_letters_states

    START["director"] = ["/", *_add_letters_states(User.objects.get(username="counselor"))]
    seeded = time.perf_counter() - started

    # Each view once, by the first role that reaches it (a later role does not open the
    # views an earlier one has: the same template, fewer requests); every role's home.
    crawlers: dict[str, Crawler] = {}
    known: set[str] = {"home"}
    for role, username in ROLES.items():
        client = Client(raise_request_exception=False)
        user = User.objects.get(username=username) if username is not None else None
        if user is not None:
            client.force_login(user)
        crawlers[role] = Crawler(client, known, user)
        crawlers[role].crawl(START.get(role, ["/"]))
        known |= set(crawlers[role].views)
    fill_unlinked(crawlers)
    crawled = time.perf_counter() - started
    plan = {role: list(crawler.views.items()) for role, crawler in crawlers.items()}

    statics = static_server()
    origin = f"http://127.0.0.1:{statics.server_address[1]}"
    findings: list[Finding] = []
    every: Counter[str] = Counter()
    phases: Counter[str] = Counter()
    timings: dict[str, float] = {}
    requests = 0
    for role, pages in plan.items():
        server = Server(crawlers[role], origin)
        context = browser.new_context()
        # Everything but the static files (served by the thread below, over loopback:
        # handing each page's 400 kB of Bootstrap and htmx through Playwright's pipe
        # cost more than the pages).
        context.route(re.compile(rf"^(?!{re.escape(origin)}/static/)"), server.handle)
        # axe in every document before its own scripts (no request, and the CSP, which
        # forbids inline scripts, does not apply to what the browser is told to run).
        context.add_init_script(path=AXE_PATH)
        page = context.new_page()
        for view, url in pages:
            before = time.perf_counter()
            found, seen = check(page, origin, url, view, role, phases)
            timings[f"{role} {url}"] = time.perf_counter() - before
            findings += found
            every += seen
        context.close()
        requests += server.requests
    statics.shutdown()
    statics.server_close()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    browser_cpu = browser_cpu_seconds() - browser_cpu_started

    checked = {view for pages in plan.values() for view, _ in pages}
    unreached = sorted(
        r.name for r in iter_routes() if r.name not in checked and not r.name.startswith("admin:")
    )
    print("\naxe walk (WCAG 2.0/2.1 A and AA):")
    print(
        f"  seconds: {elapsed:.1f} total; seeding {seeded:.1f}, crawl {crawled - seeded:.1f}, "
        f"browser {elapsed - crawled:.1f} ("
        + ", ".join(f"{k} {v:.1f}" for k, v in phases.items())
        + ")"
    )
    print(f"  CPU seconds: this process {cpu:.1f}, Playwright and chromium {browser_cpu:.1f}")
    print("  slowest pages: " + ", ".join(
        f"{key} {seconds:.2f} s"
        for key, seconds in sorted(timings.items(), key=lambda kv: -kv[1])[:5]
    ))  # fmt: skip
    print(f"  sizes: {', '.join(f'{k} {w}x{h}' for k, (w, h) in SIZES.items())}")
    print(f"  pages checked: {sum(len(p) for p in plan.values())} (one per view)")
    for role, pages in plan.items():
        print(f"    {role}: {len(pages)}")
    print(f"  browser requests answered in-process: {requests}")
    print(f"  routes with no page checked (POST-only, downloads, or no page for any role): "
          f"{len(unreached)}: {', '.join(unreached)}")  # fmt: skip
    print("  violations, any impact, by rule (pages x sizes):")
    for key, n in sorted(every.items()):
        print(f"    {key}: {n}")
    lines = sorted({f.line() for f in findings})
    print(f"  serious or critical: {len(findings)}")
    for line in lines:
        print(f"    {line}")
    # Issue 21 too: a link the page offers its role, to a view whose rule refuses the role.
    refused = sorted(
        f"{role}: {page} links {link}"
        for role, crawler in crawlers.items()
        for page, link in crawler.offered_refused
    )
    print(f"  links offered to a role its view refuses (403): {len(refused)}")
    for line in refused:
        print(f"    {line}")
    assert not findings, "axe found serious or critical violations:\n" + "\n".join(lines)
    assert not refused, "links offered that answer 403:\n" + "\n".join(refused)
