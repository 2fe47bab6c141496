"""Demo drug testing: policies per site and phase, four weeks of real draws (through the
draw service, one ``now`` per day), collections and results, today's draw left pending."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from core.demo import DEMO_STEPS, DemoContext
from core.models import Organization
from patients.models import MedicationOrder

from .interpretation import expected_analytes, interpret, overall_outcome
from .models import (
    DEFAULT_PANEL,
    Analyte,
    AnalyteOutcome,
    AnalyteResult,
    Draw,
    Method,
    Outcome,
    Selection,
    SiteTestingSettings,
    Specimen,
    TestingPolicy,
    TestResult,
)
from .services.collection import specimen_collect
from .services.random_draw import draw_run
from .services.results import result_enter, selections_mark_missed

WEEKS = 4
# (phase number, frequency, period, observed)
POLICIES = [(1, 2, "week", True), (2, 1, "week", False), (3, 2, "month", False)]


@DEMO_STEPS.register("setup", order=30)
def seed_setup(ctx: DemoContext) -> None:
    from patients.models import ProgramPhase

    panel = [str(a) for a in DEFAULT_PANEL]
    for site in ctx.sites.values():
        SiteTestingSettings.objects.get_or_create(site=site, defaults={"draw_time": time(6, 0)})
        for number, freq, period, observed in POLICIES:
            phase = ProgramPhase.objects.filter(site=site, number=number).first()
            if phase is None or TestingPolicy.objects.filter(site=site, phase=phase).exists():
                continue
            TestingPolicy.objects.create(
                site=site,
                phase=phase,
                name=f"Phase {number}",
                frequency=freq,
                period=period,
                collection_days="01234",
                deadline_time=time(17, 0),
                specimen_type="urine",
                panel=panel,
                observed_required=observed,
            )
        if not TestingPolicy.objects.filter(site=site, phase__isnull=True).exists():
            TestingPolicy.objects.create(
                site=site,
                name="Site default",
                frequency=1,
                period="week",
                collection_days="01234",
                panel=panel,
            )
    ctx.log.append("Drug testing: policies per phase and a site default at each site.")


def _results(selection: Selection, meds: set[str], flavour: str) -> dict[str, tuple[str, None]]:
    expected = {Analyte.BUPRENORPHINE for m in meds if m.startswith("buprenorphine")} | (
        {Analyte.METHADONE} if "methadone" in meds else set()
    )
    out: dict[str, tuple[str, None]] = {}
    for code in selection.policy.panel:
        positive = code in expected
        if flavour == "absent" and code == Analyte.BUPRENORPHINE:
            positive = False
        if flavour == "relapse" and code == Analyte.FENTANYL:
            positive = True
        out[code] = (AnalyteOutcome.POSITIVE if positive else AnalyteOutcome.NEGATIVE, None)
    return out


def _meds_by_patient(organization: Organization) -> dict[int, list[MedicationOrder]]:
    out: dict[int, list[MedicationOrder]] = {}
    for order in MedicationOrder.objects.filter(patient__organization=organization):
        out.setdefault(order.patient_id, []).append(order)
    return out


@DEMO_STEPS.register("history", order=30)
def seed(ctx: DemoContext) -> None:
    if Draw.objects.filter(site__organization=ctx.organization).exists():
        return
    collector, nurse = ctx.staff["collector"], ctx.staff["nurse"]
    # The draws go through the real service, one ``now`` per day, so they verify.
    for site in ctx.sites.values():
        for back in range(WEEKS * 7, 0, -1):
            day = ctx.today - timedelta(days=back)
            morning = datetime.combine(day, time(6, 5), tzinfo=site.tz)
            draw_run(site=site, on=day, now=morning, trigger=Draw.Trigger.DEMO)
    past = list(
        Selection.objects.filter(site__organization=ctx.organization, date__lt=ctx.today)
        .select_related("policy", "site")
        .order_by("date", "pk")
    )
    meds_by_patient = _meds_by_patient(ctx.organization)
    flagged = {"absent": False, "relapse": False}
    specimens, results, rows, refused = [], [], [], []
    for n, selection in enumerate(past, start=1):
        roll = ctx.rng.random()
        at = datetime.combine(selection.date, time(10, 30), tzinfo=selection.site.tz)
        if roll < 0.07:
            continue  # never showed: marked missed by the deadline job below
        if roll < 0.10:
            refused.append(selection.pk)
            continue
        meds = {
            o.medication
            for o in meds_by_patient.get(selection.patient_id, [])
            if o.active_on(selection.date)
        }
        flavour = ""
        if not flagged["absent"] and any(m.startswith("buprenorphine") for m in meds):
            flavour, flagged["absent"] = "absent", True
        elif not flagged["relapse"] and not meds and roll > 0.5:
            flavour, flagged["relapse"] = "relapse", True
        coc = f"DEMO-{selection.site.code[:3].upper()}-{n:05d}"
        if flavour:
            # The two findings the demo must show go through the services (alerts included).
            specimen_collect(
                actor=collector,
                selection=selection,
                chain_of_custody_id=coc,
                method=Method.LAB,
                observed=True,
                temperature_in_range=True,
                validity="valid",
                collected_at=at,
                now=at,
            )
            result_enter(
                actor=nurse,
                selection=selection,
                source=Method.LAB,
                lab_name="Demo Toxicology",
                analytes=_results(selection, meds, flavour),
                now=at + timedelta(hours=26),
            )
            continue
        # History in bulk: the same rows the services would write, without 200 round trips.
        expected = expected_analytes(meds)
        readings = {
            code: (outcome, interpret(code, outcome, expected))
            for code, (outcome, _) in _results(selection, meds, "").items()
        }
        specimen = Specimen(
            selection=selection,
            patient_id=selection.patient_id,
            collected_by=collector,
            collected_at=at,
            specimen_type=selection.policy.specimen_type,
            observed=True,
            temperature_in_range=True,
            validity="valid",
            chain_of_custody_id=coc,
            method=Method.POC,
        )
        specimens.append(specimen)
        results.append(
            (
                specimen,
                TestResult(
                    source=Method.POC,
                    entered_by=nurse,
                    entered_at=at + timedelta(minutes=10),
                    prescribed=sorted(meds),
                ),
                readings,
            )
        )
        selection.status = Selection.Status.COLLECTED
        selection.status_changed_at = at
        selection.outcome = overall_outcome("valid", [r for _, r in readings.values()])
        rows.append(selection)
    Specimen.objects.bulk_create(specimens)
    for specimen, result, _ in results:
        result.specimen = specimen
    TestResult.objects.bulk_create([r for _, r, _ in results])
    AnalyteResult.objects.bulk_create(
        [
            AnalyteResult(result=result, analyte=code, outcome=outcome, interpretation=reading)
            for _, result, readings in results
            for code, (outcome, reading) in readings.items()
        ]
    )
    Selection.objects.bulk_update(rows, ["status", "status_changed_at", "outcome"])
    Selection.objects.filter(pk__in=refused).update(
        status=Selection.Status.REFUSED, outcome=Outcome.REFUSED
    )
    for site in ctx.sites.values():
        midnight = datetime.combine(ctx.today, time(0, 1), tzinfo=site.tz)
        selections_mark_missed(now=midnight, site=site)
        # Today's draw: its selections stay pending, so portals show the notice.
        draw_run(site=site, now=ctx.now, trigger=Draw.Trigger.DEMO)
    total = Selection.objects.filter(site__organization=ctx.organization).count()
    ctx.log.append(f"Drug testing: {WEEKS} weeks of draws, {total} tests, with results.")
