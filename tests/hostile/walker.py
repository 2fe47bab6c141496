"""The machinery of the hostile-input walk (tests/hostile/test_hostile_input.py says why
it is shaped this way): parse pages, crawl, fill forms, mutate one field at a time, post,
and keep every finding with its URL, field and kind."""

from __future__ import annotations

import inspect
import re
import sys
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from django import forms as django_forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import got_request_exception
from django.db import connection
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import timezone

from tests.privacy.urlwalk import iter_routes

# --- the hostile values ---------------------------------------------------------------

MARK = "hw7walker"
SCRIPT = f"<script>{MARK}()</script>\"'><img src=x onerror={MARK}()>"
# What must never come back unescaped in an HTML page.
RAW_MARKERS = [f"<script>{MARK}".encode(), f"<img src=x onerror={MARK}".encode()]

TEXT_KINDS = {
    "script": SCRIPT,
    "sql": "' OR '1'='1'; DROP TABLE core_user; --",
    "long": "A" * 100_000,
    "nul": "walker\x00nul",
    "emoji-rtl": "😀🧪👩🏽‍⚕️ \u202eעברית العربية\u202c",
}
NUMBER_KINDS = {"negative": "-1", "huge": "99999999999999999999999999"}
DATE_KINDS = {"2026-02-30": "2026-02-30", "0001-01-01": "0001-01-01", "9999-12-31": "9999-12-31"}
# The same three instants in the shapes a time or a date-and-time field takes.
DATETIME_KINDS = {"2026-02-30": "2026-02-30T10:00", "0001-01-01": "0001-01-01T00:00"}
DATETIME_KINDS["9999-12-31"] = "9999-12-31T23:59"
TIME_KINDS = {"2026-02-30": "25:61", "0001-01-01": "00:00", "9999-12-31": "23:59"}
FOREIGN = "other-org-id"
FILE_KINDS = ("exe-as-pdf", "elf-as-jpg", "script-filename")
ALL_FIELD_KINDS = ("script", "long", "nul", "emoji-rtl")
KINDS = [*TEXT_KINDS, *NUMBER_KINDS, *DATE_KINDS, FOREIGN, *FILE_KINDS]

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00>\x00\x01\x00\x00\x00" + b"\x00" * 40


def hostile_file(kind: str) -> SimpleUploadedFile:
    if kind == "exe-as-pdf":
        return SimpleUploadedFile("homework.pdf", MZ, content_type="application/pdf")
    if kind == "elf-as-jpg":
        return SimpleUploadedFile("photo.jpg", ELF, content_type="image/jpeg")
    if kind == "script-filename":
        return SimpleUploadedFile(f"{SCRIPT}.pdf", PDF, content_type="application/pdf")
    return SimpleUploadedFile("walker.pdf", PDF, content_type="application/pdf")


# --- pages and their forms ------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # input type, "select", "textarea", "checkbox", "radio", "submit"
    value: str = ""
    options: list[str] = field(default_factory=list)
    chosen: list[str] = field(default_factory=list)
    multiple: bool = False


@dataclass
class Form:
    page: str
    action: str  # absolute path with query, resolved against the page
    method: str
    htmx: bool
    fields: dict[str, Field] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return urlsplit(self.action).path


