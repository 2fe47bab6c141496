"""One layout for the PDFs Stepwise writes: compliance letters and the patient's own record.

A document is the site's letterhead (``Letterhead``), then headings, paragraphs, label and
value pairs, tables, a boxed notice and an electronic signature block, with a footer on
every page. Built on reportlab's platypus with the standard Helvetica faces (no font file
to ship). Callers pass plain text: every string is escaped here (reportlab reads ``<`` and
``&`` as markup) and stripped of control characters, so what a patient or a colleague typed
prints as typed. Characters Helvetica lacks (emoji, Hebrew) print as a box.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .models import Site
from .phones import phone_display

MARGIN = 0.8 * inch
WIDTH = LETTER[0] - 2 * MARGIN
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

_base = getSampleStyleSheet()
STYLES = {
    "letterhead": ParagraphStyle(
        "letterhead", parent=_base["Title"], fontSize=16, leading=20, alignment=0, spaceAfter=2
    ),
    "letterhead_line": ParagraphStyle(
        "letterhead_line", parent=_base["Normal"], fontSize=9, leading=11, textColor=colors.grey
    ),
    "h1": ParagraphStyle("h1", parent=_base["Heading1"], fontSize=14, leading=18, spaceAfter=6),
    "h2": ParagraphStyle("h2", parent=_base["Heading2"], fontSize=12, leading=15, spaceAfter=4),
    "body": ParagraphStyle("body", parent=_base["Normal"], fontSize=10, leading=13, spaceAfter=6),
    "small": ParagraphStyle("small", parent=_base["Normal"], fontSize=8, leading=10),
    "cell": ParagraphStyle("cell", parent=_base["Normal"], fontSize=8.5, leading=10.5),
    "cell_head": ParagraphStyle(
        "cell_head", parent=_base["Normal"], fontSize=7.5, leading=9, fontName="Helvetica-Bold"
    ),
    "label": ParagraphStyle(
        "label", parent=_base["Normal"], fontSize=8.5, leading=10.5, fontName="Helvetica-Bold"
    ),
}


def plain(text: object) -> str:
    """``text`` as reportlab markup that shows it literally: escaped, without control
    characters, line breaks kept."""
    cleaned = _CONTROL.sub("", str(text)).replace("\r\n", "\n").replace("\r", "\n")
    return escape(cleaned).replace("\n", "<br/>")


@dataclass(frozen=True)
class Letterhead:
    """What heads a site's documents: the name it chose for its letters (which need not
    say what the clinic treats), its postal address and its phone number."""

    name: str
    address: str = ""
    phone: str = ""  # E.164, written nationally for the site's country
    country: str = "US"

    @classmethod
    def for_site(cls, site: Site) -> Letterhead:
        return cls(
            name=site.letterhead_name or site.name,
            address=site.address,
            phone=site.phone,
            country=site.country,
        )


@dataclass(frozen=True)
class Signature:
    """An electronic signature: who sent the document, with their credentials, and when
    (already written on the site's clock)."""

    name: str
    credentials: str
    role: str
    signed: str


class PdfDocument:
    """A document built top to bottom, then rendered once to bytes."""

    def __init__(
        self,
        *,
        title: str,
        letterhead: Letterhead | None = None,
        footer: str = "",
        author: str = "",
    ) -> None:
        self.title = title
        self.footer = footer
        self.author = author
        self.story: list[Flowable] = []
        if letterhead is not None:
            self._letterhead(letterhead)

    # --- building --------------------------------------------------------------------

    def _letterhead(self, head: Letterhead) -> None:
        self.story.append(Paragraph(plain(head.name), STYLES["letterhead"]))
        lines = [line.strip() for line in head.address.splitlines() if line.strip()]
        if head.phone:
            lines.append(f"Phone {phone_display(head.phone, head.country)}")
        if lines:
            self.story.append(
                Paragraph(" · ".join(plain(x) for x in lines), STYLES["letterhead_line"])
            )
        rule = Table([[""]], colWidths=[WIDTH], rowHeights=[4])
        rule.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.75, colors.grey)]))
        self.story += [rule, Spacer(1, 10)]

    def heading(self, text: str, *, level: int = 1) -> None:
        self.story.append(Paragraph(plain(text), STYLES["h1" if level == 1 else "h2"]))

    def paragraph(self, text: str, *, style: str = "body") -> None:
        self.story.append(Paragraph(plain(text), STYLES[style]))

    def lines(self, lines: Sequence[str]) -> None:
        """A block of short lines (an address, a date), one after the other."""
        shown = [plain(x) for x in lines if x]
        if shown:
            self.story.append(Paragraph("<br/>".join(shown), STYLES["body"]))

    def spacer(self, height: float = 8) -> None:
        self.story.append(Spacer(1, height))

    def facts(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Label and value, two columns without rules."""
        if not pairs:
            return
        rows = [
            [Paragraph(plain(k), STYLES["label"]), Paragraph(plain(v), STYLES["cell"])]
            for k, v in pairs
        ]
        table = Table(rows, colWidths=[1.8 * inch, WIDTH - 1.8 * inch], hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                ]
            )
        )
        self.story += [table, Spacer(1, 6)]

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[object]],
        *,
        widths: Sequence[float] | None = None,
        empty: str = "None.",
    ) -> None:
        """A ruled table; ``widths`` are shares of the text width (they need not add to 1).
        With no rows, ``empty`` is written instead."""
        if not rows:
            self.paragraph(empty)
            return
        shares = list(widths) if widths else [1.0] * len(header)
        total = sum(shares)
        col_widths = [WIDTH * s / total for s in shares]
        data = [[Paragraph(plain(h), STYLES["cell_head"]) for h in header]]
        data += [[Paragraph(plain(c), STYLES["cell"]) for c in row] for row in rows]
        table = Table(data, colWidths=col_widths, repeatRows=1, hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        self.story += [table, Spacer(1, 8)]

    def notice(self, title: str, text: str) -> None:
        """A boxed notice that stays on one page (the 42 CFR 2.32 notice)."""
        box = Table(
            [
                [Paragraph(plain(title), STYLES["label"])],
                [Paragraph(plain(text), STYLES["small"])],
            ],
            colWidths=[WIDTH],
        )
        box.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 0.75, colors.black),
                    ("LEFTPADDING", (0, 0), (-1, -1), 6),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                ]
            )
        )
        self.story += [Spacer(1, 8), KeepTogether([box])]

    def signature(self, signature: Signature) -> None:
        """The sender's electronic signature: a line, the name with credentials, the role,
        and when it was signed."""
        name = signature.name + (f", {signature.credentials}" if signature.credentials else "")
        block = [
            Spacer(1, 14),
            Paragraph(plain(f"/s/ {name}"), STYLES["body"]),
            Table([[""]], colWidths=[3 * inch], rowHeights=[2], hAlign="LEFT"),
            Paragraph(plain(name), STYLES["body"]),
            Paragraph(plain(signature.role), STYLES["small"]),
            Paragraph(plain(f"Electronically signed {signature.signed}"), STYLES["small"]),
        ]
        line = block[2]
        assert isinstance(line, Table)
        line.setStyle(TableStyle([("LINEABOVE", (0, 0), (-1, -1), 0.75, colors.black)]))
        self.story.append(KeepTogether(block))

    # --- rendering -------------------------------------------------------------------

    def _on_page(self, canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.grey)
        text = _CONTROL.sub("", self.footer)
        canvas.drawString(MARGIN, 0.5 * inch, text[:140])
        canvas.drawRightString(LETTER[0] - MARGIN, 0.5 * inch, f"Page {doc.page}")
        canvas.restoreState()

    def render(self) -> bytes:
        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer,
            pagesize=LETTER,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=MARGIN,
            title=_CONTROL.sub("", self.title),
            author=_CONTROL.sub("", self.author),
            creator="Stepwise",
            # No creation time or random document id in the file: the same content gives
            # the same bytes (the stored copy is what matters, but tests can compare).
            invariant=1,
        )
        doc.build(self.story, onFirstPage=self._on_page, onLaterPages=self._on_page)
        return buffer.getvalue()
