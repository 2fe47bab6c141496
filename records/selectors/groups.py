"""Reads of the group-note screen and the sign-in sheet: the group session a user may
see (404 plus an audited denial otherwise), its group note and one row per rostered
patient. A fixed number of queries whatever the size of the group."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from core.access import get_or_deny
from core.models import User
from patients.models import Patient
from scheduling.models import ATTENDED_STATUSES, Attendance, Session
from scheduling.selectors.access import sessions_visible_to
from scheduling.selectors.rosters import rosters_for_sessions

from ..models import GroupNote, GroupNoteEntry, ProgressNote


def group_session_get_for_user(
    user: User, pk: int, *, request: HttpRequest | None = None, with_note: bool = False
) -> Session:
    """A group session (a track's, not an individual one) at a site the user works at.
    ``with_note``: its group note (and author) read in the same query, for
    ``group_note_for``."""
    related = ["site", "track", "facilitator"]
    if with_note:
        related.append("clinical_note__author")
    return get_or_deny(
        user,
        sessions_visible_to(user).filter(track__isnull=False).select_related(*related),
        action="records.group_session_view",
        message="No such group session.",
        detail={"session_pk": pk},
        request=request,
        pk=pk,
    )


def group_note_for(session: Session) -> GroupNote | None:
    if Session.clinical_note.is_cached(session):
        # Read with the session (``with_note``); None is cached too when it has none.
        return getattr(session, "clinical_note", None)
    return GroupNote.objects.filter(session=session).select_related("author").first()


@dataclass(frozen=True)
class AttendeeRow:
    patient: Patient
    attendance: Attendance | None
    # The draft's individualized part, or the signed note's.
    text: str
    note: ProgressNote | None

    @property
    def attended(self) -> bool:
        return self.attendance is not None and self.attendance.status in ATTENDED_STATUSES

    @property
    def status_label(self) -> str:
        if self.attendance is None:
            return "Not marked"
        return self.attendance.get_status_display()

    @property
    def minutes(self) -> int:
        return self.attendance.minutes_credited if self.attendance is not None else 0


def attendee_rows(session: Session, group: GroupNote | None) -> list[AttendeeRow]:
    """One row per rostered patient (make-up attendees included), in roster order."""
    taken = list(Attendance.objects.filter(session=session).select_related("patient"))
    roster = rosters_for_sessions([session], attendance=taken)[session.pk]
    by_patient = {a.patient_id: a for a in taken}
    texts: dict[int, str] = {}
    notes: dict[int, ProgressNote] = {}
    if group is not None:
        if group.is_signed:
            notes = {
                n.patient_id: n
                for n in ProgressNote.objects.filter(group_note=group).only(
                    "pk", "patient_id", "response", "status", "is_late", "requires_cosign"
                )
            }
            texts = {pk: n.response for pk, n in notes.items()}
        else:
            texts = dict(
                GroupNoteEntry.objects.filter(group_note=group).values_list("patient_id", "text")
            )
    return [
        AttendeeRow(
            patient=p,
            attendance=by_patient.get(p.pk),
            text=texts.get(p.pk, ""),
            note=notes.get(p.pk),
        )
        for p in roster
    ]


def signin_roster(session: Session) -> list[Patient]:
    """Everyone expected at the session (scheduling's roster, make-ups already recorded)."""
    return rosters_for_sessions([session])[session.pk]
