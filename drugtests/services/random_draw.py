"""Writes for drug testing. Each is atomic and writes its audit row in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core import audit, clock
from core.clock import site_today
from core.formats import format_when
from core.models import Site, User
from patients.models import Patient
from patients.selectors import current_enrollment, prescribed_medications

from .. import draws
from ..interpretation import (
    effective_results,
    expected_analytes,
    interpret,
    is_opioid,
    overall_outcome,
)
from ..models import (
    INVALID_VALIDITY,
    REASON_MAX_LENGTH,
    Analyte,
    AnalyteOutcome,
    AnalyteResult,
    Draw,
    DrawCorrection,
    DrawPoolEntry,
    Interpretation,
    Method,
    Outcome,
    Selection,
    Specimen,
    SpecimenType,
    TestAlert,
    TestingPolicy,
    TestResult,
    Validity,
)
from ..selectors import (
    MINIMUM_WINDOW,
    Candidate,
    active_policies,
    draw_day,
    eligible_pool,
    notice_at,
    policy_for,
    selection_window,
)
from ..signals import draw_completed

# Kept for callers of the old name: the shortest window a selected patient is given.
MINIMUM_NOTICE = MINIMUM_WINDOW


def _fair_deadline(policy: TestingPolicy, site: Site, on: date, now: datetime) -> datetime:
    return selection_window(policy, site, on, now)[1]


def _clean_reason(reason: str, field: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field: "A for-cause test needs a reason."})
    if "\x00" in reason:
        raise ValidationError({field: "The reason contains a character that is not allowed."})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {field: f"Keep the reason under {REASON_MAX_LENGTH} characters ({len(reason)} given)."}
        )
    return reason


# --- the draw ---------------------------------------------------------------


@dataclass
class DrawResult:
    draw: Draw
    created: bool


def draw_run(
    *,
    site: Site,
    on: date | None = None,
    now: datetime | None = None,
    actor: User | None = None,
    trigger: str = Draw.Trigger.COMMAND,
) -> DrawResult:
    """Draw the site's random tests for a site-local day; a second call changes nothing."""
    now = clock.now(now)
    today = site_today(site, now)
    # After hours (a late beat, a run after closing) today's tests can no longer be given
    # fairly: the draw is for the next clinic day, told to patients when it opens.
    window_day = draw_day(site, now)
    if on is None or on == today:
        on = window_day
    elif on > today and on != window_day:
        raise ValidationError({"date": "A draw cannot be made for a future day."})
    try:
        with transaction.atomic():
            return _draw_run(
                site=site, on=on, window_day=window_day, now=now, actor=actor, trigger=trigger
            )
    except IntegrityError:
        # A concurrent run (beat and a command) won the (site, date) key: nothing changed.
        existing = Draw.objects.filter(site=site, date=on).first()
        if existing is None:
            raise
        return DrawResult(existing, False)


