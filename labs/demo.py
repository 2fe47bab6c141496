"""Demo lab results in: the demo's reference laboratory, its local validity code in the
organisation's code table, and four of its messages, run
through the same service as the endpoint and ``import_hl7``: one confirming a cup,
one with a code the table lacks (waiting, matched), one for a specimen id nobody
collected (waiting, unmatched) and one malformed (rejected)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.demo import DEMO_STEPS, DemoContext
from drugtests.models import Method, Specimen
from patients.models import Patient

from .models import Channel, LabInterface
from .services.inbound import message_receive
from .services.setup import code_save, interface_create

PANEL = [
    ("19295-5", "Opiates [Presence] in Urine by Screen method", "2000 ng/mL"),
    ("3393-6", "Benzoylecgonine [Presence] in Urine", "150 ng/mL"),
    ("19343-3", "Amphetamine [Presence] in Urine by Screen method", "500 ng/mL"),
    ("19554-5", "Methamphetamine [Presence] in Urine by Screen method", "500 ng/mL"),
    ("66129-8", "Fentanyl+Norfentanyl [Presence] in Urine", "1 ng/mL"),
]
NEGATIVE = "260385009^Negative^SCT"


def _ts(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")


def _oru(
    control: str,
    coc: str,
    patient: Patient | None,
    collected: datetime,
    reported: datetime,
    extra: list[str] | None = None,
    *,
    obx_first: bool = False,
) -> bytes:
    name = (
        f"{patient.legal_last_name.upper()}^{patient.legal_first_name.upper()}"
        if patient
        else "DOE^ALEX"
    )
    born = patient.date_of_birth.strftime("%Y%m%d") if patient else "19880302"
    header = [
        f"MSH|^~\\&|DEMOLIS|DEMO TOX^05D0000000^CLIA|STEPWISE|RIVERSIDE|{_ts(reported)}||"
        f"ORU^R01^ORU_R01|{control}|P|2.5.1|||NE|NE",
        f"PID|1||{patient.mrn if patient else 'X1'}^^^RIVERSIDE^MR||{name}||{born}",
        f"ORC|RE|{coc}^STEPWISE|L{control}^DEMOTOX||CM",
    ]
    obr = (
        f"OBR|1|{coc}^STEPWISE|L{control}^DEMOTOX|DAU5^Drugs of abuse 5 panel^L|||"
        f"{_ts(collected)}|||||||||||||||{_ts(reported)}|||F"
    )
    results = [
        f"OBX|{n}|CWE|{code}^{text}^LN||{NEGATIVE}||{cutoff}|N|||F|||{_ts(collected)}"
        for n, (code, text, cutoff) in enumerate(PANEL, start=1)
    ] + (extra or [])
    body = [*header, *results, obr] if obx_first else [*header, obr, *results]
    return ("\r".join([*body, f"SPM|1|{coc}&STEPWISE||UR^Urine^HL70487"]) + "\r").encode()


@DEMO_STEPS.register("history", order=38)
def seed(ctx: DemoContext) -> None:
    if LabInterface.objects.filter(organization=ctx.organization).exists():
        return
    interface, _ = interface_create(
        actor=ctx.staff["director"],
        name="Demo Toxicology",
        sending_facility="DEMO TOX",
        now=ctx.now,
    )
    # The laboratory's own code for its validity finding, in the organisation's table.
    code_save(
        actor=ctx.staff["director"],
        code="SVT",
        display="Specimen validity testing (Demo Toxicology)",
        kind="validity",
        now=ctx.now,
    )
    site = ctx.sites["riverside"]
    cups = list(
        Specimen.objects.filter(
            patient__site=site, method=Method.POC, collected_at__lt=ctx.now - timedelta(days=2)
        )
        .exclude(results__source=Method.LAB)
        .select_related("patient")
        .order_by("-collected_at")[:2]
    )
    if len(cups) < 2:
        return
    reported = ctx.now - timedelta(hours=20)
    confirmed, with_local_code = cups
    xylazine = f"OBX|6|CWE|XYLS^Xylazine screen, urine^99DEMO||{NEGATIVE}||10 ng/mL|N|||F"
    messages = [
        _oru(
            "DEMO-0001",
            confirmed.chain_of_custody_id,
            confirmed.patient,
            confirmed.collected_at,
            reported,
        ),
        _oru(
            "DEMO-0002",
            with_local_code.chain_of_custody_id,
            with_local_code.patient,
            with_local_code.collected_at,
            reported,
            [xylazine],
        ),
        _oru("DEMO-0003", "DEMO-RIV-99999", None, reported - timedelta(days=1), reported),
        _oru(
            "DEMO-0004",
            "DEMO-RIV-99998",
            None,
            reported - timedelta(days=1),
            reported,
            obx_first=True,
        ),
    ]
    for raw in messages:
        message_receive(interface=interface, raw=raw, channel=Channel.FILE, now=ctx.now)
    ctx.log.append(
        "Lab results in: Demo Toxicology, 4 messages (1 applied, 2 waiting for review, "
        "1 rejected); issue its token on the Laboratories page."
    )