class PageParser(HTMLParser):
    """Links and forms (inputs, selects, textareas, named submit buttons) of one page."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._option: tuple[str | None, bool] | None = None
        self._option_text = ""
        self._textarea: Field | None = None

    def _add(self, f: Field) -> None:
        assert self._form is not None
        known = self._form.fields.get(f.name)
        if known is None:
            self._form.fields[f.name] = f
        else:  # a checkbox group, radios, or submit buttons sharing one name
            known.options += f.options
            known.chosen += f.chosen
            known.multiple = known.multiple or f.kind == "checkbox"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.page, a["href"]))
        elif tag == "form":
            action = a.get("action") or a.get("hx-post") or self.page
            self._form = Form(
                page=self.page,
                action=urljoin(self.page, action),
                method="post" if "hx-post" in a else (a.get("method") or "get").lower(),
                htmx="hx-post" in a,
            )
        elif self._form is None or not a.get("name") and tag != "option":
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("button", "reset", "image"):
                return
            if kind in ("checkbox", "radio", "submit"):
                value = a.get("value", "on")
                chosen = [value] if "checked" in a else []
                self._add(Field(a["name"], kind, options=[value], chosen=chosen))
            else:
                self._add(Field(a["name"], kind, value=a.get("value", "")))
        elif tag == "button" and (a.get("type") or "submit") == "submit":
            self._add(Field(a["name"], "submit", options=[a.get("value", "")]))
        elif tag == "select":
            self._select = Field(a["name"], "select", multiple="multiple" in a)
        elif tag == "option" and self._select is not None:
            self._option = (a.get("value"), "selected" in a)
            self._option_text = ""
        elif tag == "textarea":
            self._textarea = Field(a["name"], "textarea")

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data
        if self._option is not None:
            self._option_text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._option is not None and self._select is not None:
            value, selected = self._option
            value = self._option_text.strip() if value is None else value
            self._select.options.append(value)
            if selected:
                self._select.chosen.append(value)
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            self._add(self._select)
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._textarea.value = self._textarea.value.removeprefix("\n")
            self._add(self._textarea)
            self._textarea = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


CHOICE_KINDS = ("select", "radio", "checkbox", "submit")

# --- a valid baseline for each field ---------------------------------------------------

DATEISH = re.compile(r"date|(^|_)(on|day|week|due|start|end|from|to|until|at|when|time)$")


def is_dateish(f: Field) -> bool:
    return f.kind in ("date", "datetime-local", "time") or bool(DATEISH.search(f.name))


def baseline_value(f: Field) -> list[str]:
    today = timezone.localdate()
    if f.kind in ("checkbox",):
        return list(f.chosen)
    if f.kind in ("radio", "select", "submit"):
        # A required choice shows its empty option selected: pick a real one instead.
        chosen = [c for c in f.chosen if c != ""]
        if chosen:
            return chosen if f.multiple else chosen[:1]
        first = [o for o in f.options if o != ""][:1]
        return first if (f.kind != "select" or not f.multiple) else []
    if f.value:
        return [f.value]
    if f.kind == "hidden":
        return [""]
    name = f.name.lower()
    if "birth" in name or name == "dob":
        return ["1990-05-17"]
    if f.kind == "date" or (f.kind == "text" and "date" in name):
        return [today.isoformat()]
    if f.kind == "datetime-local":
        return [f"{today.isoformat()}T10:00"]
    if f.kind == "time":
        return ["10:00"]
    if f.kind == "number" or "minutes" in name:
        return ["1"]
    if f.kind == "email" or "email" in name:
        return ["walker@example.org"]
    if f.kind == "tel" or "phone" in name:
        return ["(518) 555-0142"]
    if "zip" in name or "postal" in name:
        return ["12207"]
    if "password" in name or f.kind == "password":
        return ["not-the-password"]
    if f.kind == "textarea":
        return ["A note typed by the walker."]
    return ["Walker"]


def baseline(form: Form) -> tuple[dict[str, list[str]], dict[str, SimpleUploadedFile]]:
    data: dict[str, list[str]] = {}
    files: dict[str, SimpleUploadedFile] = {}
    for f in form.fields.values():
        if f.kind == "file":
            files[f.name] = hostile_file("valid")
        else:
            data[f.name] = baseline_value(f)
    return data, files


# In a thinned walk every field still gets another organisation's id when it fits (it
# tests the access check of the field that holds it), and every free-text field a script
# tag (it may be saved while the other fields stay valid, then shown on a later page; a
# choice, date, number or hidden field refuses it, and its error shows in the every-field
# variants).
NOT_FREE_TEXT = (*CHOICE_KINDS, "hidden", "number", "date", "datetime-local", "time", "file")


def mutations(
    form: Form, foreign_ids: dict[str, int], *, thin: bool = False
) -> list[tuple[str, str, dict[str, list[str]], dict[str, SimpleUploadedFile]]]:
    """(field, kind, data, files): one field at a time with each kind that fits it, then
    every field at once with a few kinds.

    ``thin``: each field gets only the kinds said above NOT_FREE_TEXT, and each other
    kind that fits some field of the form goes to one of them (the one with the fewest so
    far, in field order), so every kind that fits the form is still posted in it once.
    The every-field variants put the text kinds into all fields together anyway."""
    base_data, base_files = baseline(form)
    fitting: dict[str, dict[str, Any]] = {}  # field -> kind -> value ("" for a file kind)
    for f in form.fields.values():
        if f.name in ("csrfmiddlewaretoken",):
            continue
        if f.kind == "file":
            fitting[f.name] = dict.fromkeys(FILE_KINDS, "")
            continue
        values: dict[str, Any] = dict(kinds_for(f, base_data.get(f.name) or [""]))
        if (base_data.get(f.name) or [""])[0].isdigit() or (
            f.kind in CHOICE and any(o.isdigit() for o in f.options)
        ):
            values[FOREIGN] = str(foreign_id_for(f.name, foreign_ids))
        fitting[f.name] = values
    chosen = {name: list(values) for name, values in fitting.items()}
    if thin:
        free_text = {f.name for f in form.fields.values() if f.kind not in NOT_FREE_TEXT}
        chosen = {
            name: [k for k in values if k == FOREIGN or k == "script" and name in free_text]
            for name, values in fitting.items()
        }
        posted = {k for kinds in chosen.values() for k in kinds}
        for kind in dict.fromkeys(k for values in fitting.values() for k in values):
            if kind in posted:
                continue
            takers = [name for name, values in fitting.items() if kind in values]
            name = min(takers, key=lambda n: len(chosen[n]))
            chosen[name].append(kind)
            posted.add(kind)
    out = []
    for name, kinds in chosen.items():
        for kind in kinds:
            if kind in FILE_KINDS:
                files = {**base_files, name: hostile_file(kind)}
                out.append((name, kind, base_data, files))
            else:
                value = fitting[name][kind]
                out.append((name, kind, {**base_data, name: [value]}, dict(base_files)))
    for kind in ALL_FIELD_KINDS:
        data = {
            k: v if k == "csrfmiddlewaretoken" else [TEXT_KINDS[kind]] for k, v in base_data.items()
        }
        out.append(("*", kind, data, {k: hostile_file("exe-as-pdf") for k in base_files}))
    return out


CHOICE = CHOICE_KINDS


def kinds_for(f: Field, current: list[str]) -> dict[str, str]:
    """The kinds worth a request for this field. A choice refuses anything not among its
    options the same way, so it gets the values that reach further (a script tag echoed
    in "not one of the available choices", a NUL or a huge number handed to a query); a
    hidden field gets those and the long text, as views read some of them raw."""
    text = TEXT_KINDS
    if f.kind in CHOICE:
        return {"script": text["script"], "nul": text["nul"], "huge": NUMBER_KINDS["huge"]}
    if f.kind == "hidden":
        return {k: text[k] for k in ("script", "nul", "long")} | NUMBER_KINDS
    if f.kind == "number":
        return {"script": text["script"], "nul": text["nul"]} | NUMBER_KINDS
    if f.kind in ("date", "datetime-local", "time"):
        shaped = {"datetime-local": DATETIME_KINDS, "time": TIME_KINDS}.get(f.kind, DATE_KINDS)
        return {"script": text["script"], "nul": text["nul"]} | shaped
    values = dict(text)
    if current[0].lstrip("-").isdigit() or "minutes" in f.name:
        values.update(NUMBER_KINDS)
    if is_dateish(f):
        values.update(DATE_KINDS)
    return values


def foreign_id_for(name: str, ids: dict[str, int]) -> int:
    """The id of the other organisation's object a field of this name most likely holds."""
    for key, value in ids.items():
        if key in name.lower():
            return value
    return ids["patient"]


