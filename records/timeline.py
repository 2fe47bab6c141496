"""The clinical record's entries in the patient's timeline: progress notes of every kind
(individual, family, MAT visit, each attendee's group note) with their status, "Late
entry" and author, and the plan versions signed.

Front desk and collectors see that a note or a plan exists, with its day and status,
and nothing of what it is about: no kind of service, author or link (the note's pages
are clinicians' only). Nobody reads a note's text here: opening the note is the audited
view of it. Drafts show to clinicians only.

Two queries whatever the number of notes and versions (``core.timeline``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from django.urls import NoReverseMatch, reverse

from core.formats import format_time
from core.models import Site
from core.timeline import TimelineEntry, TimelineQuery, source

from .models import NoteKind, PlanVersion, ProgressNote, RecordStatus
from .services._common import CLINICAL_ROLES

NOTE_TITLES: dict[str, str] = {
    NoteKind.INDIVIDUAL: "Individual progress note",
    NoteKind.FAMILY: "Family progress note",
    NoteKind.MAT: "MAT visit note",
    NoteKind.GROUP: "Group note",
}
BADGES: dict[str, str] = {
    RecordStatus.DRAFT: "text-bg-warning",
    RecordStatus.SIGNED: "text-bg-success",
    RecordStatus.COSIGNED: "text-bg-success",
}


def _url(name: str, pk: int) -> str | None:
    # The note and plan pages are their own engineers' routes (records.urls): until they
    # are routed an entry has no link rather than a broken page.
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return None


def _status(status: str, awaiting_cosign: bool) -> str:
    if awaiting_cosign:
        return "Signed, awaiting co-signature"
    return RecordStatus(status).label


def _span(site: Site, starts: datetime, ends: datetime) -> str:
    return f"{format_time(starts, tz=site.tz)}–{format_time(ends, tz=site.tz)}"


@source("notes", order=40)
def notes(query: TimelineQuery) -> list[TimelineEntry]:
    clinician = query.viewer.role in CLINICAL_ROLES
    rows = ProgressNote.objects.filter(patient=query.patient).select_related("author", "site")
    if not clinician:
        rows = rows.exclude(status=RecordStatus.DRAFT)
    if query.start is not None:
        rows = rows.filter(starts_at__gte=query.start)
    if query.end is not None:
        rows = rows.filter(starts_at__lt=query.end)
    rows = rows.order_by("-starts_at", "-pk")
    if query.limit is not None:
        rows = rows[: query.limit]
    entries = []
    for note in rows:
        entry = TimelineEntry(
            at=note.starts_at,
            day=note.service_date,
            kind="notes",
            title="Progress note",
            status=_status(note.status, note.awaiting_cosign),
            badge=BADGES.get(note.status, "text-bg-secondary"),
            labels=("Late entry",) if note.is_late else (),
        )
        if clinician:
            author = str(note.author)
            if note.author_credentials:
                author = f"{author}, {note.author_credentials}"
            parts = [
                note.get_service_type_display(),
                _span(note.site, note.starts_at, note.ends_at),
            ]
            if note.kind == NoteKind.GROUP:
                if note.topic:
                    parts.insert(0, note.topic)
                if note.minutes is not None:
                    parts.append(f"{note.minutes} min")
            parts.append(f"by {author}")
            entry = replace(
                entry,
                title=NOTE_TITLES.get(NoteKind(note.kind), "Progress note"),
                detail=" · ".join(parts),
                url=_url("records:note", note.pk),
            )
        entries.append(entry)
    return entries


@source("notes", order=41)
def plan_versions(query: TimelineQuery) -> list[TimelineEntry]:
    clinician = query.viewer.role in CLINICAL_ROLES
    rows = PlanVersion.objects.filter(
        plan__patient=query.patient, signed_at__isnull=False
    ).select_related("author")
    if query.start is not None:
        rows = rows.filter(signed_at__gte=query.start)
    if query.end is not None:
        rows = rows.filter(signed_at__lt=query.end)
    rows = rows.order_by("-signed_at", "-pk")
    if query.limit is not None:
        rows = rows[: query.limit]
    tz = query.patient.site.tz
    entries = []
    for version in rows:
        signed_at = version.signed_at
        assert signed_at is not None  # the filter above
        entry = TimelineEntry(
            at=signed_at,
            day=signed_at.astimezone(tz).date(),
            kind="notes",
            title="Treatment plan",
            status=_status(version.status, version.awaiting_cosign),
            badge=BADGES.get(version.status, "text-bg-secondary"),
            labels=("Signed by the patient",) if version.patient_signed_at else (),
        )
        if clinician:
            author = str(version.author)
            if version.author_credentials:
                author = f"{author}, {version.author_credentials}"
            entry = replace(
                entry,
                title=f"Treatment plan, version {version.number}",
                detail=f"{version.get_kind_display()} · by {author}",
                url=_url("records:plan_version", version.pk),
            )
        entries.append(entry)
    return entries
