"""Specimen labels: the specimen id as a Code 128 barcode and as text, so that the id the
collector records, the one on the cup and the one the lab sends back are the same.

A label can be printed before collection: each selection has a label id of its own
(``label_ids``), which the collection form fills in; a label printed for another test is
refused at collection (``services.collection``), so a cup cannot carry another patient's
id. A clinic that uses its lab's pre-printed custody forms types that form's id
instead, and prints the label after collection (it then carries that id).

Labels are a PDF, one label per page at the label's size (57 x 32 mm, a common thermal
label): a label printer prints such a page as it is, where the browser's print of an HTML
page adds margins, headers and "fit to page" scaling that can shrink the bars below what a
scanner reads. On this label an id of up to about 19 letters (more digits) keeps bars of
at least 0.0075 inch, the usual minimum; a longer typed id still prints, its text readable
and its bars narrower. Nothing on a label names the clinic, the program or the test: the id, the
two identifiers a lab matches (name and date of birth), the day and the specimen type.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.widgets import BarcodeCode128
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from core.formats import format_day, format_when
from patients.models import Patient

from .label_ids import label_id
from .models import Selection, Specimen, SpecimenType

LABEL_WIDTH = 57 * mm
LABEL_HEIGHT = 32 * mm
MARGIN = 2.5 * mm
BAR_HEIGHT = 11 * mm
# Code 128's quiet zone on each side, in modules (narrowest bars).
QUIET_MODULES = 10


@dataclass(frozen=True)
class Label:
    specimen_id: str
    name: str
    born: date
    when: str
    specimen_type: str


def _name(patient: Patient) -> str:
    # The legal name, as on the lab's requisition: "OWNER, ROBIN".
    return f"{patient.legal_last_name.upper()}, {patient.legal_first_name.upper()}"


def label_for(selection: Selection, specimen: Specimen | None) -> Label:
    """A collected specimen's label (its recorded id and collection time), or a pending
    selection's (its label id and day). ``selection`` comes with its patient, site and
    policy."""
    site = selection.site
    if specimen is not None:
        return Label(
            specimen_id=specimen.chain_of_custody_id,
            name=_name(selection.patient),
            born=selection.patient.date_of_birth,
            when=f"Collected {format_when(specimen.collected_at, tz=site.tz, h24=site.clock_24h)}",
            specimen_type=specimen.get_specimen_type_display(),
        )
    return Label(
        specimen_id=label_id(selection.pk),
        name=_name(selection.patient),
        born=selection.patient.date_of_birth,
        when=f"Date {format_day(selection.date)}",
        specimen_type=SpecimenType(selection.policy.specimen_type).label,
    )


def encodable(value: str) -> bool:
    """Whether Code 128 can carry ``value`` (printable ASCII)."""
    return bool(value) and value.isascii() and value.isprintable()


def _code128(value: str, bar: float) -> Drawing:
    widget = BarcodeCode128(
        value=value,
        barWidth=bar,
        barHeight=BAR_HEIGHT,
        humanReadable=False,
        quiet=True,
        lquiet=QUIET_MODULES * bar,
        rquiet=QUIET_MODULES * bar,
    )
    x1, y1, x2, y2 = widget.getBounds()
    drawing = Drawing(x2 - x1, y2 - y1, transform=[1, 0, 0, 1, -x1, -y1])
    drawing.add(widget)
    return drawing


def barcode_drawing(value: str, *, width: float = LABEL_WIDTH - 2 * MARGIN) -> Drawing:
    """``value`` as a Code 128 barcode (no text of its own), with its quiet zones, as wide
    as ``width`` allows: the widest bars that fit, so the label scans from further away."""
    if not encodable(value):
        raise ValueError("Code 128 carries printable ASCII only")
    modules = _code128(value, 1).width  # bars and quiet zones, one point a module
    return _code128(value, width / modules)


def _fit(canvas: Canvas, text: str, font: str, size: float) -> str:
    # A long name is cut short rather than run off the label.
    room = LABEL_WIDTH - 2 * MARGIN
    while text and canvas.stringWidth(text, font, size) > room:
        text = text[:-2] + "…"
    return text


def _draw(canvas: Canvas, label: Label) -> None:
    top = LABEL_HEIGHT - MARGIN
    if encodable(label.specimen_id):
        renderPDF.draw(barcode_drawing(label.specimen_id), canvas, MARGIN, top - BAR_HEIGHT)
    else:
        # A typed id with characters Code 128 cannot carry: the text alone, said so.
        canvas.setFont("Helvetica", 6.5)
        canvas.drawString(MARGIN, top - BAR_HEIGHT / 2, "No barcode: the id has other characters")
    canvas.setFont("Helvetica-Bold", 10)
    text_id = _fit(canvas, label.specimen_id, "Helvetica-Bold", 10)
    canvas.drawCentredString(LABEL_WIDTH / 2, top - BAR_HEIGHT - 4 * mm, text_id)
    canvas.setFont("Helvetica", 6.5)
    lines = [
        f"{label.name}  ·  DOB {label.born.isoformat()}",
        f"{label.specimen_type}  ·  {label.when}",
    ]
    for i, line in enumerate(lines):
        y = MARGIN + (len(lines) - 1 - i) * 3 * mm
        canvas.drawString(MARGIN, y, _fit(canvas, line, "Helvetica", 6.5))


def labels_pdf(labels: Iterable[Label]) -> bytes:
    """One page per label."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(LABEL_WIDTH, LABEL_HEIGHT), pageCompression=1)
    canvas.setTitle("Specimen labels")
    drawn = 0
    for label in labels:
        _draw(canvas, label)
        canvas.showPage()
        drawn += 1
    if not drawn:
        canvas.setFont("Helvetica", 8)
        canvas.drawString(MARGIN, LABEL_HEIGHT / 2, "No labels to print.")
        canvas.showPage()
    canvas.save()
    return out.getvalue()