def _draw_run(
    *,
    site: Site,
    on: date,
    window_day: date,
    now: datetime,
    actor: User | None,
    trigger: str,
) -> DrawResult:
    # The site row lock serialises draws of one site, so two runs cannot both extend the
    # chain from the same predecessor; the unique (site, date) key is the final word.
    Site.objects.select_for_update().filter(pk=site.pk).first()
    existing = Draw.objects.filter(site=site, date=on).first()
    if existing is not None:
        return DrawResult(existing, False)
    last = Draw.objects.filter(site=site).order_by("-seq").values_list("seq", "hash").first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, draws.GENESIS)

    # 1-2: seed and its commitment; the frozen pool and its hash, stored before selecting.
    seed = draws.new_seed()
    pool = eligible_pool(site, on)
    rows = [(c.patient_id, c.enrollment_id, c.policy_id, c.p_num, c.p_den) for c in pool]
    draw = Draw(
        site=site,
        date=on,
        seq=seq,
        status=Draw.Status.COMMITTED,
        trigger=trigger,
        created_at=now,
        created_by=actor,
        seed_commitment=draws.commitment(seed),
        pool_hash=draws.pool_hash(rows),
        pool_size=len(rows),
        prev_hash=prev,
    )
    draw.save(force_insert=True)

    # 3: each patient's number from HMAC-SHA256(seed, draw id | patient id).
    entries, selected = [], []
    for c in pool:
        u = draws.uniform_hex(seed, draw.pk, c.patient_id)
        chosen = draws.is_selected(u, c.p_num, c.p_den)
        entries.append((c, u, chosen))
        if chosen:
            selected.append(c)
    _insert_pool(draw, entries)

    # 4: reveal the seed, store the result and the chain hash (the only update a draw
    # ever gets, conditional on it still being the committed row written above).
    draw.seed = seed.hex()
    draw.selected_count = len(selected)
    draw.status = Draw.Status.FINAL
    draw.hash = draws.draw_hash(draw, [c.patient_id for c in selected])
    updated = Draw.objects.filter(pk=draw.pk, status=Draw.Status.COMMITTED).update(
        seed=draw.seed, selected_count=draw.selected_count, status=draw.status, hash=draw.hash
    )
    if updated != 1:
        raise IntegrityError("draw changed while it was being made")

    policies = {p.pk: p for p in _policies_by_id(site)}
    # A draw for a past day (the demo, a backfill) cannot be given that day: its patients
    # get the window a draw made now would give.
    deadlines = {
        pk: _fair_deadline(p, site, max(on, window_day), now) for pk, p in policies.items()
    }
    _insert_selections(draw, selected, deadlines, now)
    draw_completed.send(sender=Draw, draw=draw)
    # The keyed audit chain anchors the draw's hash: rewriting the whole draw chain
    # consistently would still not match the audit trail.
    audit.record(
        action="drugtests.draw",
        actor=actor,
        site_id=site.pk,
        obj=draw,
        at=now,
        detail={
            "date": on.isoformat(),
            "seq": seq,
            "hash": draw.hash,
            "pool_size": draw.pool_size,
            "selected": draw.selected_count,
        },
    )
    return DrawResult(draw, True)


def _pg_array(values: Iterable[object]) -> str:
    # Integers, hex digits and t/f need no quoting in an array literal; sending one text
    # literal per column is several times faster than adapting 10,000 Python values.
    return "{" + ",".join(map(str, values)) + "}"


def _insert_pool(draw: Draw, entries: Sequence[tuple[Candidate, str, bool]]) -> None:
    if connection.vendor == "postgresql":
        # One INSERT from arrays: 10,000 pool rows in a few milliseconds, where
        # bulk_create spends most of a second building model instances.
        table = DrawPoolEntry._meta.db_table
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} "  # noqa: S608 - table name from model meta
                "(draw_id, patient_id, enrollment_id, policy_id, p_num, p_den, uniform, selected) "
                "SELECT %s, * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], "
                "%s::smallint[], %s::smallint[], %s::varchar[], %s::boolean[])",
                [
                    draw.pk,
                    _pg_array(c.patient_id for c, _, _ in entries),
                    _pg_array(c.enrollment_id for c, _, _ in entries),
                    _pg_array(c.policy_id for c, _, _ in entries),
                    _pg_array(c.p_num for c, _, _ in entries),
                    _pg_array(c.p_den for c, _, _ in entries),
                    _pg_array(u for _, u, _ in entries),
                    _pg_array("t" if chosen else "f" for _, _, chosen in entries),
                ],
            )
        return
    DrawPoolEntry.objects.bulk_create(
        [
            DrawPoolEntry(
                draw=draw,
                patient_id=c.patient_id,
                enrollment_id=c.enrollment_id,
                policy_id=c.policy_id,
                p_num=c.p_num,
                p_den=c.p_den,
                uniform=u,
                selected=chosen,
            )
            for c, u, chosen in entries
        ],
        batch_size=2000,
    )


