"""Access-checking getters (a 404 and a denied audit row for what the user may not see)
and the lists the letters' pages show, each in a fixed number of queries."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from django.http import HttpRequest

from core.access import get_or_deny
from core.clock import site_today
from core.models import Role, User
from patients.access import patients_visible_to
from patients.models import Consent, Patient
from patients.selectors import counselors_at
from patients.selectors import sites_for as patient_sites_for
from privacy.models import Disclosure

from ..models import Letter, LetterBatch


def _norm(text: str) -> str:
    # privacy.services compares a disclosure's recipient with its consent's the same way.
    return " ".join(text.split()).casefold()


def letters_of(patient: Patient) -> QuerySet[Letter]:
    """The patient's letters, newest first, without their PDF bytes."""
    return (
        Letter.objects.filter(patient=patient)
        .select_related("created_by", "consent")
        .defer("pdf")
        .order_by("-created_at", "-pk")
    )


def letter_get_for_user(
    user: User, pk: int, *, request: HttpRequest | None = None, with_pdf: bool = False
) -> Letter:
    letters = Letter.objects.select_related(
        "patient__site", "consent", "created_by", "disclosure"
    ).filter(patient__in=patients_visible_to(user))
    if not with_pdf:
        letters = letters.defer("pdf")
    return get_or_deny(
        user,
        letters,
        action="letters.letter_view",
        message="No such letter.",
        detail={"letter": pk},
        request=request,
        pk=pk,
    )


def batch_get_for_user(user: User, pk: int, *, request: HttpRequest | None = None) -> LetterBatch:
    """A batch run by the user, or of their caseload; any batch of the organisation for
    the director."""
    staff = user.staff
    batches = LetterBatch.objects.select_related("counselor", "created_by")
    if staff is None:
        batches = batches.none()
    elif staff.role == Role.DIRECTOR:
        batches = batches.filter(created_by__staff_profile__organization_id=staff.organization_id)
    else:
        batches = batches.filter(Q(created_by=user) | Q(counselor=user))
    return get_or_deny(
        user,
        batches,
        action="letters.batch_view",
        message="No such batch.",
        detail={"batch": pk},
        request=request,
        pk=pk,
    )


def batch_letters(user: User, batch: LetterBatch) -> list[Letter]:
    """The batch's letters about patients the user may see."""
    return list(
        batch.letters.filter(patient__in=patients_visible_to(user))
        .select_related("patient")
        .defer("pdf")
        .order_by("patient__legal_last_name", "patient__legal_first_name", "pk")
    )


def consents_for_letters(patient: Patient, today: date) -> list[Consent]:
    """The patient's consents in force on ``today`` that cover at least one section."""
    return [c for c in patient.consents.all() if c.is_current(today) and c.sections]


def disclosures_of(patient: Patient) -> list[Disclosure]:
    """The patient's accounting of disclosures, newest first, with the letter each one is
    (if any), in one query."""
    return list(
        Disclosure.objects.filter(patient=patient)
        .select_related("disclosed_by", "letter")
        .defer("letter__pdf")
        .order_by("-disclosed_at", "-pk")
    )


# --- batch mode ------------------------------------------------------------------------


def batch_counselors(user: User) -> QuerySet[User]:
    """Whose caseload the user may write for: their own, or any counselor's for the
    director."""
    if user.role == Role.DIRECTOR:
        sites = patient_sites_for(user).values_list("pk", flat=True)
        return counselors_at(list(sites))
    return User.objects.filter(pk=user.pk)


def caseload_for_period(user: User, counselor: User, start: date, end: date) -> list[Patient]:
    """The counselor's patients, as far as the user may see them, in the program on at
    least one day of the period."""
    # One filter call: the same episode must start before the period ends and end after
    # it starts.
    in_period = Q(enrollments__admission_date__lte=end) & (
        Q(enrollments__discharge_date__isnull=True) | Q(enrollments__discharge_date__gte=start)
    )
    return list(
        patients_visible_to(user)
        .filter(in_period, primary_counselor=counselor)
        .select_related("site")
        .prefetch_related("consents")
        .distinct()
        .order_by("legal_last_name", "legal_first_name", "pk")
    )


def caseload_recipients(user: User, counselors: QuerySet[User]) -> list[str]:
    """The recipients named by a current consent (one covering a section) of the
    counselors' patients the user may see: what batch mode offers. One query."""
    consents = (
        Consent.objects.filter(
            patient__in=patients_visible_to(user).filter(primary_counselor__in=counselors),
            revoked_on__isnull=True,
        )
        .exclude(sections=[])
        .select_related("patient__site")
        .order_by("recipient", "pk")
    )
    seen: dict[str, str] = {}
    for consent in consents:
        if consent.is_current(site_today(consent.patient.site)):
            seen.setdefault(_norm(consent.recipient), consent.recipient)
    return sorted(seen.values(), key=str.casefold)


def consent_naming(
    patient: Patient, recipient: str, today: date, sections: list[str]
) -> Consent | None:
    """The patient's current consent naming ``recipient`` that covers ``sections`` (the
    newest such), else the newest naming the recipient at all (whose gap the batch
    reports); read from the prefetched consents."""
    wanted = _norm(recipient)
    found = [
        c for c in patient.consents.all() if _norm(c.recipient) == wanted and c.is_current(today)
    ]
    found.sort(key=lambda c: (c.signed_on, c.pk), reverse=True)
    covering = [c for c in found if c.covers(sections)]
    chosen = covering or found
    return chosen[0] if chosen else None


def recipient_matches(a: str, b: str) -> bool:
    return _norm(a) == _norm(b)
