"""Writes: compliance letters (one, or a caseload's batch), the patient's own record
given to them, and a site's letterhead. Each is one transaction with its disclosure and
its audit row."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from core import audit, clock
from core.clock import site_today
from core.formats import format_day, format_when
from core.models import Role, Site, User, letterhead_reveals_treatment
from core.pdf import Signature
from core.phones import phone_normalize
from core.validators import require_dates_in_range, require_plain_text
from patients.models import Consent, ConsentSection, Patient, sections_in_order
from privacy.services import disclosure_create, disclosure_to_patient_record

from .documents import letter_pdf, record_pdf
from .models import Letter, LetterBatch
from .selectors.access import caseload_for_period, consent_naming
from .selectors.record import record_content
from .selectors.sections import letter_content

# A letter reports at most a year: a longer look back is two letters, and the attendance
# section reads every week of it.
MAX_PERIOD_DAYS = 366
LETTER_ROLES = (Role.DIRECTOR, Role.COUNSELOR)


class LetterTampered(Exception):
    """The stored PDF no longer matches the hash recorded when it was sent."""


def _period_problems(start: date, end: date, today: date) -> dict[str, str]:
    if end < start:
        return {"period_end": "The period cannot end before it starts."}
    if end > today:
        return {
            "period_end": "A letter reports what has happened: end the period today or earlier."
        }
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        return {"period_start": f"A letter covers at most {MAX_PERIOD_DAYS} days."}
    return {}


def _section_problems(sections: Sequence[str], consent: Consent) -> dict[str, str]:
    unknown = sorted(set(sections) - set(ConsentSection.values))
    if unknown:
        return {"sections": f"Unknown sections: {', '.join(unknown)}."}
    if not sections:
        return {"sections": "Choose at least one section the consent covers."}
    uncovered = [s for s in sections_in_order(list(sections)) if s not in (consent.sections or [])]
    if uncovered:
        names = ", ".join(ConsentSection(s).label.lower() for s in uncovered)
        return {"sections": f"The consent does not cover: {names}."}
    return {}


def _signature(actor: User, site: Site, now: datetime) -> Signature:
    staff = actor.staff
    return Signature(
        name=actor.get_full_name() or actor.get_username(),
        credentials=staff.credentials if staff is not None else "",
        role=staff.get_role_display() if staff is not None else "",
        signed=format_when(now, tz=site.tz),
    )


def _what(sections: list[str], start: date, end: date) -> str:
    labels = ", ".join(ConsentSection(s).label.lower() for s in sections)
    return f"Compliance letter: {labels}, {format_day(start)} to {format_day(end)}"


@transaction.atomic
def letter_create(
    *,
    actor: User,
    patient: Patient,
    consent: Consent,
    sections: Sequence[str],
    period_start: date,
    period_end: date,
    batch: LetterBatch | None = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Letter:
    """Write a compliance letter to the recipient the consent names, on the site's
    letterhead, with the chosen sections only; record it as a disclosure; keep the PDF.

    Refused unless the consent is the patient's, current today, and covers every section
    chosen."""
    now = clock.now(now)
    require_dates_in_range(period_start=period_start, period_end=period_end)
    staff = actor.staff
    if staff is None or staff.role not in LETTER_ROLES:
        raise ValidationError("Only a counselor or the director sends compliance letters.")
    if staff.organization_id != patient.organization_id:
        raise ValidationError("That patient belongs to another organisation.")
    today = site_today(patient.site, now)
    # Read again under a lock: a revocation saved since the page was shown wins.
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.patient_id != patient.pk:
        raise ValidationError({"consent": "That consent belongs to another patient."})
    if not consent.is_current(today):
        raise ValidationError(
            {"consent": "That consent is not current (expired, revoked or not yet signed)."}
        )
    problems = {
        **_section_problems(sections, consent),
        **_period_problems(period_start, period_end, today),
    }
    if problems:
        raise ValidationError(problems)
    ordered = sections_in_order(list(sections))
    disclosure = disclosure_create(
        actor=actor,
        patient=patient,
        consent=consent,
        recipient=consent.recipient,
        purpose=consent.purpose,
        information_disclosed=_what(ordered, period_start, period_end),
        request=request,
        now=now,
    )
    content = letter_content(
        patient,
        recipient=consent.recipient,
        purpose=consent.purpose,
        consent_signed=consent.signed_on,
        sections=ordered,
        start=period_start,
        end=period_end,
        today=today,
        now=now,
    )
    pdf = letter_pdf(
        content,
        site=patient.site,
        signature=_signature(actor, patient.site, now),
        reference=f"D-{disclosure.pk}",
    )
    letter = Letter.objects.create(
        patient=patient,
        consent=consent,
        disclosure=disclosure,
        site=patient.site,
        batch=batch,
        recipient=consent.recipient,
        sections=ordered,
        period_start=period_start,
        period_end=period_end,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        created_by=actor,
        created_at=now,
    )
    audit.record(
        action="letters.letter_created",
        actor=actor,
        request=request,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=letter,
        detail={
            "consent": consent.pk,
            "disclosure": disclosure.pk,
            "sections": ordered,
            "period": [period_start.isoformat(), period_end.isoformat()],
            "sha256": letter.sha256,
            "batch": batch.pk if batch is not None else None,
        },
        at=now,
    )
    return letter


def letter_pdf_verified(letter: Letter) -> bytes:
    """The letter's stored bytes, after checking them against the hash recorded when it
    was sent (a reprint is this copy, never a new rendering)."""
    pdf = bytes(letter.pdf)
    if hashlib.sha256(pdf).hexdigest() != letter.sha256 or len(pdf) != letter.size:
        raise LetterTampered(f"letter {letter.pk}: the stored PDF does not match its hash")
    return pdf


@transaction.atomic
def letters_batch_create(
    *,
    actor: User,
    counselor: User,
    recipient: str,
    sections: Sequence[str],
    period_start: date,
    period_end: date,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> LetterBatch:
    """A letter to ``recipient`` for every patient of the counselor's caseload (as far as
    the actor sees it) in the program during the period whose current consent names the
    recipient and covers the sections; the others are listed as skipped, with the
    reason. One PDF per patient."""
    now = clock.now(now)
    require_dates_in_range(period_start=period_start, period_end=period_end)
    require_plain_text(recipient=recipient)
    recipient = " ".join(recipient.split())
    staff = actor.staff
    if staff is None or staff.role not in LETTER_ROLES:
        raise ValidationError("Only a counselor or the director sends compliance letters.")
    counselor_staff = counselor.staff
    if counselor_staff is None or counselor_staff.organization_id != staff.organization_id:
        raise ValidationError({"counselor": "Choose a counselor of this organisation."})
    if staff.role != Role.DIRECTOR and counselor.pk != actor.pk:
        raise ValidationError({"counselor": "You may send letters for your own caseload only."})
    if not recipient or len(recipient) > 200:
        raise ValidationError({"recipient": "Name the recipient (at most 200 characters)."})
    unknown = sorted(set(sections) - set(ConsentSection.values))
    if unknown or not sections:
        raise ValidationError({"sections": "Choose at least one known section."})
    ordered = sections_in_order(list(sections))
    batch = LetterBatch.objects.create(
        counselor=counselor,
        recipient=recipient,
        sections=ordered,
        period_start=period_start,
        period_end=period_end,
        created_by=actor,
        created_at=now,
    )
    skipped = []
    for patient in caseload_for_period(actor, counselor, period_start, period_end):
        today = site_today(patient.site, now)
        consent = consent_naming(patient, recipient, today, ordered)
        reason = ""
        if consent is None:
            reason = f"No current consent naming {recipient}."
        else:
            problems = {
                **_section_problems(ordered, consent),
                **_period_problems(period_start, period_end, today),
            }
            reason = " ".join(problems.values())
        if not reason and consent is not None:
            try:
                with transaction.atomic():
                    letter_create(
                        actor=actor,
                        patient=patient,
                        consent=consent,
                        sections=ordered,
                        period_start=period_start,
                        period_end=period_end,
                        batch=batch,
                        request=request,
                        now=now,
                    )
            except ValidationError as exc:
                reason = " ".join(exc.messages)
        if reason:
            skipped.append({"patient": patient.pk, "name": patient.display_name, "reason": reason})
    LetterBatch.objects.filter(pk=batch.pk).update(skipped=skipped)
    batch.skipped = skipped
    audit.record(
        action="letters.batch_created",
        actor=actor,
        request=request,
        obj=batch,
        detail={
            "counselor": counselor.pk,
            "letters": batch.letters.count(),
            "skipped": [s["patient"] for s in skipped],
            "sections": ordered,
        },
        at=now,
    )
    return batch


RECORD_PARTS = (
    "Record (PDF): episodes of care, schedule and attendance, drug tests and results, "
    "meetings, homework, medications, check-in scores, consents, treatment plans"
)


@transaction.atomic
def record_pdf_produce(
    *,
    actor: User,
    patient: Patient,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> bytes:
    """The patient's own record as a PDF, given to the patient (a download from the
    portal, or a copy staff make on their request), recorded in their accounting of
    disclosures."""
    now = clock.now(now)
    own = actor.patient_record
    if actor.staff is None and (own is None or own.pk != patient.pk):
        raise ValidationError("A patient may download only their own record.")
    if actor.staff is not None and actor.staff.organization_id != patient.organization_id:
        raise ValidationError("That patient belongs to another organisation.")
    produced_by = (
        f"{actor.get_full_name() or actor.get_username()}, at the patient's request"
        if actor.staff is not None
        else "Downloaded by the patient from the portal"
    )
    pdf = record_pdf(record_content(patient, now=now), site=patient.site, produced_by=produced_by)
    disclosure = disclosure_to_patient_record(
        actor=actor,
        patient=patient,
        information_disclosed=RECORD_PARTS,
        request=request,
        now=now,
    )
    audit.record(
        action="letters.record_produced",
        actor=actor,
        request=request,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=disclosure,
        detail={"sha256": hashlib.sha256(pdf).hexdigest(), "size": len(pdf)},
        at=now,
    )
    return pdf


@transaction.atomic
def site_letterhead_update(
    *,
    actor: User,
    site: Site,
    letterhead_name: str,
    address: str,
    phone: str,
    names_treatment: bool,
    request: HttpRequest | None = None,
) -> Site:
    """The name, address and phone a site prints on its letters. A name that says what
    the clinic treats is refused unless the director states that it may."""
    staff = actor.staff
    if (
        staff is None
        or staff.role != Role.DIRECTOR
        or staff.organization_id != site.organization_id
    ):
        raise ValidationError("Only the director of this organisation sets the letterhead.")
    require_plain_text(letterhead_name=letterhead_name, address=address)
    letterhead_name = " ".join(letterhead_name.split())
    if not letterhead_name:
        raise ValidationError({"letterhead_name": "Give the name letters are printed under."})
    words = letterhead_reveals_treatment(letterhead_name)
    if words and not names_treatment:
        raise ValidationError(
            {
                "letterhead_name": (
                    f"This name says what the clinic treats ({', '.join(words)}). Choose a "
                    "neutral name, or tick that the letterhead may name your services."
                )
            }
        )
    site = Site.objects.select_for_update().get(pk=site.pk)
    before = {
        "letterhead_name": site.letterhead_name,
        "address": site.address,
        "phone": site.phone,
        "letterhead_names_treatment": site.letterhead_names_treatment,
    }
    site.letterhead_name = letterhead_name
    site.address = address.strip()
    try:
        site.phone = phone_normalize(phone, region=site.country)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from exc
    site.letterhead_names_treatment = names_treatment
    site.save(update_fields=["letterhead_name", "address", "phone", "letterhead_names_treatment"])
    changed = sorted(k for k, v in before.items() if getattr(site, k) != v)
    audit.record(
        action="site.letterhead_updated",
        actor=actor,
        request=request,
        site_id=site.pk,
        obj=site,
        detail={"fields": changed},
    )
    return site