def _insert_selections(
    draw: Draw, selected: Sequence[Candidate], deadlines: dict[int, datetime], now: datetime
) -> None:
    if not selected:
        return
    if connection.vendor == "postgresql":
        table = Selection._meta.db_table
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} "  # noqa: S608 - table name from model meta
                "(patient_id, policy_id, deadline, site_id, date, kind, draw_id, reason, "
                "status, outcome, created_at) "
                "SELECT p, pol, dl, %s, %s, %s, %s, '', %s, '', %s "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[]) AS t(p, pol, dl)",
                [
                    draw.site_id,
                    draw.date,
                    Selection.Kind.RANDOM,
                    draw.pk,
                    Selection.Status.PENDING,
                    now,
                    _pg_array(c.patient_id for c in selected),
                    _pg_array(c.policy_id for c in selected),
                    _pg_array(f'"{deadlines[c.policy_id].isoformat()}"' for c in selected),
                ],
            )
        return
    Selection.objects.bulk_create(
        [
            Selection(
                patient_id=c.patient_id,
                site_id=draw.site_id,
                date=draw.date,
                kind=Selection.Kind.RANDOM,
                draw=draw,
                policy_id=c.policy_id,
                deadline=deadlines[c.policy_id],
                created_at=now,
            )
            for c in selected
        ],
        batch_size=2000,
    )


def _policies_by_id(site: Site) -> list[TestingPolicy]:
    by_phase, default = active_policies(site)
    return [*by_phase.values(), *([default] if default else [])]


@transaction.atomic
def selection_excuse(
    *, actor: User, selection: Selection, reason: str, now: datetime | None = None
) -> DrawCorrection:
    """Excuse one selection (e.g. hospitalised): a correction that references the draw."""
    now = clock.now(now)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the test is excused."})
    selection = Selection.objects.select_for_update().get(pk=selection.pk)
    if selection.kind != Selection.Kind.RANDOM or selection.draw_id is None:
        raise ValidationError("Only a random selection is corrected against its draw.")
    if selection.status != Selection.Status.PENDING:
        raise ValidationError(f"This test is already {selection.get_status_display().lower()}.")
    selection.status = Selection.Status.EXCUSED
    selection.status_changed_at = now
    selection.save(update_fields=["status", "status_changed_at"])
    correction = DrawCorrection.objects.create(
        draw_id=selection.draw_id,
        selection=selection,
        kind=DrawCorrection.Kind.EXCUSE,
        reason=reason.strip(),
        created_by=actor,
        created_at=now,
    )
    audit.record(
        action="drugtests.selection_excused",
        actor=actor,
        patient_id=selection.patient_id,
        site_id=selection.site_id,
        obj=correction,
    )
    return correction


# --- orders and collection ----------------------------------------------------


def _policy_for_patient(patient: Patient) -> TestingPolicy:
    enrollment = current_enrollment(patient)
    by_phase, default = active_policies(patient.site)
    policy = policy_for(enrollment.phase_id if enrollment else None, by_phase, default)
    if policy is None:
        raise ValidationError("The site has no testing policy for this patient; add one first.")
    return policy


@transaction.atomic
def for_cause_order(
    *, actor: User, patient: Patient, reason: str, now: datetime | None = None
) -> Selection:
    """A clinician's for-cause test: labelled, never part of the random statistics."""
    now = clock.now(now)
    reason = _clean_reason(reason, "reason")
    policy = _policy_for_patient(patient)
    # Ordered after hours, the test is for the next clinic day, like a late draw.
    on = draw_day(patient.site, now)
    return _for_cause_create(
        actor=actor,
        patient=patient,
        policy=policy,
        reason=reason,
        on=on,
        deadline=_fair_deadline(policy, patient.site, on, now),
        now=now,
    )


def _for_cause_create(
    *,
    actor: User,
    patient: Patient,
    policy: TestingPolicy,
    reason: str,
    on: date,
    deadline: datetime,
    now: datetime,
) -> Selection:
    selection = Selection.objects.create(
        patient=patient,
        site=patient.site,
        date=on,
        kind=Selection.Kind.FOR_CAUSE,
        policy=policy,
        reason=reason,
        ordered_by=actor,
        deadline=deadline,
        created_at=now,
    )
    audit.record(
        action="drugtests.for_cause_ordered",
        actor=actor,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=selection,
    )
    return selection


def _clean_decimal(value: object) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


