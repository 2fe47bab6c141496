"""Demo patients: 40 across both sites, tracks, phases and levels; some on MAT, some
discharged. Portal accounts ``patient1`` ... ``patient40``."""

from __future__ import annotations

from datetime import date, timedelta

from core.demo import DEMO_STEPS, DemoContext
from core.models import Site

from .models import (
    ConsentSection,
    DischargeType,
    Enrollment,
    Frequency,
    Medication,
    Patient,
    ProgramLevel,
    ProgramPhase,
    ReferralSource,
    Sex,
    Substance,
    Track,
)
from .services.admission import enrollment_readmit, patient_admit
from .services.consents import consent_create
from .services.enrollment import enrollment_change_phase, enrollment_discharge, enrollment_hold
from .services.medication import medication_order_create
from .services.patient import patient_link_portal_account

PHASES = [
    (1, "Phase 1 · Stabilisation", "Full intensity: every track day."),
    (2, "Phase 2 · Early recovery", "Fewer days, more community meetings."),
    (3, "Phase 3 · Step-down", "Preparing for outpatient and aftercare."),
]
FIRST = [
    "Alex",
    "Jordan",
    "Taylor",
    "Casey",
    "Riley",
    "Jamie",
    "Avery",
    "Quinn",
    "Drew",
    "Sam",
    "Maria",
    "James",
    "Aisha",
    "Wei",
    "Carlos",
    "Emily",
    "Marcus",
    "Priya",
    "Tom",
    "Grace",
]
LAST = [
    "Walker",
    "Brooks",
    "Hughes",
    "Foster",
    "Price",
    "Bennett",
    "Wood",
    "Barnes",
    "Ross",
    "Henderson",
    "Coleman",
    "Jenkins",
    "Perry",
    "Powell",
    "Long",
    "Patterson",
    "Flores",
    "Washington",
    "Butler",
    "Simmons",
]
SUBSTANCES = [
    Substance.OPIOIDS,
    Substance.ALCOHOL,
    Substance.STIMULANTS,
    Substance.FENTANYL,
    Substance.COCAINE,
    Substance.CANNABIS,
]


@DEMO_STEPS.register("setup", order=10)
def seed_setup(ctx: DemoContext) -> None:
    for site in ctx.sites.values():
        for number, name, description in PHASES:
            ProgramPhase.objects.get_or_create(
                site=site, number=number, defaults={"name": name, "description": description}
            )


def _tracks(site: Site) -> list[Track]:
    return list(Track.objects.filter(site=site, is_active=True).order_by("kind", "name"))


