"""A sitting entered by a staff member with the patient, in one step: the open sitting of
that instrument if one is due (else a new one, requested by staff), started in the
"with staff" mode, every answer saved and the sitting completed, through the same
services as the portal's (so a safety item above 0 raises the same safety event)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from core import clock
from core.models import User
from patients.models import Patient

from ..models import Administration, Instrument
from .administrations import (
    administration_complete,
    administration_create,
    administration_start,
    answer_save,
)


@transaction.atomic
def staff_entry_record(
    *,
    actor: User,
    patient: Patient,
    instrument: Instrument,
    answers: dict[int, int],
    language: str,
    now: datetime | None = None,
) -> Administration:
    """``answers`` maps item pk to the chosen value."""
    now = clock.now(now)
    items = {item.pk: item for item in instrument.items.all()}
    unknown = set(answers) - set(items)
    if unknown:
        raise ValidationError("An answer belongs to another questionnaire.")
    administration = (
        Administration.objects.filter(
            patient=patient,
            instrument__code=instrument.code,
            status__in=[Administration.Status.DUE, Administration.Status.IN_PROGRESS],
        )
        .order_by("pk")
        .first()
    )
    if administration is not None and administration.instrument_id != instrument.pk:
        raise ValidationError(
            "An earlier version of this questionnaire is open for this patient; "
            "complete it in the portal first."
        )
    if administration is None:
        administration = administration_create(
            actor=actor,
            patient=patient,
            instrument=instrument,
            reason=Administration.Reason.AD_HOC,
            due_on=clock.site_today(patient.site, now),
            now=now,
        )
    if administration is None:  # made open by a concurrent request a moment ago
        raise ValidationError("This questionnaire was just opened elsewhere; reload the page.")
    administration = administration_start(
        actor=actor,
        administration=administration,
        mode=Administration.Mode.WITH_STAFF,
        language=language,
        now=now,
    )
    for pk, value in answers.items():
        answer_save(
            actor=actor, administration=administration, item=items[pk], value=value, now=now
        )
    return administration_complete(actor=actor, administration=administration, now=now)