@transaction.atomic
def specimen_collect(
    *,
    actor: User,
    selection: Selection | None = None,
    patient: Patient | None = None,
    for_cause_reason: str = "",
    chain_of_custody_id: str,
    method: str,
    observed: bool,
    specimen_type: str = "",
    temperature_in_range: bool | None = None,
    validity: str = "",
    creatinine_mg_dl: Decimal | str | None = None,
    specific_gravity: Decimal | str | None = None,
    ph: Decimal | str | None = None,
    oxidants_detected: bool | None = None,
    notes: str = "",
    collected_at: datetime | None = None,
    now: datetime | None = None,
) -> Specimen:
    """Record a collected specimen against a selection (or a new for-cause order)."""
    now = clock.now(now)
    collected_at = collected_at or now
    walk_in = False
    if selection is None:
        if patient is None:
            raise ValidationError({"patient": "Choose the patient."})
        on = site_today(patient.site, now)
        selection = Selection.objects.filter(
            patient=patient, date=on, status=Selection.Status.PENDING
        ).first()
        if selection is None:
            if not for_cause_reason.strip():
                raise ValidationError(
                    {
                        "for_cause_reason": "This patient was not selected for testing today. "
                        "Enter it as a for-cause test and give the reason."
                    }
                )
            reason = _clean_reason(for_cause_reason, "for_cause_reason")
            _check_walk_in_time(patient.site, collected_at, now)
            policy = _policy_for_patient(patient)
            # The specimen is in hand: the order is for today whatever the hour, and its
            # deadline is never before the collection it records.
            _, deadline = selection_window(policy, patient.site, on, now)
            selection = _for_cause_create(
                actor=actor,
                patient=patient,
                policy=policy,
                reason=reason,
                on=on,
                deadline=max(deadline, now),
                now=now,
            )
            walk_in = True
    selection = (
        Selection.objects.select_for_update(of=("self",))
        .select_related("policy", "site")
        .get(pk=selection.pk)
    )
    if selection.status != Selection.Status.PENDING:
        raise ValidationError(
            f"This test is {selection.get_status_display().lower()}; nothing to collect."
        )
    policy = selection.policy
    specimen_type = specimen_type or policy.specimen_type
    errors = {}
    if collected_at > now:
        errors["collected_at"] = "The collection time is in the future."
    elif not walk_in:
        window_error = _outside_window(selection, collected_at)
        if window_error:
            errors["collected_at"] = window_error
    if method not in Method.values:
        errors["method"] = "Choose point-of-care or laboratory."
    if specimen_type not in SpecimenType.values:
        errors["specimen_type"] = "Choose a specimen type."
    if validity and validity not in Validity.values:
        errors["validity"] = "Choose a validity outcome."
    if policy.observed_required and not observed:
        errors["observed"] = "This patient's policy requires an observed collection."
    if specimen_type == SpecimenType.URINE and temperature_in_range is None:
        errors["temperature_in_range"] = "Record whether the temperature was 90-100 °F."
    if temperature_in_range is False and not validity:
        errors["validity"] = (
            "The temperature was out of range: record the validity outcome "
            "(valid, dilute, adulterated or substituted)."
        )
    coc = (chain_of_custody_id or "").strip()
    if not coc:
        errors["chain_of_custody_id"] = "Enter the chain-of-custody form id."
    elif Specimen.objects.filter(chain_of_custody_id=coc).exists():
        errors["chain_of_custody_id"] = f"Chain-of-custody id {coc} is already used."
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            specimen = Specimen.objects.create(
                selection=selection,
                patient_id=selection.patient_id,
                collected_by=actor,
                collected_at=collected_at,
                specimen_type=specimen_type,
                observed=observed,
                temperature_in_range=temperature_in_range,
                creatinine_mg_dl=_clean_decimal(creatinine_mg_dl),
                specific_gravity=_clean_decimal(specific_gravity),
                ph=_clean_decimal(ph),
                oxidants_detected=oxidants_detected,
                validity=validity,
                chain_of_custody_id=coc,
                method=method,
                notes=notes,
            )
    except IntegrityError as exc:  # a concurrent collection took the same id
        raise ValidationError(
            {"chain_of_custody_id": f"Chain-of-custody id {coc} is already used."}
        ) from exc
    selection.status = Selection.Status.COLLECTED
    selection.status_changed_at = now
    fields = ["status", "status_changed_at"]
    if validity in INVALID_VALIDITY:
        selection.outcome = Outcome.INVALID
        fields.append("outcome")
        _alerts(selection, [(TestAlert.Kind.INVALID_SPECIMEN, "")], specimen=specimen, now=now)
    selection.save(update_fields=fields)
    audit.record(
        action="drugtests.specimen_collected",
        actor=actor,
        patient_id=selection.patient_id,
        site_id=selection.site_id,
        obj=specimen,
        detail={"selection": selection.pk, "method": method, "validity": validity},
    )
    return specimen


