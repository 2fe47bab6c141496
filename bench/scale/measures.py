"""Bulk measurement-based care for ``seed_scale``: for every active episode, a PHQ-9 and a
GAD-7 at admission and every 30 days since, and a BAM every week in IOP and PHP (every 30
days in OP) when the BAM is loaded, each completed with its answers and scores; most
patients improve, some do not; one in a hundred latest PHQ-9s has item 9 above 0 with an
open safety event; and one PHQ-9 due today for every tenth patient (the bench patient
included), so the portal's check-in page has a sitting to show.

Bypasses the services on purpose (benchmark data). Scores come from ``measures.scoring``
so they agree with the answers. Answers are inserted while their sitting is not yet
completed (inserted as expired, since one open sitting per instrument is a constraint),
then the sittings are completed in bulk: on PostgreSQL the trigger of measures 0002
refuses answers to a completed sitting.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from core.clock import local_datetime
from measures import scoring
from measures.models import Administration, Answer, Instrument, SafetyEvent
from patients.models import Enrollment, Patient

if TYPE_CHECKING:
    from bench.scale import ScaleContext

BATCH = 5000


def _values(rng, items: dict, level: float) -> dict[int, int]:
    """Answers around ``level`` (0..1 of each item's range); safety items stay at 0."""
    answers = {}
    for number, item in items.items():
        values = sorted(option["value"] for option in item.options)
        if not values:
            continue
        low, top = values[0], values[-1]
        value = round(low + level * (top - low) + rng.uniform(-0.6, 0.6))
        answers[number] = max(low, min(top, value))
    for item in list(items.values())[:1]:
        for number in item.instrument.scoring.get("safety_items", []):
            answers[int(number)] = 0
    return answers


def seed_scale(ctx: ScaleContext) -> None:
    if Administration.objects.filter(patient__site__in=ctx.sites).exists():
        ctx.log.append("measures: already seeded")
        return
    instruments = {i.code: i for i in Instrument.objects.filter(is_active=True)}
    items = {
        code: {item.number: item for item in inst.items.select_related("instrument")}
        for code, inst in instruments.items()
    }
    tz = {site.pk: site.tz for site in ctx.sites}
    counselor_of = dict(
        Patient.objects.filter(site__in=ctx.sites).values_list("pk", "primary_counselor_id")
    )
    active = list(
        Enrollment.objects.filter(site__in=ctx.sites, status="active")
        .order_by("patient_id")
        .values_list("pk", "patient_id", "site_id", "level", "admission_date")
    )
    rows: list[tuple[Administration, dict[int, int], str]] = []
    for index, (enrollment_id, patient_id, site_id, level, admitted) in enumerate(active):
        start = max(admitted, ctx.start)
        improving = ctx.rng.random() < 0.7
        plan = [("phq9", 30), ("gad7", 30)]
        if "bam" in instruments:
            plan.append(("bam", 30 if level == "op" else 7))
        for code, every in plan:
            if code not in instruments:
                continue
            day, n = start, 0
            while day < ctx.today:
                level_now = 0.6 - (0.4 * n / 8 if improving else -0.05 * n / 8)
                answers = _values(ctx.rng, items[code], max(0.05, min(0.95, level_now)))
                at = local_datetime(day, time(10, 30), tz[site_id])
                rows.append(
                    (
                        Administration(
                            patient_id=patient_id,
                            enrollment_id=enrollment_id,
                            instrument=instruments[code],
                            reason="admission" if n == 0 else "scheduled",
                            due_on=day,
                            # Not open (one open sitting per instrument) and not yet
                            # completed (answers go in first); completed below.
                            status=Administration.Status.EXPIRED,
                            mode=Administration.Mode.PORTAL,
                            created_at=at,
                            started_at=at,
                        ),
                        answers,
                        code,
                    )
                )
                day += timedelta(days=every)
                n += 1
        if index % 100 == 7 and "phq9" in instruments:
            # The latest PHQ-9 of this patient answers item 9 with 1.
            for adm, answers, code in reversed(rows):
                if code == "phq9" and adm.patient_id == patient_id:
                    answers[9] = 1
                    break
    Administration.objects.bulk_create([adm for adm, _, _ in rows], batch_size=BATCH)
    Answer.objects.bulk_create(
        [
            Answer(
                administration=adm,
                item=items[code][number],
                value=value,
                answered_at=adm.started_at,
            )
            for adm, answers, code in rows
            for number, value in answers.items()
            if number in items[code]
        ],
        batch_size=BATCH,
    )
    events = []
    for adm, answers, code in rows:
        result = scoring.score(instruments[code].scoring, answers)
        adm.status = Administration.Status.COMPLETED
        adm.completed_at = adm.started_at + timedelta(minutes=4) if adm.started_at else None
        adm.total, adm.subscales, adm.band, adm.flags = (
            result.total,
            result.subscales,
            result.band,
            result.flags,
        )
        if result.safety:
            item_number, value = result.safety[0]
            events.append(
                SafetyEvent(
                    administration=adm,
                    patient_id=adm.patient_id,
                    item_number=item_number,
                    value=value,
                    raised_at=adm.completed_at,
                    owner_id=counselor_of.get(adm.patient_id),
                )
            )
    Administration.objects.bulk_update(
        [adm for adm, _, _ in rows],
        ["status", "completed_at", "total", "subscales", "band", "flags"],
        batch_size=BATCH,
    )
    SafetyEvent.objects.bulk_create(events, batch_size=BATCH)
    due = 0
    if "phq9" in instruments:
        now: datetime = ctx.now
        open_rows = [
            Administration(
                patient_id=patient_id,
                enrollment_id=enrollment_id,
                instrument=instruments["phq9"],
                reason="scheduled",
                due_on=ctx.today,
                created_at=now,
            )
            for index, (enrollment_id, patient_id, _, _, _) in enumerate(active)
            if index % 10 == 0
        ]
        # The bench patient (scale_patient1) has a sitting due whatever its index.
        bench_patient = Patient.objects.filter(user__username="scale_patient1").first()
        if bench_patient and not any(r.patient_id == bench_patient.pk for r in open_rows):
            open_rows.append(
                Administration(
                    patient=bench_patient,
                    instrument=instruments["phq9"],
                    reason="scheduled",
                    due_on=ctx.today,
                    created_at=now,
                )
            )
        Administration.objects.bulk_create(open_rows, batch_size=BATCH)
        due = len(open_rows)
    ctx.log.append(
        f"measures: {len(rows)} completed sittings, {len(events)} open safety events, "
        f"{due} due today"
    )