# --- findings and the walk's bookkeeping ------------------------------------------------


@dataclass
class Finding:
    problem: str  # "500", "unescaped", "accepted-foreign", "later-get-500", "signed-out"
    role: str
    method: str
    url: str
    view: str
    field: str
    kind: str
    detail: str = ""

    def line(self) -> str:
        return (
            f"{self.problem}: {self.method} {self.url} ({self.view}) field={self.field} "
            f"kind={self.kind} role={self.role} {self.detail}"
        )


@dataclass
class Stats:
    forms: set[tuple[str, str]] = field(default_factory=set)  # (view, field names)
    posts: int = 0
    gets: int = 0
    form_gets: int = 0
    accepted: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    seconds: Counter[str] = field(default_factory=Counter)  # per kind, with the GETs after
    per_role: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    post_views: set[str] = field(default_factory=set)  # POST reached past the access check
    bound_forms: set[type] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)


def view_name(path: str) -> str:
    try:
        return resolve(urlsplit(path).path).view_name
    except Resolver404:
        return "?"


class ExceptionLog:
    """Tracebacks of the requests that raised, read through Django's own signal."""

    def __init__(self) -> None:
        self.last: str = ""

    def __enter__(self) -> ExceptionLog:
        got_request_exception.connect(self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        got_request_exception.disconnect(self._record)

    def _record(self, sender: object, request: object = None, **kwargs: object) -> None:
        kind, value, tb = sys.exc_info()
        if kind is not None:
            # The last frame in the project's own code says where to look.
            ours = [
                f
                for f in traceback.extract_tb(tb)
                if "/site-packages/" not in f.filename and "/lib/python" not in f.filename
            ]
            at = ""
            if ours:
                at = f" at {'/'.join(ours[-1].filename.rsplit('/', 2)[-2:])}:{ours[-1].lineno}"
            self.last = f"{kind.__name__}: {str(value)[:160]}{at}"


class BoundFormLog:
    """Every project form class that was bound to submitted data during the walk."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.original = django_forms.BaseForm.full_clean

    def __enter__(self) -> BoundFormLog:
        original, stats = self.original, self.stats

        def full_clean(form: django_forms.BaseForm) -> None:
            if form.is_bound:
                stats.bound_forms.add(type(form))
            original(form)

        django_forms.BaseForm.full_clean = full_clean  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        django_forms.BaseForm.full_clean = self.original  # type: ignore[method-assign]


# --- requests ---------------------------------------------------------------------------


def content_of(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        # Read to the end: the test client's wrapper then closes the response without
        # closing the database connection (an explicit close() would close it).
        return b"".join(response.streaming_content)
    return bytes(response.content)


def is_html(response: Any) -> bool:
    return "html" in response.get("Content-Type", "")


class Walker:
    """One signed-in client per role, a savepoint around every request (a database error
    outside the view's own atomic block aborts the test's transaction; rolling back to the
    savepoint keeps the rest of the walk meaningful), every response checked."""

    def __init__(self, stats: Stats, errors: ExceptionLog, skip: tuple[str, ...]) -> None:
        self.stats = stats
        self.errors = errors
        self.skip = skip
        self.clients: dict[str, Client] = {}
        self.links: set[str] = set()  # every local link any crawl saw
        self.signed_out: dict[str, str] = {}  # role -> the request that met the login page
        self.last: dict[str, str] = {}  # role -> its last request

    def request(
        self,
        client: Client,
        role: str,
        method: str,
        url: str,
        *,
        data: dict[str, Any] | None = None,
        htmx: bool = False,
        field_name: str = "",
        kind: str = "",
    ) -> tuple[Any, bytes]:
        self.errors.last = ""
        headers = {"HX-Request": "true"} if htmx else {}
        sid = connection.savepoint()
        if method == "post":
            response = client.post(url, data=data or {}, headers=headers)
            self.stats.posts += 1
            self.stats.per_role[role]["posts"] += 1
        else:
            response = client.get(url, data=data, headers=headers)
            self.stats.gets += 1
            self.stats.per_role[role]["gets"] += 1
        body = content_of(response)
        status = response.status_code
        if status >= 500:
            connection.savepoint_rollback(sid)
            connection.needs_rollback = False
        else:
            connection.savepoint_commit(sid)
        match = getattr(response, "resolver_match", None)
        view = match.view_name if match else view_name(url)
        shown = url if len(url) < 160 else url[:157] + "..."
        if status >= 500:
            self.finding("500", role, method, shown, view, field_name, kind, self.errors.last)
        if is_html(response) and any(m in body for m in RAW_MARKERS):
            self.finding("unescaped", role, method, shown, view, field_name, kind)
        if method == "post" and status not in (403, 404, 405) and not self._to_login(response):
            self.stats.post_views.add(view)
        if self._to_login(response) and role not in self.signed_out:
            # The first time a role is sent to the login page, and what it did before.
            self.signed_out[role] = f"{method} {shown}, after {self.last.get(role, '-')}"
            sys.__stderr__.write(f"[hostile walk] {role} signed out: {self.signed_out[role]}\n")
        self.last[role] = f"{method} {shown} field={field_name} kind={kind} -> {status}"
        return response, body

    @staticmethod
    def _to_login(response: Any) -> bool:
        return response.status_code == 302 and "/accounts/login/" in response.get("Location", "")

    def finding(self, problem: str, role: str, *args: str) -> None:
        found = Finding(problem, role, *args)
        self.stats.findings.append(found)
        # Seen while the walk runs (pytest holds stdout until the module ends).
        sys.__stderr__.write(f"[hostile walk] {found.line()}\n")

    def local(self, url: str) -> str | None:
        parts = urlsplit(url)
        if parts.netloc not in ("", "testserver") or not parts.path.startswith("/"):
            return None
        if any(parts.path.startswith(p) for p in self.skip):
            return None
        return parts.path + (f"?{parts.query}" if parts.query else "")

    # --- crawling ---

    def crawl(
        self,
        client: Client,
        role: str,
        starts: list[str],
        per_view: int = 2,
        stale_after: int | None = None,
    ) -> dict[str, list[Form]]:
        """GET every page reachable by links from ``starts``, at most ``per_view`` URLs of
        one view (a week's "previous" link would otherwise lead back forever).

        ``stale_after``: past the first two pages of a view, stop opening more of it once
        that many of its pages showed no form and linked no view not seen before (the same
        template over another object adds time, not coverage)."""
        pages: dict[str, list[Form]] = {}
        seen_per_view: Counter[str] = Counter()
        stale: Counter[str] = Counter()
        known: set[tuple[str, str]] = set()  # form signatures and linked views seen
        queue = list(starts)
        seen = set(queue)
        while queue:
            url = queue.pop(0)
            view = view_name(url)
            if seen_per_view[view] >= per_view:
                continue
            if stale_after and seen_per_view[view] >= 2 and stale[view] >= stale_after:
                continue
            seen_per_view[view] += 1
            response, body = self.request(client, role, "get", url)
            if response.status_code != 200 or not is_html(response):
                continue
            parser = PageParser(url)
            parser.feed(body.decode("utf-8", "replace"))
            pages[url] = [f for f in parser.forms if self.local(f.action)]
            shown = {(view_name(f.action), ",".join(sorted(f.fields))) for f in pages[url]}
            for link in parser.links:
                target = self.local(link)
                if target:
                    self.links.add(target)
                    if stale_after:
                        shown.add((view_name(target), ""))
                if target and target not in seen:
                    seen.add(target)
                    queue.append(target)
            if shown <= known:
                stale[view] += 1
            known |= shown
        return pages

    # --- submitting ---

    def submit(
        self,
        client: Client,
        role: str,
        form: Form,
        data: dict[str, list[str]],
        files: dict[str, SimpleUploadedFile],
        field_name: str,
        kind: str,
        after: list[str],
    ) -> Any:
        url = self.local(form.action)
        assert url is not None
        payload: dict[str, Any] = dict(data)
        for name, upload in files.items():
            upload.seek(0)
            payload[name] = upload
        self.stats.kinds[kind] += 1
        started = time.perf_counter()
        if form.method == "post":
            response, _ = self.request(
                client, role, "post", url, data=payload, htmx=form.htmx,
                field_name=field_name, kind=kind,
            )  # fmt: skip
        else:
            path = urlsplit(url).path
            query = dict(parse_qsl(urlsplit(url).query))
            self.stats.form_gets += 1
            response, _ = self.request(
                client, role, "get", path, data={**query, **data},
                field_name=field_name, kind=kind,
            )  # fmt: skip
        if form.method == "post" and response.status_code == 302:
            # Accepted: what it saved must not break the pages that show it.
            self.stats.accepted += 1
            target = self.local(urljoin(url, response["Location"]))
            for page in dict.fromkeys(([target] if target else []) + after):
                later, _ = self.request(client, role, "get", page)
                if later.status_code >= 500:
                    self.finding(
                        "later-get-500", role, "get", page, view_name(page), field_name,
                        kind, f"after POST {url}",
                    )  # fmt: skip
        self.stats.seconds[kind] += time.perf_counter() - started
        return response


# --- what the URLconf and the apps declare ------------------------------------------------

HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"}


def accepts_post(callback: Any) -> bool:
    """Whether a routed view takes a POST: a class-based view with ``post``, a view behind
    ``require_http_methods`` naming POST, or a function view that reads ``request.POST``."""
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        return hasattr(view_class, "post")
    fn = callback
    while fn is not None:
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if isinstance(value, list) and value and set(value) <= HTTP_METHODS:
                return "POST" in value
        fn = getattr(fn, "__wrapped__", None)
    try:
        source = inspect.getsource(inspect.unwrap(callback))
    except (OSError, TypeError):
        return False
    return "request.POST" in source or "request.FILES" in source


def post_routes(apps: tuple[str, ...]) -> dict[str, Any]:
    return {
        r.name: r
        for r in iter_routes()
        if getattr(r.callback, "__module__", "").split(".")[0] in apps and accepts_post(r.callback)
    }


def project_form_classes(apps: tuple[str, ...]) -> set[type]:
    found: set[type] = set()
    todo = list(django_forms.BaseForm.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in apps:
            found.add(cls)
    return found