@DEMO_STEPS.register("history", order=10)
def seed(ctx: DemoContext) -> None:
    if Patient.objects.filter(organization=ctx.organization).exists():
        ctx.patients = list(Patient.objects.filter(organization=ctx.organization))
        return
    today = ctx.today
    counselors = {"riverside": ctx.staff["counselor"], "bayview": ctx.staff["counselor2"]}
    for i in range(1, 41):
        code = "riverside" if i <= 28 else "bayview"
        site = ctx.sites[code]
        phases = list(ProgramPhase.objects.filter(site=site).order_by("number"))
        tracks = _tracks(site)
        # Mostly IOP, some PHP and OP, so every level shows up in the demo.
        level = (
            ProgramLevel.IOP
            if i % 7 not in (3, 6)
            else (ProgramLevel.PHP if i % 7 == 3 else ProgramLevel.OP)
        )
        level_tracks: list[Track | None] = [t for t in tracks if t.level == level] or [None]
        track = level_tracks[i % len(level_tracks)]
        admitted = today - timedelta(days=7 + (i * 5) % 70)
        adolescent = i in (5, 33)
        born = date(today.year - (16 if adolescent else 22 + (i * 7) % 40), 1 + i % 12, 1 + i % 27)
        enrollment = patient_admit(
            actor=ctx.staff["frontdesk"],
            site=site,
            legal_first_name=FIRST[i % len(FIRST)],
            legal_last_name=LAST[(i * 3) % len(LAST)],
            preferred_name="",
            date_of_birth=born,
            sex=[Sex.FEMALE, Sex.MALE][i % 2],
            phone=f"(201) 555-01{i:02d}",
            email=f"patient{i}@example.org",
            primary_substance=SUBSTANCES[i % len(SUBSTANCES)],
            level=level,
            track=track,
            phase=phases[0] if phases else None,
            counselor=counselors[code],
            admission_date=admitted,
            expected_end_date=admitted + timedelta(weeks=12),
            referral_source=list(ReferralSource)[i % len(ReferralSource)],
            emergency_contact_name="Family member",
            emergency_contact_phone="(201) 555-0199",
            naloxone_kit_given_on=admitted if i % 3 == 0 else None,
            now=ctx.now,
        )
        # Admitted in the past: the enrollment opens now, not as a change dated ahead.
        assert isinstance(enrollment, Enrollment)
        patient = enrollment.patient
        portal_user = patient_link_portal_account(
            actor=None, patient=patient, username=f"patient{i}", password=None
        )
        portal_user.password = ctx.password_hash  # hashed once for every demo account
        portal_user.save(update_fields=["password"])
        days_in = (today - admitted).days
        if days_in > 35 and len(phases) > 1:
            enrollment_change_phase(
                actor=counselors[code],
                enrollment=enrollment,
                phase=phases[1],
                effective_date=admitted + timedelta(days=28),
                reason="Met Phase 1 goals",
                now=ctx.now,
            )
        if days_in > 63 and len(phases) > 2:
            enrollment_change_phase(
                actor=counselors[code],
                enrollment=enrollment,
                phase=phases[2],
                effective_date=admitted + timedelta(days=56),
                reason="Stable, stepping down",
                now=ctx.now,
            )
        if patient.primary_substance in (Substance.OPIOIDS, Substance.FENTANYL) and i % 2 == 0:
            med = [
                Medication.BUPRENORPHINE_NALOXONE,
                Medication.METHADONE,
                Medication.BUPRENORPHINE_XR,
                Medication.NALTREXONE_XR,
            ][i % 4]
            injectable = med in (Medication.BUPRENORPHINE_XR, Medication.NALTREXONE_XR)
            medication_order_create(
                actor=ctx.staff["nurse"],
                patient=patient,
                medication=med,
                dose={
                    "methadone": "80 mg",
                    "buprenorphine_naloxone": "16 mg/4 mg",
                    "buprenorphine_xr": "300 mg",
                    "naltrexone_xr": "380 mg",
                }[med],
                frequency=Frequency.MONTHLY if injectable else Frequency.DAILY,
                prescriber="Dr. Sam Adler",
                start_date=admitted,
                next_injection_due=(today + timedelta(days=2 + i % 10)) if injectable else None,
            )
        if i % 4 == 1:
            consent_create(
                actor=ctx.staff["frontdesk"],
                patient=patient,
                recipient="County Drug Court",
                purpose="Court-ordered treatment compliance",
                information_disclosed="Attendance and drug test results",
                sections=[ConsentSection.ATTENDANCE, ConsentSection.DRUG_TESTS],
                signed_on=admitted,
                expires_on=admitted + timedelta(days=365),
            )
        if i % 8 == 5:
            consent_create(
                actor=ctx.staff["frontdesk"],
                patient=patient,
                recipient="County Probation Department",
                purpose="Conditions of probation",
                information_disclosed=(
                    "Attendance, drug test results, verified meetings, and program status"
                ),
                sections=list(ConsentSection.values),
                signed_on=admitted,
            )
        # A few episodes ended in different ways; each is kept and shows on the chart.
        kinds = {
            12: DischargeType.COMPLETED,
            19: DischargeType.AMA,
            26: DischargeType.STEPPED_DOWN,
            38: DischargeType.ADMINISTRATIVE,
        }
        if i in kinds and days_in > 14:
            enrollment_discharge(
                actor=counselors[code],
                enrollment=enrollment,
                discharge_date=today - timedelta(days=3),
                discharge_type=kinds[i],
                aftercare_plan="Weekly outpatient counseling; 3 meetings a week; sponsor contact.",
                note="Demo discharge",
                now=ctx.now,
            )
        if i == 19 and days_in > 14:
            # Came back after leaving against advice: a new episode, the old one kept.
            enrollment_readmit(
                actor=ctx.staff["frontdesk"],
                patient=patient,
                level=ProgramLevel.IOP,
                track=track if level == ProgramLevel.IOP else None,
                phase=phases[0] if phases else None,
                admission_date=today - timedelta(days=1),
                referral_source=ReferralSource.SELF,
                now=ctx.now,
            )
        if i in (9, 30) and days_in > 14:
            enrollment_hold(
                actor=counselors[code],
                enrollment=enrollment,
                effective_date=today - timedelta(days=2),
                reason="Medical leave (hospital stay)",
                now=ctx.now,
            )
        ctx.patients.append(patient)
    ctx.log.append(f"Patients: {len(ctx.patients)} admitted with portal accounts.")
