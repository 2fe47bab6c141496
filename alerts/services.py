"""Writes of the alert queue: reconcile the rows with the rules, and staff setting an
alert aside (acknowledge, snooze) with a reason.

``alerts_reconcile`` is the only writer of an alert's cause (raise, update, resolve,
re-open); the staff services only change who acted and why. Every write is audited in
its own transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import audit, clock
from core.alerts import Alert as Wanted
from core.alerts import collect_by_rule, rules_at
from core.models import User
from core.validators import require_plain_text
from patients.models import OPEN_STATUSES, Patient

from .models import ACTIVE_STATES, REASON_MAX, SNOOZE_MAX_DAYS, Alert, AlertState

SWEEP_BATCH = 200
# Fields a rule's answer may change on a row that stays open.
_CONTENT = ("kind", "severity", "message", "action_url", "action_label", "owner_id", "due")


@dataclass
class Reconciled:
    raised: int = 0
    updated: int = 0
    reopened: int = 0
    resolved: int = 0

    @property
    def changed(self) -> int:
        return self.raised + self.updated + self.reopened + self.resolved


def _wanted(patients: list[Patient], now: datetime) -> dict[str, tuple[str, Wanted]]:
    """key -> (rule, alert) of every rule for ``patients``; the rules run once per site
    time zone (their ``today`` is site-local), each in a fixed number of queries."""
    by_zone: dict[str, list[int]] = defaultdict(list)
    for p in patients:
        by_zone[p.site.time_zone].append(p.pk)
    wanted: dict[str, tuple[str, Wanted]] = {}
    with rules_at(now):
        for zone, ids in by_zone.items():
            today = timezone.localdate(now, ZoneInfo(zone))
            for rule_name, alert in collect_by_rule(Patient.objects.filter(pk__in=ids), today):
                # The first answer for a key wins: one row per cause.
                wanted.setdefault(alert.key, (rule_name, alert))
    return wanted


def _content(alert: Wanted, owner_id: int | None) -> dict[str, Any]:
    return {
        "kind": alert.kind[:60],
        "severity": alert.severity,
        "message": alert.message[:500],
        "action_url": alert.action_url[:300],
        "action_label": alert.action_label[:80],
        "owner_id": alert.owner_id or owner_id,
        "due": alert.due,
    }


@transaction.atomic
def alerts_reconcile(*, patient_ids: Iterable[int], now: datetime | None = None) -> Reconciled:
    """Make the patients' alert rows what the rules say now: raise the new, update the
    changed, re-open a resolved cause that is back, resolve those whose cause is gone.

    The patients' rows are locked (in id order, so two workers never deadlock), so two
    reconciles of the same patients run one after the other; the unique key is the
    backstop for a row raised by a reconcile of other patients."""
    now = clock.now(now)
    result = Reconciled()
    ids = sorted({int(pk) for pk in patient_ids})
    if not ids:
        return result
    patients = list(
        Patient.objects.filter(pk__in=ids)
        .order_by("pk")
        .select_for_update(of=("self",))
        .select_related("site")
        .only("pk", "primary_counselor", "site", "site__time_zone")
    )
    if not patients:
        return result
    counselor = {p.pk: p.primary_counselor_id for p in patients}
    wanted = _wanted(patients, now)
    existing = {
        a.key: a
        for a in Alert.objects.filter(patient_id__in=counselor).filter(state__in=ACTIVE_STATES)
    }
    existing.update(
        {
            a.key: a
            for a in Alert.objects.filter(
                key__in=[k for k in wanted if k not in existing], state=AlertState.RESOLVED
            )
        }
    )
    new, changed = [], []
    for key, (rule_name, want) in wanted.items():
        content = _content(want, counselor.get(want.patient_id))
        row = existing.get(key)
        if row is None:
            new.append(
                Alert(
                    rule=rule_name[:60],
                    key=key[:200],
                    subject=key.split(":", 1)[-1][:200],
                    patient_id=want.patient_id,
                    can_set_aside=want.can_set_aside,
                    raised_at=now,
                    updated_at=now,
                    state=AlertState.OPEN,
                    **content,
                )
            )
            continue
        reopen = row.state == AlertState.RESOLVED
        if not reopen and all(getattr(row, f) == v for f, v in content.items()):
            continue
        for field, value in content.items():
            setattr(row, field, value)
        row.updated_at = now
        if reopen:
            # The same cause is back: its row again, open, with nobody's earlier reason.
            row.state, row.raised_at, row.resolved_at = AlertState.OPEN, now, None
            row.snoozed_until, row.acted_by, row.acted_at, row.reason = None, None, None, ""
            result.reopened += 1
        else:
            result.updated += 1
        changed.append(row)
    if new:
        result.raised = len(Alert.objects.bulk_create(new, ignore_conflicts=True))
    if changed:
        Alert.objects.bulk_update(
            changed,
            [
                *_CONTENT,
                "updated_at",
                "state",
                "raised_at",
                "resolved_at",
                "snoozed_until",
                "acted_by",
                "acted_at",
                "reason",
            ],
        )
    gone = [a.pk for k, a in existing.items() if k not in wanted and a.state in ACTIVE_STATES]
    if gone:
        result.resolved = Alert.objects.filter(pk__in=gone, state__in=ACTIVE_STATES).update(
            state=AlertState.RESOLVED, resolved_at=now, updated_at=now
        )
    if result.changed:
        audit.record(
            action="alerts.reconciled",
            at=now,
            detail={
                "patients": len(patients),
                "raised": result.raised,
                "updated": result.updated,
                "reopened": result.reopened,
                "resolved": result.resolved,
            },
        )
    return result


def sweep_patient_ids() -> list[int]:
    """Patients the sweep looks at: those in care, and those with an alert still active
    (a discharge resolves theirs)."""
    in_care = Patient.objects.filter(enrollments__status__in=OPEN_STATUSES).values_list(
        "pk", flat=True
    )
    alerted = Alert.objects.filter(state__in=ACTIVE_STATES).values_list("patient_id", flat=True)
    return sorted(set(in_care) | set(alerted))


def alerts_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> Reconciled:
    """Reconcile every patient, ``batch`` at a time, each batch in its own transaction
    (the time-based rules: no contact for a week, a session whose attendance was not
    taken, a week's hours)."""
    now = clock.now(now)
    total = Reconciled()
    ids = sweep_patient_ids()
    for start in range(0, len(ids), batch):
        done = alerts_reconcile(patient_ids=ids[start : start + batch], now=now)
        total.raised += done.raised
        total.updated += done.updated
        total.reopened += done.reopened
        total.resolved += done.resolved
    return total


def _check_reason(reason: str) -> str:
    reason = reason.strip()
    require_plain_text(reason=reason)
    if not reason:
        raise ValidationError({"reason": "Say why the alert is set aside."})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"At most {REASON_MAX} characters."})
    return reason


