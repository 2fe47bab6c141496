"""Contingency management for ``seed_scale``: a stimulant program (the defaults) at every
site, one in twenty active patients enrolled from the start of the history (the bench
patient and some of the bench counselor's caseload included), and their tests counted
through the real ledger service in collection order, so the ledger holds every kind of
entry the rules produce (earned at each step, resets, caps) with consistent running
totals; then a reward handed out for every third episode with a balance, half of them
reconciled.

Unlike the other seeders this one goes through the services: the ledger's running totals
and steps are the point of the data, and computing them a second way here would be a
second copy of the rules. It costs about one second per hundred tests counted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contingency.models import CMEnrollment, LedgerEntry, Program
from contingency.services.ledger import (
    cm_enroll,
    reward_issue,
    reward_reconcile,
    selections_evaluate,
)
from drugtests.models import Selection
from patients.models import Enrollment, Patient

if TYPE_CHECKING:
    from bench.scale import ScaleContext

SHARE = 20  # one patient in SHARE is enrolled


def seed_scale(ctx: ScaleContext) -> None:
    if Program.objects.filter(site__in=ctx.sites).exists():
        ctx.log.append("contingency: already seeded")
        return
    director = ctx.staff["director"]
    counselor = ctx.staff["counselor"]
    programs = {
        site.pk: Program.objects.create(site=site, name="Stimulant CM", created_at=ctx.now)
        for site in ctx.sites
    }
    active = list(
        Enrollment.objects.filter(site__in=ctx.sites, status="active")
        .order_by("patient_id")
        .values_list("patient_id", "site_id", "admission_date")
    )
    bench_patient = Patient.objects.filter(user__username="scale_patient1").values_list(
        "pk", flat=True
    )
    chosen = {
        patient_id
        for index, (patient_id, _, _) in enumerate(active)
        if index % SHARE == 0 or patient_id in set(bench_patient)
    }
    caseload = list(
        Patient.objects.filter(primary_counselor=counselor, pk__in=[p for p, _, _ in active])
        .order_by("pk")
        .values_list("pk", flat=True)[:10]
    )
    chosen.update(caseload)
    episodes: list[CMEnrollment] = []
    for patient_id, site_id, admitted in active:
        if patient_id not in chosen:
            continue
        episodes.append(
            cm_enroll(
                actor=director,
                program=programs[site_id],
                patient=Patient.objects.get(pk=patient_id),
                starts_on=max(admitted, ctx.start),
                now=ctx.now,
            )
        )
    tests = list(
        Selection.objects.filter(patient_id__in=chosen, date__gte=ctx.start)
        .order_by("date", "pk")
        .values_list("pk", flat=True)
    )
    counted = 0
    for start in range(0, len(tests), 200):
        counted += selections_evaluate(selection_ids=tests[start : start + 200], now=ctx.now)
    issued = reconciled = 0
    for index, episode in enumerate(episodes):
        last = LedgerEntry.objects.filter(enrollment=episode).order_by("-seq").first()
        if index % 3 or last is None or last.balance <= 0:
            continue
        entry = reward_issue(
            actor=counselor,
            cm_enrollment=episode,
            amount=last.balance,
            reward_ref=f"GC-{episode.pk:06d}",
            now=ctx.now,
        )
        issued += 1
        if index % 2 == 0:
            reward_reconcile(actor=director, entry=entry, now=ctx.now)
            reconciled += 1
    ctx.log.append(
        f"contingency: {len(episodes)} episodes, {counted} ledger entries from "
        f"{len(tests)} tests, {issued} rewards handed out, {reconciled} reconciled"
    )
