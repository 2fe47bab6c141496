"""Receiving ORU^R01 messages (from the HTTP endpoint or ``import_hl7``) and applying
their results to the collected specimen through drugtests' services.

Each message is stored with its bytes before anything is decided, in its own
transaction, and answered with an ACK: AR when it cannot be read as a result message
(stored, with the reason), AE when some of its results cannot be read (the laboratory
must resend them), AA otherwise, including when it waits for review (no specimen
matches, a code the table lacks): the clinic has it and nothing is dropped. A message
sent again (the same control id and bytes) answers as the first time and adds nothing.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core import audit, clock, limits
from core.models import User
from drugtests.models import AnalyteOutcome, AnalyteResult, Method, ResultStatus, Specimen, Via
from drugtests.services.results import Reading, result_enter, specimen_validity_report

from ..hl7 import (
    DATA_TYPE,
    DUPLICATE_KEY,
    INTERNAL_ERROR,
    Header,
    Malformed,
    Report,
    build_ack,
    decode,
    parse_report,
    read_header,
    split_messages,
)
from ..models import (
    AckCode,
    AnalyteCode,
    CodeKind,
    InboundMessage,
    InboundObservation,
    LabInterface,
)
from ..reading import (
    PENDING_STATUSES,
    STATUSES,
    fit,
    flag_outcome,
    ng_ml,
    numeric_outcome,
    split_numeric,
    text_outcome,
    validity_from_text,
    worse,
)

logger = logging.getLogger(__name__)

Status = InboundMessage.Status
State = InboundObservation.State


@dataclass(frozen=True)
class Receipt:
    message: InboundMessage
    ack: str
    repeated: bool = False


def messages_receive(
    *, interface: LabInterface, data: bytes, channel: str, now: datetime | None = None
) -> list[Receipt]:
    """Every message in ``data`` (a file, or a POST body), each in its own transaction."""
    now = clock.now(now)
    return [
        message_receive(interface=interface, raw=raw, channel=channel, now=now)
        for raw in split_messages(data)
    ]


def message_receive(
    *, interface: LabInterface, raw: bytes, channel: str, now: datetime | None = None
) -> Receipt:
    """Store one message, apply what it can, and answer its ACK."""
    now = clock.now(now)
    text = decode(raw)
    sha = hashlib.sha256(text.rstrip("\r").encode()).hexdigest()
    report: Report | None = None
    problem: Malformed | None = None
    try:
        report = parse_report(text)
        header = report.header
        problem = _check_sender(interface, header)
    except Malformed as exc:
        header, problem = read_header(text), exc
    key = header.control_id or f"sha256:{sha}"
    earlier = _earlier(interface, key)
    if earlier is not None:
        if earlier.content_sha256 == sha:
            return _repeat(earlier, header, now)
        # The same control id on other bytes: kept apart, and refused.
        key = f"{key}~{sha[:39]}"
        earlier = _earlier(interface, key)
        if earlier is not None:
            return _repeat(earlier, header, now)
        problem = Malformed(
            DUPLICATE_KEY,
            f"Control id {header.control_id} was already used by a different message; "
            "send a correction with a new control id.",
        )
    try:
        with transaction.atomic():
            message = _store(interface, raw, sha, key, header, report, problem, channel, now)
    except IntegrityError:
        # The same message posted twice at once: the other request stored it.
        earlier = _earlier(interface, key)
        if earlier is None:
            raise
        return _repeat(earlier, header, now)
    except Exception:
        # A fault of ours must not lose the laboratory's message: it is kept, answered
        # AE, and waits for staff like any other.
        logger.exception("labs: could not apply message %s", header.control_id or sha[:12])
        with transaction.atomic():
            message = _store(
                interface,
                raw,
                sha,
                key,
                header,
                None,
                Malformed(INTERNAL_ERROR, "Stored, but not applied: an error at the clinic."),
                channel,
                now,
                status=Status.ERROR,
                ack=AckCode.ERROR,
            )
    return Receipt(message, ack_for(message, header, now))


def ack_for(message: InboundMessage, header: Header, now: datetime) -> str:
    return build_ack(
        header=header,
        code=message.ack_code,
        ack_id=f"SW{message.pk}",
        now=now,
        text=message.ack_text,
        error_code=message.ack_error,
    )


def _earlier(interface: LabInterface, key: str) -> InboundMessage | None:
    return InboundMessage.objects.filter(interface=interface, key=key).first()


def _check_sender(interface: LabInterface, header: Header) -> Malformed | None:
    expected = interface.sending_facility.strip().casefold()
    sent = {header.sending_facility.strip().casefold(), header.sending_facility_id.casefold()}
    if expected and expected not in sent:
        return Malformed(
            INTERNAL_ERROR,
            f"This interface receives messages from {interface.sending_facility} only "
            f"(MSH-4 was {header.sending_facility or 'empty'}).",
        )
    return None


@transaction.atomic
def _repeat(earlier: InboundMessage, header: Header, now: datetime) -> Receipt:
    audit.record(
        action="labs.message_repeated",
        actor_label=_label(earlier.interface),
        obj=earlier,
        patient_id=_patient_id(earlier),
        detail={"control_id": earlier.control_id, "ack": earlier.ack_code},
        at=now,
    )
    return Receipt(earlier, ack_for(earlier, header, now), repeated=True)


def _label(interface: LabInterface) -> str:
    return f"lab interface {interface.pk}"


def _patient_id(message: InboundMessage) -> int | None:
    return message.specimen.patient_id if message.specimen is not None else None


def _store(
    interface: LabInterface,
    raw: bytes,
    sha: str,
    key: str,
    header: Header,
    report: Report | None,
    problem: Malformed | None,
    channel: str,
    now: datetime,
    *,
    status: str = Status.REJECTED,
    ack: str = AckCode.REJECTED,
) -> InboundMessage:
    fields = {
        "interface": interface,
        "received_at": now,
        "channel": channel,
        "key": key,
        "raw": raw,
        "content_sha256": sha,
        "control_id": header.control_id[:80],
        "sending_facility": header.sending_facility[:120],
        "message_type": header.message_type[:30],
    }
    if problem is not None or report is None:
        reason = problem.text if problem is not None else "Not readable."
        message = InboundMessage.objects.create(
            **fields,
            ack_code=ack,
            ack_text=limits.clip(reason, 300),
            ack_error=problem.code if problem is not None else INTERNAL_ERROR,
            status=status,
            review_note=limits.clip(reason, limits.REASON),
        )
        audit.record(
            action="labs.message_rejected" if ack == AckCode.REJECTED else "labs.message_failed",
            actor_label=_label(interface),
            obj=message,
            detail={"control_id": message.control_id, "ack": ack, "error": message.ack_error},
            at=now,
        )
        return message
    collected = report.collected
    message = InboundMessage.objects.create(
        **fields,
        ack_code=AckCode.ACCEPTED,
        status=Status.HELD,
        specimen_id_sent=report.specimen_ids[0] if report.specimen_ids else "",
        specimen_ids_sent=report.specimen_ids[:6],
        collected_at_sent=collected.instant if collected else None,
        collected_on_sent=collected.day if collected else None,
        patient_name_sent=report.patient_name[:160],
        patient_birth_date_sent=report.birth_date,
        reported_at=report.reported.instant if report.reported else None,
        validity_sent=_validity_sent(report),
        lab_note=limits.clip("\n".join(report.notes), limits.NOTE),
    )
    InboundObservation.objects.bulk_create(
        [
            InboundObservation(
                message=message,
                position=o.position,
                code=o.code,
                code_text=o.code_text,
                code_system=o.code_system,
                value_type=o.value_type,
                value=o.value,
                value_code=o.value_code,
                units=o.units,
                reference_range=o.reference_range,
                abnormal_flags="~".join(o.abnormal_flags)[:20],
                result_status=o.status,
                observed_at=o.observed_at.instant if o.observed_at else None,
                note=limits.clip("\n".join(o.notes), limits.NOTE),
                state=State.HELD,
            )
            for o in report.observations
        ]
    )
    apply_message(message, actor=None, now=now)
    errors = list(message.observations.filter(state=State.ERROR).values_list("reason", flat=True))
    if errors:
        message.ack_code = AckCode.ERROR
        message.ack_error = DATA_TYPE
        message.ack_text = limits.clip(
            f"{len(errors)} result(s) could not be read: {errors[0]}", 300
        )
    elif message.status == Status.HELD:
        message.ack_text = "Received; held for review at the clinic."
    else:
        message.ack_text = "Received and applied."
    message.save(update_fields=["ack_code", "ack_error", "ack_text"])
    audit.record(
        action="labs.message_received",
        actor_label=_label(interface),
        obj=message,
        patient_id=_patient_id(message),
        site_id=message.specimen.patient.site_id if message.specimen else None,
        detail={
            "control_id": message.control_id,
            "ack": message.ack_code,
            "status": message.status,
            "observations": len(report.observations),
        },
        at=now,
    )
    return message


def _validity_sent(report: Report) -> str:
    found = ""
    if report.reject_reason:
        found = "rejected"
    found = worse(found, validity_from_text(report.condition))
    if "X" in report.order_statuses and not report.observations:
        # OBR-25 X: no result can be obtained for the order.
        found = worse(found, "rejected")
    return found


# --- applying -------------------------------------------------------------------------


def apply_message(message: InboundMessage, *, actor: User | None, now: datetime) -> None:
    """Match the message to its specimen (unless a person did), then apply each result
    still waiting; what cannot be applied keeps waiting with its reason. Runs inside the
    caller's transaction (the receipt, or a person's action on the review queue)."""
    person = actor
    specimen_pk = message.specimen_id
    if specimen_pk is None:
        found, why = _match(message)
        if found is None:
            message.status = Status.HELD
            message.review_note = limits.clip(why, limits.REASON)
            message.save(update_fields=["status", "review_note"])
            return
        message.specimen = found
        message.save(update_fields=["specimen"])
        specimen_pk = found.pk
    specimen = Specimen.objects.select_related("selection__site", "patient").get(pk=specimen_pk)
    pending = list(message.observations.filter(state=State.HELD).order_by("position"))
    codes = codes_for(message.interface.organization_id, {o.code for o in pending})
    current = {
        (r.analyte, r.stage): r
        for r in AnalyteResult.objects.filter(
            result__specimen=specimen, result__source=Method.LAB, superseded_by__isnull=True
        )
    }
    validity = message.validity_sent
    planned: list[tuple[InboundObservation, Reading]] = []
    for obs in pending:
        obs.mapping = codes.get(obs.code)
        outcome = _decide(obs, current, planned)
        if isinstance(outcome, Reading):
            planned.append((obs, outcome))
        elif outcome:
            validity = worse(validity, outcome)
    if validity and validity != specimen.validity:
        specimen_validity_report(
            actor=person,
            specimen=specimen,
            validity=validity,
            reference=message.control_id,
            now=now,
        )
    if planned:
        try:
            result = result_enter(
                actor=person,
                selection=specimen.selection,
                source=Method.LAB,
                readings=[reading for _, reading in planned],
                lab_name=message.interface.name,
                via=Via.INTERFACE,
                reference=message.control_id,
                reported_at=message.reported_at,
                lab_note=message.lab_note,
                now=now,
            )
        except ValidationError as exc:
            for obs, _ in planned:
                obs.state, obs.reason = State.ERROR, limits.clip(" ".join(exc.messages), 300)
        else:
            rows = {(r.analyte, r.stage): r for r in result.analytes.all()}
            for obs, reading in planned:
                obs.analyte_result = rows[(reading.analyte, reading.stage)]
                obs.state, obs.reason = State.APPLIED, ""
    InboundObservation.objects.bulk_update(
        pending, ["state", "reason", "mapping", "analyte_result"]
    )
    _settle(message)


def codes_for(organization_id: int, codes: set[str]) -> dict[str, AnalyteCode]:
    """What each code means to the organisation: its own row, else the standard one; a
    row of its own set inactive means the code is read as nothing there."""
    found: dict[str, AnalyteCode] = {}
    rows = AnalyteCode.objects.filter(code__in=codes).filter(
        Q(organization__isnull=True) | Q(organization_id=organization_id)
    )
    # The standard rows first, the organisation's over them.
    for row in sorted(rows, key=lambda r: r.organization_id is not None):
        found[row.code] = row
    return {code: row for code, row in found.items() if row.is_active}


def _match(message: InboundMessage) -> tuple[Specimen | None, str]:
    """The collected specimen the message names, when its id, collection day and
    patient all agree; else None and why (the review queue shows it)."""
    ids = [str(i) for i in message.specimen_ids_sent]
    if not ids:
        return None, "The message names no specimen id (SPM-2, OBR-2 or OBR-3)."
    found = list(
        Specimen.objects.filter(
            chain_of_custody_id__in=ids,
            patient__organization_id=message.interface.organization_id,
        ).select_related("patient__site")
    )
    if not found:
        return None, f"No collected specimen has the id {' or '.join(ids)}."
    if len(found) > 1:
        names = ", ".join(s.chain_of_custody_id for s in found)
        return None, f"The message's ids name several specimens ({names}): pick the right one."
    specimen = found[0]
    problems = mismatches(message, specimen)
    if problems:
        return None, (
            f"Specimen {specimen.chain_of_custody_id} has the id, but "
            + "; ".join(problems)
            + ". Check it and match it by hand."
        )
    return specimen, ""


def mismatches(message: InboundMessage, specimen: Specimen) -> list[str]:
    """Where the message and the specimen's record disagree (collection day, patient)."""
    problems = []
    tz = specimen.patient.site.tz
    recorded = timezone.localdate(specimen.collected_at, tz)
    sent = (
        timezone.localdate(message.collected_at_sent, tz)
        if message.collected_at_sent is not None
        else message.collected_on_sent
    )
    if sent is not None and sent != recorded:
        problems.append(f"the message says it was collected on {sent}, the record on {recorded}")
    patient = specimen.patient
    name = message.patient_name_sent.casefold()
    if name and patient.legal_last_name.casefold() not in name:
        problems.append("the patient's name on the message differs from the record")
    born = message.patient_birth_date_sent
    if born is not None and born != patient.date_of_birth:
        problems.append("the date of birth on the message differs from the record")
    return problems


