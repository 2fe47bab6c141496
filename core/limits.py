"""How long free text may be: one table, read by the models (and so their database
constraints and ModelForms), the plain forms, and the services that write text no form
has checked.

In the database every free-text column stays a ``TextField`` with ``max_length`` and gets a
``CheckConstraint`` on ``Length(field) <= limit`` (``length_constraint``), rather than
becoming a ``CharField`` (varchar):
- SQLite, the development database, enforces a CHECK but ignores varchar's length, so a
  value refused in production is refused in development too;
- ModelForms keep a textarea (a CharField would render a one-line input), and a TextField's
  ``max_length`` still reaches the form field, its validator and the ``maxlength`` attribute;
- raising a limit later swaps a constraint and rewrites no column.

``max_length`` on a TextField is not checked by Django when a model is saved, so
``refuse_overlong_text`` (a ``pre_save`` receiver, connected in ``CoreConfig.ready``) refuses
an over-long value from any service with a ``ValidationError`` naming the field; services
whose text the system writes itself (a failure message, a reminder's body) ``clip`` it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

ADDRESS = 500  # a site's postal address
SHORT_REASON = 500  # a one-line reason typed in a list (late entry, cancelling a change)
REASON = 2_000  # why something was done: a change, a cancellation, a correction, access
NOTE = 10_000  # a clinical note or plan: safety notes, discharge, attendance, results
INSTRUCTIONS = 10_000  # a homework's instructions
HOMEWORK_ANSWER = 20_000  # a patient's written homework answer
MESSAGE = 20_000  # a reminder's text, written by the system

LIST_PREVIEW = 600  # characters of a long text shown on a list page, with a link to all
NEAR_SHARE = 0.1  # the counter under a textarea shows in the last tenth of its limit


def too_long_message(limit: int, given: int) -> str:
    # Django's own MaxLengthValidator wording, so a form and a service say the same.
    return f"Ensure this value has at most {limit} characters (it has {given})."


def length_constraint(field: str, limit: int) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=LessThanOrEqual(Length(field), limit),
        name=f"%(app_label)s_%(class)s_{field}_max_len",
        violation_error_message=f"Keep {field.replace('_', ' ')} under {limit:,} characters.",
    )


def clip(text: str, limit: int) -> str:
    """Text the system writes (never what a person typed), cut to fit with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@cache  # once per model class: the receiver runs on every save of every model
def limited_fields(model: type[models.Model]) -> list[models.TextField[Any, Any]]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.TextField) and f.max_length is not None
    ]


def refuse_overlong_text(sender: type[models.Model], instance: models.Model, **_: Any) -> None:
    errors: dict[str, str] = {}
    for field in limited_fields(sender):
        value = getattr(instance, field.attname)
        assert field.max_length is not None
        if isinstance(value, str) and len(value) > field.max_length:
            errors[field.name] = too_long_message(field.max_length, len(value))
    if errors:
        raise ValidationError(errors)
