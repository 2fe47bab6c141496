"""The director's record rules per site (``RecordSettings``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from core.models import Role, Site, User

from ..models import NoteFormat, RecordSettings
from ._common import audit_write

# field -> (least, most): the database's CHECK constraints on RecordSettings, so a bad
# value is a message on the form rather than an IntegrityError.
DAY_RANGES: dict[str, tuple[int, int]] = {
    "note_due_business_days": (1, 30),
    "initial_plan_days": (1, 90),
    "review_days_op": (1, 365),
    "review_days_iop": (1, 365),
    "review_days_php": (1, 365),
    "level_change_review_days": (0, 90),
    "cosign_days": (1, 90),
}
FIELDS = ("note_formats", *DAY_RANGES)


def _values(rules: RecordSettings) -> dict[str, object]:
    return {name: getattr(rules, name) for name in FIELDS}


@transaction.atomic
def record_settings_update(
    *,
    actor: User,
    site: Site,
    note_formats: list[str],
    note_due_business_days: int,
    initial_plan_days: int,
    review_days_op: int,
    review_days_iop: int,
    review_days_php: int,
    level_change_review_days: int,
    cosign_days: int,
) -> RecordSettings:
    """Set a site's record rules (the director of its organisation only); audited with
    the values before and after."""
    staff = actor.staff
    if (
        staff is None
        or not actor.is_active
        or staff.role != Role.DIRECTOR
        or staff.organization_id != site.organization_id
    ):
        raise ValidationError("Only the director sets a site's record rules.")
    days = {
        "note_due_business_days": note_due_business_days,
        "initial_plan_days": initial_plan_days,
        "review_days_op": review_days_op,
        "review_days_iop": review_days_iop,
        "review_days_php": review_days_php,
        "level_change_review_days": level_change_review_days,
        "cosign_days": cosign_days,
    }
    errors: dict[str, list[str]] = {}
    for name, value in days.items():
        least, most = DAY_RANGES[name]
        if not least <= value <= most:
            errors[name] = [f"Enter a number of days from {least} to {most}."]
    codes = [c.strip().upper() for c in note_formats if c.strip()]
    unknown = [c for c in codes if c not in NoteFormat.values]
    if unknown:
        errors["note_formats"] = [f"Unknown note format: {', '.join(unknown)} (DAP, BIRP or SOAP)."]
    elif not codes:
        errors["note_formats"] = ["Allow at least one note format."]
    if errors:
        raise ValidationError(errors)
    rules = RecordSettings.objects.select_for_update().filter(site=site).first()
    if rules is None:
        rules = RecordSettings(site=site)
    before = _values(rules) if rules.pk else None
    # The order of NoteFormat, whatever order they were ticked in.
    rules.note_formats = ",".join(c for c in NoteFormat.values if c in codes)
    for name, value in days.items():
        setattr(rules, name, value)
    rules.save()
    audit_write(
        "records.settings_update",
        actor=actor,
        patient_id=None,
        site_id=site.pk,
        obj=rules,
        before=before,
        after=_values(rules),
    )
    return rules