def _decide(
    obs: InboundObservation,
    current: dict[tuple[str, str], AnalyteResult],
    planned: list[tuple[InboundObservation, Reading]],
) -> Reading | str | None:
    """What one observation becomes: a ``Reading`` to apply, a validity finding (a
    string), or None with its state and reason set (held, repeat, error, information)."""
    mapping = obs.mapping
    if mapping is None:
        label = f"{obs.code} ({obs.code_text})" if obs.code_text else obs.code or "(no code)"
        return _set(obs, State.HELD, f"No entry in the code table for {label}.")
    if mapping.kind == CodeKind.INFORMATION:
        return _set(obs, State.INFORMATION, "")
    if mapping.kind == CodeKind.VALIDITY:
        found = validity_from_text(obs.value_code, obs.value)
        if not found:
            return _set(obs, State.ERROR, f"Validity finding not understood: {obs.value}.")
        obs.state, obs.reason = State.APPLIED, ""
        return found
    status = obs.result_status.upper()
    if status in PENDING_STATUSES:
        return _set(obs, State.INFORMATION, f"Pending at the laboratory (status {status}).")
    if status not in STATUSES:
        return _set(obs, State.HELD, f"Result status {status} (deleted or wrong) needs a person.")
    outcome, cutoff, problem = _outcome(obs, mapping)
    if outcome is None:
        if problem == "cutoff":
            return _set(
                obs,
                State.HELD,
                f"A concentration without a cut-off: give {obs.code} a default cut-off.",
            )
        return _set(obs, State.ERROR, f"Value not understood for {obs.code}: {obs.value}.")
    key = (mapping.analyte, mapping.kind)
    twin = next((r for o, r in planned if (r.analyte, r.stage) == key), None)
    if twin is not None:
        if twin.outcome == outcome:
            return _set(obs, State.REPEAT, "The same reading as another result of the message.")
        return _set(obs, State.HELD, "Two results of the message disagree on this analyte.")
    result_status = STATUSES[status]
    held = current.get(key)
    if (
        held is not None
        and result_status != ResultStatus.CORRECTED
        and held.status != ResultStatus.PRELIMINARY
    ):
        if held.outcome == outcome and held.value_text == obs.value[:80]:
            return _set(obs, State.REPEAT, "Already on file.")
        return _set(
            obs,
            State.HELD,
            "Differs from the final result on file without being marked corrected (OBX-11 C).",
        )
    comparator, number = split_numeric(obs.value)
    return Reading(
        analyte=mapping.analyte,
        outcome=outcome,
        ng_ml=ng_ml(number, obs.units) if not comparator else None,
        stage=mapping.kind,
        status=result_status,
        value_text=obs.value[:80],
        units=obs.units,
        reference_range=obs.reference_range,
        cutoff=fit(cutoff, places=2, digits=9),
        abnormal_flag=obs.abnormal_flags[:10],
        note=obs.note,
    )


