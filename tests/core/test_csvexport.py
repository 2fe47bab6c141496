"""The one CSV export helper: formula cells escaped, UTF-8 with a BOM, and a filename
naming the export, the site and the site's date."""

import csv
import io
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.csvexport import csv_cell, csv_response, export_filename

ROOT = Path(__file__).resolve().parent.parent.parent


def _table(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "\ncmd"],
)
def test_formula_cell_is_escaped_with_a_quote(value):
    assert csv_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Muñoz", "a=b", "", "2026-11-18", " plain"])
def test_ordinary_text_is_left_alone(value):
    assert csv_cell(value) == value


@pytest.mark.parametrize("value", [-3, -2.5, Decimal("-1.5"), 0, True])
def test_numbers_stay_numbers_even_negative(value):
    # A number is not a formula: quoting -3 would turn it into text in the spreadsheet.
    assert csv_cell(value) == value


def test_none_is_an_empty_cell():
    assert csv_cell(None) == ""


def test_response_escapes_formula_cells(site):
    response = csv_response(
        what="test", site=site, header=["name", "n"], rows=[["=1+1", -4], ["@x", 2]]
    )
    assert _table(response) == [["name", "n"], ["'=1+1", "-4"], ["'@x", "2"]]


def test_response_starts_with_a_bom_and_names_utf8(site):
    response = csv_response(what="test", site=site, header=["name"], rows=[["Muñoz"]])
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert _table(response) == [["name"], ["Muñoz"]]


def test_filename_has_the_site_code_and_the_site_date(site, other_site):
    # 10:30 PM in Los Angeles is already the next day in New York and in UTC: each file
    # carries the date on its own site's calendar.
    evening_in_la = datetime(2026, 11, 18, 22, 30, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert export_filename(what="billing-days", site=other_site, now=evening_in_la) == (
        "stepwise-billing-days-west-2026-11-18.csv"
    )
    assert export_filename(what="billing-days", site=site, now=evening_in_la) == (
        "stepwise-billing-days-north-2026-11-19.csv"
    )


@pytest.mark.date_sensitive
def test_filename_uses_the_frozen_clock_by_default(site, test_now):
    response = csv_response(what="billing-days", site=site, header=["a"], rows=[])
    day = test_now.astimezone(site.tz).date().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="stepwise-billing-days-north-{day}.csv"'
    )


def test_filename_without_a_site_names_the_scope(test_now):
    name = export_filename(what="census", site=None, now=test_now)
    assert re.fullmatch(r"stepwise-census-all-sites-\d{4}-\d{2}-\d{2}\.csv", name)
    caseload = export_filename(what="census", site=None, scope="caseload", now=test_now)
    assert caseload.startswith("stepwise-census-caseload-")


def test_filename_drops_characters_a_header_could_be_broken_with(site, test_now):
    site.code = 'a"b;\r\nc'
    name = export_filename(what='re"port/../x', site=site, now=test_now)
    assert re.fullmatch(r"stepwise-[a-z0-9-]+-\d{4}-\d{2}-\d{2}\.csv", name), name


def test_only_the_helper_writes_csv():
    """Every CSV the project answers goes through core.csvexport: a module that writes
    its own would skip the escaping, the BOM or the filename."""
    pattern = re.compile(r"^\s*(import csv\b|from csv import)", re.MULTILINE)
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in {".venv", "tests", "var", "node_modules"} or rel == Path(
            "core/csvexport.py"
        ):
            continue
        if pattern.search(path.read_text(encoding="utf-8")):
            offenders.append(str(rel))
    assert offenders == []


def test_the_helper_is_found_by_the_scan():
    # Guards the scan above against walking the wrong folder and passing on nothing.
    text = (ROOT / "core" / "csvexport.py").read_text(encoding="utf-8")
    assert re.search(r"^import csv\b", text, re.MULTILINE)
