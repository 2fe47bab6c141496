"""Alert rules for the staff home's alert queue.

A rule answers "which alerts should exist now" for a set of patients; the ``alerts`` app
(``alerts.services.alerts_reconcile``) stores the answer as rows, raising new ones and
resolving those whose cause is gone, when a domain event or the periodic sweep asks.

An app contributes rules in its ``alerts`` module: functions registered with
``@rule(order=...)`` that read the app's data (read-only) for a set of patients and
return alerts, each in a fixed number of queries. ``AlertsConfig.ready()`` finds those
modules with ``autodiscover_modules``, so neither core nor dashboard names the apps.

An alert's key names the cause (e.g. one order's due date): one row per key, so the same
cause never raises two alerts, and a new cause (a new due date) is a new alert that an
earlier acknowledgement never hides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from django.db.models import QuerySet

from . import clock
from .registry import Registry


@dataclass
class Alert:
    key: str
    kind: str
    severity: str  # "danger" | "warning" | "info"; always shown with words too
    patient_id: int
    patient_name: str
    message: str
    action_url: str
    action_label: str
    # An alert that must stay until the work is done (a safety follow-up) cannot be
    # acknowledged or snoozed.
    can_set_aside: bool = True
    # Who acts on it; None: the patient's primary counselor.
    owner_id: int | None = None
    due: date | None = None

    @property
    def severity_label(self) -> str:
        return {"danger": "Urgent", "warning": "Action needed", "info": "Note"}[self.severity]


# A rule is given a queryset of patients.Patient; core sits below patients and cannot
# name the model, so the element type is left open here and narrowed by each rule.
Rule = Callable[[QuerySet[Any], date], list[Alert]]
R = TypeVar("R", bound=Rule)

# Keyed by the rule's function name, which is how a role's queue picks its rules.
RULES: Registry[Rule] = Registry(unique=True)


def rule(*, order: int) -> Callable[[R], R]:
    """Register a rule under its function name; the function is returned unchanged."""

    def decorator(func: R) -> R:
        RULES.add(func.__name__, func, order=order)
        return func

    return decorator


SEVERITY_ORDER = {"danger": 0, "warning": 1, "info": 2}


def collect_alerts(
    patients: QuerySet[Any], today: date, *, only: frozenset[str] | None = None
) -> list[Alert]:
    """Every registered rule's alerts (or those of the rules named in ``only``), most
    urgent first."""
    rules = [e.value for e in RULES.entries() if only is None or e.key in only]
    alerts = [a for r in rules for a in r(patients, today)]
    return sorted(alerts, key=lambda a: (SEVERITY_ORDER[a.severity], a.patient_name, a.kind))


def collect_by_rule(patients: QuerySet[Any], today: date) -> list[tuple[str, Alert]]:
    """Every registered rule's alerts with the rule's name, in the rules' order."""
    return [(e.key, a) for e in RULES.entries() for a in e.value(patients, today)]


# The instant a reconcile asks the rules about; a rule that needs more than the day (a
# session past its end) reads it with ``rules_now``.
_RULES_NOW: ContextVar[datetime | None] = ContextVar("rules_now", default=None)


@contextmanager
def rules_at(now: datetime) -> Iterator[None]:
    token = _RULES_NOW.set(now)
    try:
        yield
    finally:
        _RULES_NOW.reset(token)


def rules_now() -> datetime:
    return _RULES_NOW.get() or clock.now()