def _set(obs: InboundObservation, state: str, reason: str) -> Reading | str | None:
    """Settle the observation here; nothing for the caller to apply."""
    obs.state, obs.reason = state, limits.clip(reason, 300)
    return None


def _outcome(
    obs: InboundObservation, mapping: AnalyteCode
) -> tuple[str | None, Decimal | None, str]:
    flags = [f for f in obs.abnormal_flags.split("~") if f]
    if obs.result_status.upper() == "X":
        return AnalyteOutcome.NOT_TESTED, None, ""
    comparator, number = split_numeric(obs.value)
    if number is not None and obs.value_type in ("NM", "SN", "ST", ""):
        verdict = numeric_outcome(
            number,
            comparator,
            reference_range=obs.reference_range,
            units=obs.units,
            default_cutoff=mapping.default_cutoff,
            flags=flags,
        )
        return verdict.outcome, verdict.cutoff, verdict.problem
    outcome = text_outcome(obs.value_code, obs.value) or flag_outcome(flags)
    return outcome, None, "" if outcome else "unreadable"


def _settle(message: InboundMessage) -> None:
    observations = list(message.observations.all())
    states = {o.state for o in observations}
    if message.specimen_id is None or State.HELD in states:
        message.status = Status.HELD
        reasons = dict.fromkeys(o.reason for o in observations if o.state == State.HELD)
        message.review_note = limits.clip(" ".join(r for r in reasons if r), limits.REASON)
    elif State.ERROR in states:
        message.status = Status.ERROR
        reasons = dict.fromkeys(o.reason for o in observations if o.state == State.ERROR)
        message.review_note = limits.clip(" ".join(r for r in reasons if r), limits.REASON)
    else:
        message.status = Status.APPLIED
        message.review_note = ""
    message.save(update_fields=["status", "review_note"])