def _local_label(instant: datetime, site: Site) -> str:
    return format_when(instant, year=False, tz=site.tz, h24=site.clock_24h)


def _outside_window(selection: Selection, collected_at: datetime) -> str:
    """Why a collection time cannot belong to this test ('' when it can)."""
    site = selection.site
    notice = notice_at(selection)
    if collected_at < notice:
        return (
            f"The collection time is before this test's notice ({_local_label(notice, site)}); "
            "a specimen collected earlier cannot be this test's."
        )
    if collected_at > selection.deadline:
        return (
            f"The collection time is after this test's deadline "
            f"({_local_label(selection.deadline, site)})."
        )
    return ""


def _check_walk_in_time(site: Site, collected_at: datetime, now: datetime) -> None:
    # A walk-in's for-cause order is recorded with its collection: same site-local day.
    if collected_at > now:
        raise ValidationError({"collected_at": "The collection time is in the future."})
    if site_today(site, collected_at) != site_today(site, now):
        raise ValidationError(
            {"collected_at": "A walk-in for-cause collection is recorded on the day it is given."}
        )


@transaction.atomic
def selection_refuse(
    *, actor: User, selection: Selection, note: str = "", now: datetime | None = None
) -> Selection:
    now = clock.now(now)
    updated = Selection.objects.filter(pk=selection.pk, status=Selection.Status.PENDING).update(
        status=Selection.Status.REFUSED, outcome=Outcome.REFUSED, status_changed_at=now
    )
    if not updated:
        raise ValidationError("Only a pending test can be recorded as refused.")
    selection.refresh_from_db()
    audit.record(
        action="drugtests.refused",
        actor=actor,
        patient_id=selection.patient_id,
        site_id=selection.site_id,
        obj=selection,
    )
    return selection


# --- results ------------------------------------------------------------------


@transaction.atomic
def result_enter(
    *,
    actor: User,
    selection: Selection,
    source: str,
    analytes: Mapping[str, tuple[str, object]],
    lab_name: str = "",
    now: datetime | None = None,
) -> TestResult:
    """Enter a cup's or a lab's results; the lab confirms the same specimen later."""
    now = clock.now(now)
    selection = (
        Selection.objects.select_for_update(of=("self",))
        .select_related("site")
        .get(pk=selection.pk)
    )
    specimen = Specimen.objects.filter(selection=selection).first()
    if specimen is None:
        raise ValidationError(
            "No specimen was collected for this test; record the collection first."
        )
    errors = {}
    if source not in Method.values:
        errors["source"] = "Choose point-of-care or laboratory."
    elif source == Method.POC and specimen.method == Method.LAB:
        errors["source"] = "This specimen went to the laboratory; enter the lab's result."
    elif TestResult.objects.filter(specimen=specimen, source=source).exists():
        errors["source"] = f"A {Method(source).label.lower()} result was already entered."
    unknown = set(analytes) - set(Analyte.values)
    if unknown:
        errors["analytes"] = f"Unknown analytes: {', '.join(sorted(unknown))}."
    tested = [a for a, (o, _) in analytes.items() if o != AnalyteOutcome.NOT_TESTED]
    if not tested:
        errors["analytes"] = "Enter at least one analyte's result."
    for code, (outcome, ng) in analytes.items():
        if outcome not in AnalyteOutcome.values:
            errors[f"a_{code}"] = "Choose positive, negative or not tested."
        if ng not in (None, "") and Decimal(str(ng)) < 0:
            errors[f"ng_{code}"] = "A concentration cannot be negative."
    if errors:
        raise ValidationError(errors)
    on = timezone.localdate(specimen.collected_at, selection.site.tz)
    meds = sorted(prescribed_medications(selection.patient_id, on))
    expected = expected_analytes(meds)
    result = TestResult.objects.create(
        specimen=specimen,
        source=source,
        entered_by=actor,
        entered_at=now,
        lab_name=lab_name,
        prescribed=meds,
    )
    AnalyteResult.objects.bulk_create(
        [
            AnalyteResult(
                result=result,
                analyte=code,
                outcome=outcome,
                ng_ml=_clean_decimal(ng),
                interpretation=interpret(code, outcome, expected),
            )
            for code, (outcome, ng) in sorted(analytes.items())
        ]
    )
    merged = effective_results(specimen.results.prefetch_related("analytes"))
    outcome = overall_outcome(specimen.validity, [r.interpretation for r in merged.values()])
    if outcome and outcome != selection.outcome:
        selection.outcome = outcome
        selection.save(update_fields=["outcome"])
    findings = []
    for row in merged.values():
        if row.interpretation == Interpretation.UNEXPECTED_POSITIVE:
            findings.append((TestAlert.Kind.UNEXPECTED_POSITIVE, row.analyte))
            if is_opioid(row.analyte):
                findings.append((TestAlert.Kind.OPIOID_POSITIVE, row.analyte))
        elif row.interpretation == Interpretation.PRESCRIBED_ABSENT:
            findings.append((TestAlert.Kind.PRESCRIBED_ABSENT, row.analyte))
    _alerts(selection, findings, specimen=specimen, now=now)
    audit.record(
        action="drugtests.result_entered",
        actor=actor,
        patient_id=selection.patient_id,
        site_id=selection.site_id,
        obj=result,
        detail={"selection": selection.pk, "source": source},
    )
    return result


