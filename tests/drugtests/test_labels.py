"""Specimen labels: the id as a Code 128 barcode that decodes to exactly that id, the id
in text, nothing that names treatment; labels printed before collection carry an id of
their own that the collection accepts only for its test."""

from __future__ import annotations

import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from pypdf import PdfReader

from core.models import AuditEvent
from drugtests.label_ids import label_id, looks_like_label_id, selection_pk_of
from drugtests.labels import LABEL_HEIGHT, LABEL_WIDTH, Label, labels_pdf
from drugtests.models import TestingPolicy
from drugtests.services.collection import specimen_collect
from drugtests.services.random_draw import draw_run

pytestmark = pytest.mark.django_db

# A label printer's resolution (8 dots per mm): the bars must decode at it.
PRINTER_DPI = 203
# Words a label must never show: the clinic, the program, the test, the panel.
TREATMENT_WORDS = (
    "recovery",
    "clinic",
    "treatment",
    "drug",
    "test",
    "opioid",
    "cocaine",
    "fentanyl",
    "buprenorphine",
    "northside",
    "substance",
)


def _bars(pdf: bytes, page: int = 0) -> list[tuple[float, float]]:
    """The filled rectangles (x, width) the page draws: the barcode's bars, as printed."""
    content = PdfReader(io.BytesIO(pdf)).pages[page].get_contents().get_data().decode("latin-1")
    found = re.findall(r"n ([\d.]+) [\d.]+ ([\d.]+) [\d.]+ re f\*", content)
    return [(float(x), float(w)) for x, w in found]


def _decode(pdf: bytes, page: int = 0) -> list[str]:
    """Rasterise the page's bars at the printer's resolution and read them back."""
    import zxingcpp
    from PIL import Image, ImageDraw

    scale = PRINTER_DPI / 72
    bars = _bars(pdf, page)
    width = int(LABEL_WIDTH * scale)
    image = Image.new("L", (width, 80), 255)
    draw = ImageDraw.Draw(image)
    for x, w in bars:
        draw.rectangle([round(x * scale), 0, round((x + w) * scale) - 1, 79], fill=0)
    return [found.text for found in zxingcpp.read_barcodes(image)]


def _text(pdf: bytes, page: int = 0) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[page].extract_text()


def test_label_ids_carry_a_check_digit():
    assert label_id(1234) == "SW-0001234-4"
    assert selection_pk_of("SW-0001234-4") == 1234
    assert selection_pk_of(" SW-0001234-4 ") == 1234
    assert label_id(123456789) == "SW-123456789-7"
    assert selection_pk_of(label_id(123456789)) == 123456789
    # Any one digit mistyped fails the check.
    for i in range(3, 10):
        for digit in "0123456789":
            typo = "SW-0001234-4"[:i] + digit + "SW-0001234-4"[i + 1 :]
            if typo != "SW-0001234-4":
                assert selection_pk_of(typo) is None, typo
    assert not looks_like_label_id("COC-2026-0001") and not looks_like_label_id("SW-12-3")


@pytest.mark.parametrize("specimen_id", ["SW-0001234-4", "COC-2026-0001", "4471902385"])
def test_the_barcode_decodes_to_exactly_the_id_and_the_text_shows_it(specimen_id):
    from datetime import date

    label = Label(
        specimen_id=specimen_id,
        name="OWNER, ROBIN",
        born=date(1990, 5, 17),
        when="Date Wed Nov 18, 2026",
        specimen_type="Urine",
    )
    pdf = labels_pdf([label])
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (
        round(LABEL_WIDTH),
        round(LABEL_HEIGHT),
    )
    assert _decode(pdf) == [specimen_id]
    text = _text(pdf)
    assert specimen_id in text and "OWNER, ROBIN" in text and "DOB 1990-05-17" in text


def test_an_id_code_128_cannot_carry_prints_as_text_alone():
    from datetime import date

    label = Label("CÓC-Ñ1", "OWNER, ROBIN", date(1990, 5, 17), "Date Wed Nov 18, 2026", "Urine")
    pdf = labels_pdf([label])
    assert _bars(pdf) == [] and "CÓC-Ñ1" in _text(pdf) and "No barcode" in _text(pdf)


@pytest.fixture
def every_day(site):
    return TestingPolicy.objects.create(
        site=site,
        name="Every day",
        frequency=7,
        period="week",
        collection_days="0123456",
        panel=["buprenorphine", "fentanyl", "cocaine"],
    )


