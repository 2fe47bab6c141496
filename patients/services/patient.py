"""The patient's own record: demographics and the portal account."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core import audit
from core.clock import site_today
from core.models import Site, User
from core.phones import phone_can_text, phone_normalize
from core.validators import require_dates_in_range

from ..models import MINIMUM_AGE, ContactChannel, Language, Patient, age_on
from .errors import ConcurrentEditError


def validate_date_of_birth(born: date, today: date) -> None:
    require_dates_in_range(date_of_birth=born)
    if born > today:
        raise ValidationError({"date_of_birth": "The date of birth is in the future."})
    if age_on(born, today) < MINIMUM_AGE:
        raise ValidationError(
            {"date_of_birth": f"Patients must be at least {MINIMUM_AGE} years old."}
        )


PHONE_FIELDS = ("phone", "emergency_contact_phone")
SMS_NEEDS_NUMBER = _("Text messages need a mobile number: enter one, or choose another way.")
SMS_NEEDS_MOBILE = _(
    "This number cannot receive text messages (a landline or service number): "
    "enter a mobile number, or choose another way."
)


def contact_details_clean(
    site: Site, changes: dict[str, Any], *, current: Patient | None = None
) -> None:
    """Rewrite the typed phone numbers in ``changes`` as E.164, read in the site's country,
    and refuse text messages as the preferred contact without a number a text can reach
    (``current`` gives what ``changes`` leaves as it is)."""
    errors: dict[str, list[str]] = {}
    for name in PHONE_FIELDS:
        if name in changes:
            try:
                changes[name] = phone_normalize(changes[name], region=site.country)
            except ValidationError as exc:
                errors[name] = exc.messages
    # Checked when the contact or the phone is being set: an intake that says nothing
    # keeps the model's default, and an edit of something else leaves both as they are.
    if "preferred_contact" in changes or ("phone" in changes and current is not None):
        contact = changes.get("preferred_contact", current.preferred_contact if current else "")
        phone = changes.get("phone", current.phone if current else "")
        if contact == ContactChannel.SMS and "phone" not in errors and not phone_can_text(phone):
            errors["preferred_contact"] = [str(SMS_NEEDS_MOBILE if phone else SMS_NEEDS_NUMBER)]
    if errors:
        raise ValidationError(errors)


PATIENT_EDITABLE_FIELDS = frozenset(
    {
        "legal_first_name",
        "legal_last_name",
        "preferred_name",
        "date_of_birth",
        "sex",
        "gender_identity",
        "phone",
        "email",
        "preferred_contact",
        "preferred_language",
        "emergency_contact_name",
        "emergency_contact_relationship",
        "emergency_contact_phone",
        "primary_substance",
        "secondary_substance",
        "naloxone_kit_given_on",
        "safety_notes",
    }
)


@transaction.atomic
def patient_update(
    *,
    actor: User | None,
    patient: Patient,
    now: datetime | None = None,
    expected_updated_at: datetime | None = None,
    **changes: Any,
) -> Patient:
    """Change demographics. A form posts the ``updated_at`` it was rendered with: its
    unchanged fields would otherwise silently undo a colleague's save made meanwhile."""
    unknown = set(changes) - PATIENT_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    require_dates_in_range(**{k: v for k, v in changes.items() if isinstance(v, date)})
    patient = (
        Patient.objects.select_for_update(of=("self",)).select_related("site").get(pk=patient.pk)
    )
    if expected_updated_at is not None and patient.updated_at != expected_updated_at:
        raise ConcurrentEditError(
            "Someone else changed this patient's details while you were editing. "
            "Reload the page and make your change again."
        )
    if "date_of_birth" in changes:
        validate_date_of_birth(changes["date_of_birth"], site_today(patient.site, now))
    contact_details_clean(patient.site, changes, current=patient)
    changed = [f for f, v in changes.items() if getattr(patient, f) != v]
    for field in changed:
        setattr(patient, field, changes[field])
    for name in PHONE_FIELDS:
        # A number saved again replaces the unreadable text kept from before numbers
        # were checked: the demographics form showed it to the person saving.
        if name in changes and getattr(patient, f"{name}_legacy"):
            setattr(patient, f"{name}_legacy", "")
            changed.append(f"{name}_legacy")
    if changed:
        patient.save(update_fields=[*changed, "updated_at"])
        # Field names only: the audit trail must not become a second copy of the chart.
        audit.record(
            action="patient.updated",
            actor=actor,
            patient_id=patient.pk,
            site_id=patient.site_id,
            obj=patient,
            detail={"fields": sorted(changed)},
        )
    return patient


@transaction.atomic
def patient_link_portal_account(
    *, actor: User | None, patient: Patient, username: str, password: str | None
) -> User:
    if patient.user_id is not None:
        raise ValidationError("This patient already has a portal account.")
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": "That username is taken."})
    user = User.objects.create_user(
        username=username,
        password=password,
        first_name=patient.preferred_name or patient.legal_first_name,
        last_name=patient.legal_last_name,
        email=patient.email,
    )
    patient.user = user
    patient.save(update_fields=["user", "updated_at"])
    audit.record(
        action="patient.portal_account_created",
        actor=actor,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=patient,
    )
    return user


@transaction.atomic
def patient_language_set(*, actor: User, patient: Patient, language: str) -> Patient:
    """The language the portal, reminders and check-ins speak to the patient in (the
    portal's own picker; staff set it on the demographics form)."""
    if language not in Language.values:
        raise ValidationError({"language": _("Choose English or Spanish.")})
    patient = Patient.objects.select_for_update(of=("self",)).get(pk=patient.pk)
    if patient.preferred_language == language:
        return patient
    before = patient.preferred_language
    patient.preferred_language = language
    patient.save(update_fields=["preferred_language", "updated_at"])
    audit.record(
        action="patient.language_set",
        actor=actor,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=patient,
        detail={"from": before, "to": language},
    )
    return patient