def _alerts(
    selection: Selection,
    findings: Sequence[tuple[str, str]],
    *,
    specimen: Specimen | None = None,
    now: datetime,
) -> None:
    if not findings:
        return
    # The (selection, kind, analyte) key makes a repeated finding (a lab confirming the
    # cup, a rerun of the deadline job) a no-op instead of a second alert.
    TestAlert.objects.bulk_create(
        [
            TestAlert(
                kind=kind,
                patient_id=selection.patient_id,
                site_id=selection.site_id,
                selection=selection,
                specimen=specimen,
                analyte=analyte,
                created_at=now,
            )
            for kind, analyte in findings
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def alert_resolve(*, actor: User, alert: TestAlert, note: str, now: datetime | None = None) -> int:
    now = clock.now(now)
    updated = TestAlert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(
        resolved_at=now, resolved_by=actor, resolution_note=note
    )
    if updated:
        audit.record(
            action="drugtests.alert_resolved",
            actor=actor,
            patient_id=alert.patient_id,
            site_id=alert.site_id,
            obj=alert,
        )
    return updated


# --- the deadline -------------------------------------------------------------


@transaction.atomic
def selections_mark_missed(*, now: datetime | None = None, site: Site | None = None) -> int:
    """Mark every pending test whose deadline has passed as missed; reruns do nothing."""
    now = clock.now(now)
    due = Selection.objects.filter(status=Selection.Status.PENDING, deadline__lte=now)
    if site is not None:
        due = due.filter(site=site)
    ids = list(due.values_list("pk", flat=True))
    if not ids:
        return 0
    # The status condition is repeated in the UPDATE: a collection committed since the
    # read above keeps its status, and a concurrent run updates nothing twice.
    count = Selection.objects.filter(pk__in=ids, status=Selection.Status.PENDING).update(
        status=Selection.Status.MISSED, outcome=Outcome.MISSED, status_changed_at=now
    )
    missed = Selection.objects.filter(pk__in=ids, status=Selection.Status.MISSED).only(
        "pk", "patient_id", "site_id"
    )
    TestAlert.objects.bulk_create(
        [
            TestAlert(
                kind=TestAlert.Kind.MISSED,
                patient_id=s.patient_id,
                site_id=s.site_id,
                selection_id=s.pk,
                created_at=now,
            )
            for s in missed
        ],
        ignore_conflicts=True,
    )
    if count:
        audit.record(action="drugtests.marked_missed", at=now, detail={"count": count})
    return count