def _lock_settable(alert: Alert) -> Alert:
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if not locked.can_set_aside:
        raise ValidationError("This alert stays until its follow-up is recorded.")
    if locked.state == AlertState.RESOLVED:
        raise ValidationError("This alert is already resolved.")
    return locked


def _set_aside(
    alert: Alert,
    *,
    state: str,
    until: datetime | None,
    actor: User,
    now: datetime,
    reason: str,
    action: str,
    detail: dict[str, str],
) -> Alert:
    locked = _lock_settable(alert)
    locked.state, locked.snoozed_until = state, until
    locked.acted_by, locked.acted_at, locked.reason, locked.updated_at = actor, now, reason, now
    locked.save(
        update_fields=["state", "snoozed_until", "acted_by", "acted_at", "reason", "updated_at"]
    )
    audit.record(
        action=action,
        actor=actor,
        patient_id=locked.patient_id,
        obj=locked,
        at=now,
        detail={"key": locked.key, "reason": reason, **detail},
    )
    return locked


@transaction.atomic
def alert_acknowledge(
    *, actor: User, alert: Alert, reason: str, now: datetime | None = None
) -> Alert:
    """The alert is seen and in hand: it leaves the queue until its cause is resolved
    (or comes back after resolution)."""
    now = clock.now(now)
    reason = _check_reason(reason)
    return _set_aside(
        alert,
        state=AlertState.ACKNOWLEDGED,
        until=None,
        actor=actor,
        now=now,
        reason=reason,
        action="alerts.acknowledged",
        detail={},
    )


@transaction.atomic
def alert_snooze(
    *, actor: User, alert: Alert, until: datetime, reason: str, now: datetime | None = None
) -> Alert:
    """Out of the queue until ``until`` (at most SNOOZE_MAX_DAYS ahead), then back."""
    now = clock.now(now)
    reason = _check_reason(reason)
    if until <= now:
        raise ValidationError({"until": "Snooze until a time in the future."})
    if until > now + timedelta(days=SNOOZE_MAX_DAYS):
        raise ValidationError({"until": f"Snooze for at most {SNOOZE_MAX_DAYS} days."})
    return _set_aside(
        alert,
        state=AlertState.SNOOZED,
        until=until,
        actor=actor,
        now=now,
        reason=reason,
        action="alerts.snoozed",
        detail={"until": until.isoformat()},
    )