@pytest.fixture
def drawn(make_patient, every_day, site, pinned_clock):
    """Three patients drawn this morning (09:00 site time): their pending selections."""
    patients = [make_patient(first=f"Lab{n}", last=f"Label{n}") for n in range(3)]
    draw_run(site=site, now=pinned_clock)
    return [p.test_selections.get() for p in patients]


def _collect(collector, selection, coc, now):
    return specimen_collect(
        actor=collector,
        selection=selection,
        chain_of_custody_id=coc,
        method="poc",
        observed=True,
        temperature_in_range=True,
        validity="valid",
        now=now,
    )


def test_the_morning_labels_one_page_per_test_to_collect(
    client, collector, drawn, site, pinned_clock, django_assert_max_num_queries
):
    from datetime import timedelta

    _collect(collector, drawn[0], "COC-LAB-1", pinned_clock + timedelta(minutes=5))
    client.force_login(collector)
    url = f"{reverse('drugtests:labels')}?site={site.pk}"
    client.get(url)
    # Session, user and sites, the audit row, and one query for the labels however many.
    with django_assert_max_num_queries(11):
        response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    pending = drawn[1:]  # the first is collected already
    assert len(PdfReader(io.BytesIO(pdf)).pages) == len(pending)
    for page, selection in enumerate(pending):
        assert _decode(pdf, page) == [label_id(selection.pk)]
        text = _text(pdf, page)
        assert label_id(selection.pk) in text and selection.patient.legal_last_name.upper() in text
        assert "Urine" in text
        assert not [w for w in TREATMENT_WORDS if w in text.lower()], text
    row = AuditEvent.objects.filter(action="drugtests.labels_printed").last()
    assert row.actor == collector and row.detail["selections"] == [s.pk for s in pending]


def test_a_collected_specimens_label_carries_its_recorded_id(
    client, collector, drawn, pinned_clock
):
    from datetime import timedelta

    selection = drawn[0]
    _collect(collector, selection, "COC-2026-0042", pinned_clock + timedelta(minutes=5))
    client.force_login(collector)
    response = client.get(reverse("drugtests:label", args=[selection.pk]))
    assert response.status_code == 200
    assert _decode(response.content) == ["COC-2026-0042"]
    assert "Collected" in _text(response.content)
    assert AuditEvent.objects.get(action="drugtests.label_printed").detail == {
        "specimen_id": "COC-2026-0042"
    }


def test_the_collection_page_names_the_tests_label_and_the_today_list_links_labels(
    client, collector, drawn
):
    client.force_login(collector)
    page = client.get(reverse("drugtests:collect", args=[drawn[0].pk])).content.decode()
    assert label_id(drawn[0].pk) in page
    assert reverse("drugtests:label", args=[drawn[0].pk]) in page
    today = client.get(reverse("drugtests:today")).content.decode()
    assert reverse("drugtests:labels") in today and "Print labels for the 3 tests" in today


def test_roles_that_do_not_collect_print_no_labels(client, counselor, drawn):
    client.force_login(counselor)
    assert client.get(reverse("drugtests:label", args=[drawn[0].pk])).status_code == 403
    assert client.get(reverse("drugtests:labels")).status_code == 403


def test_a_test_no_longer_pending_without_a_specimen_has_no_label(client, collector, drawn):
    from drugtests.services.collection import selection_refuse

    selection_refuse(actor=collector, selection=drawn[0])
    client.force_login(collector)
    response = client.get(reverse("drugtests:label", args=[drawn[0].pk]))
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="drugtests.label_printed").exists()


def test_collection_takes_the_tests_own_label_only(collector, drawn, pinned_clock):
    from datetime import timedelta

    first, second, _ = drawn
    later = pinned_clock + timedelta(minutes=5)
    with pytest.raises(ValidationError) as exc:
        _collect(collector, first, label_id(second.pk), later)
    assert "printed for another test" in exc.value.message_dict["chain_of_custody_id"][0]
    typo = label_id(first.pk)[:-1] + str((int(label_id(first.pk)[-1]) + 1) % 10)
    with pytest.raises(ValidationError) as exc:
        _collect(collector, first, typo, later)
    assert "check digit" in exc.value.message_dict["chain_of_custody_id"][0]
    specimen = _collect(collector, first, label_id(first.pk), later)
    assert specimen.chain_of_custody_id == label_id(first.pk)
    # A lab's own custody form id is taken as before.
    assert _collect(collector, second, "COC-77", later).chain_of_custody_id == "COC-77"
