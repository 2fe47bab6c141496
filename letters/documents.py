"""The two documents this app draws, on the site's letterhead, through ``core.pdf``: a
compliance letter and the patient's own record. Pure layout: the content is read first
(``selectors.sections`` and ``selectors.record``) and handed in."""

from __future__ import annotations

from core.formats import format_day
from core.models import Site
from core.pdf import Letterhead, PdfDocument, Signature
from patients.models import ConsentSection
from privacy.services import PART2_NOTICE

from .selectors.record import RecordContent
from .selectors.sections import LetterContent, hours

NOTICE_TITLE = "Notice to the recipient (42 CFR 2.32): prohibition on redisclosure"


def _attendance(doc: PdfDocument, content: LetterContent) -> None:
    doc.heading("Attendance", level=2)
    weeks = content.attendance
    doc.table(
        [
            "Week",
            "Scheduled",
            "Attended",
            "Excused",
            "Unexcused",
            "Not recorded",
            "Hours attended",
            "Against the weekly minimum",
        ],
        [
            [
                w.label,
                w.scheduled,
                w.attended,
                w.excused,
                w.unexcused,
                w.not_recorded,
                w.attended_hours,
                w.against_minimum,
            ]
            for w in weeks
        ],
        widths=[1.55, 0.85, 0.8, 0.75, 0.85, 0.75, 0.75, 1.75],
        empty="No sessions in this period.",
    )
    total = {
        "scheduled": sum(w.scheduled for w in weeks),
        "attended": sum(w.attended for w in weeks),
        "excused": sum(w.excused for w in weeks),
        "unexcused": sum(w.unexcused for w in weeks),
        "minutes": sum(w.attended_minutes for w in weeks),
        "cancelled": sum(w.cancelled for w in weeks),
    }
    summary = (
        f"In all: {total['scheduled']} sessions scheduled, {total['attended']} attended, "
        f"{total['excused']} excused and {total['unexcused']} unexcused absences; "
        f"{hours(total['minutes'])} hours attended."
    )
    if total["cancelled"]:
        summary += (
            f" {total['cancelled']} session(s) cancelled by the program are not counted "
            "as absences."
        )
    doc.paragraph(summary)


def _tests(doc: PdfDocument, content: LetterContent) -> None:
    doc.heading("Drug tests", level=2)
    doc.table(
        ["Date", "Test", "Collection", "Result"],
        [[format_day(t.day), t.kind, t.collection, t.result] for t in content.tests],
        widths=[1.3, 0.9, 1.3, 3.2],
        empty="No tests were due in this period.",
    )
    if any(not t.final for t in content.tests):
        doc.paragraph(
            "A result shown as pending or awaiting laboratory confirmation is not final and "
            "should not be relied on.",
            style="small",
        )


def _meetings(doc: PdfDocument, content: LetterContent) -> None:
    doc.heading("Mutual-help meetings verified by staff", level=2)
    doc.table(
        ["Date", "Fellowship", "Meeting", "Attended"],
        [[format_day(m.day), m.fellowship, m.name, m.mode] for m in content.meetings],
        widths=[1.3, 2, 2.4, 1],
        empty="No verified meetings in this period.",
    )
    if content.meetings:
        doc.paragraph(f"{len(content.meetings)} verified meeting(s) in this period.")


def _status(doc: PdfDocument, content: LetterContent) -> None:
    doc.heading("Current status", level=2)
    if content.status is not None:
        doc.facts(content.status.facts)


SECTION_WRITERS = {
    ConsentSection.ATTENDANCE: _attendance,
    ConsentSection.DRUG_TESTS: _tests,
    ConsentSection.MEETINGS: _meetings,
    ConsentSection.STATUS: _status,
}


def letter_pdf(
    content: LetterContent, *, site: Site, signature: Signature, reference: str
) -> bytes:
    patient = content.patient
    doc = PdfDocument(
        title=f"Letter to {content.recipient}",
        letterhead=Letterhead.for_site(site),
        footer=f"Confidential. Reference {reference}.",
        author=signature.name,
    )
    doc.lines([format_day(content.today), "", content.recipient])
    doc.spacer()
    doc.paragraph(f"Re: {patient.legal_name}, born {format_day(patient.date_of_birth)}")
    labels = [ConsentSection(s).label.lower() for s in content.sections]
    doc.paragraph(
        f"With the written consent of {patient.legal_name}, signed "
        f"{format_day(content.consent_signed)}, which names {content.recipient} and the "
        f"purpose \u201c{content.purpose}\u201d, we report the following for "
        f"{format_day(content.start)} to {format_day(content.end)}: "
        f"{', '.join(labels)}. The consent covers nothing else, and nothing else is "
        "reported here."
    )
    for section in content.sections:
        SECTION_WRITERS[ConsentSection(section)](doc, content)
    doc.paragraph("Please contact us with any question about this letter.")
    doc.signature(signature)
    doc.notice(NOTICE_TITLE, PART2_NOTICE)
    return doc.render()


def record_pdf(content: RecordContent, *, site: Site, produced_by: str) -> bytes:
    patient = content.patient
    doc = PdfDocument(
        title=f"Record of {patient.legal_name}",
        letterhead=Letterhead.for_site(site),
        footer=f"The record of {patient.legal_name}, given to them. Keep it private.",
        author=produced_by,
    )
    doc.heading(f"Your record: {patient.legal_name}")
    doc.facts([*content.facts, ("Produced by", produced_by)])
    for part in content.parts:
        doc.heading(part.title, level=2)
        doc.table(part.header, part.rows, widths=part.widths, empty=part.empty)
        if part.note and part.rows:
            doc.paragraph(part.note, style="small")
    doc.heading("Treatment plans", level=2)
    if not content.plans:
        doc.paragraph("No signed treatment plan yet.")
    for plan in content.plans:
        doc.paragraph(plan.title)
        doc.facts(plan.facts)
        for line in plan.lines:
            doc.paragraph(line, style="small")
    return doc.render()
