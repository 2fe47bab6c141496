"""The one way Stepwise answers with a CSV file.

Every export (billing days, the compliance grid, drug-test and director reports) goes
through :func:`csv_response`, so each gets the same three protections:

- cells a spreadsheet would run as a formula (OWASP "CSV injection": text starting with
  ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line feed) are prefixed with a
  single quote, so a patient named ``=HYPERLINK(...)`` is shown, never run;
- the bytes are UTF-8 behind a byte-order mark: without it Excel guesses a Windows code
  page and shows "MuÃ±oz";
- the file is named ``stepwise-<what>-<site code>-<YYYY-MM-DD>.csv``, the date on the
  site's own calendar, in characters no browser or header parser can trip on.

``tests/core/test_csvexport.py`` fails if another module imports ``csv``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone

from . import clock
from .models import Site

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
BOM = "\ufeff"
_UNSAFE = re.compile(r"[^a-z0-9]+")


def csv_cell(value: object) -> object:
    """``value`` as a cell a spreadsheet shows and never evaluates.

    Numbers pass unchanged: ``-3`` is a number, not a formula, and quoting it would turn
    it into text that no longer adds up."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _slug(value: str) -> str:
    return _UNSAFE.sub("-", value.lower()).strip("-") or "export"


def export_filename(
    *, what: str, site: Site | None, scope: str = "all-sites", now: datetime | None = None
) -> str:
    """``stepwise-<what>-<site code>-<date>.csv``: the date on the site's calendar, or,
    for an export over several sites (``scope`` names it), on the viewer's."""
    moment = clock.now(now)
    day = clock.site_today(site, moment) if site is not None else timezone.localdate(moment)
    code = site.code if site is not None else scope
    return f"stepwise-{_slug(what)}-{_slug(code)}-{day.isoformat()}.csv"


def csv_response(
    *,
    what: str,
    site: Site | None,
    rows: Iterable[Sequence[object]],
    header: Sequence[str] | None = None,
    scope: str = "all-sites",
    now: datetime | None = None,
) -> HttpResponse:
    """An attachment holding ``header`` (if given) then ``rows``, every cell escaped."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = export_filename(what=what, site=site, scope=scope, now=now)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write(BOM)
    writer = csv.writer(response)
    if header is not None:
        writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return response
