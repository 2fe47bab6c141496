"""Reading HL7 v2 ORU^R01 messages (with hl7apy) and writing their ACKs.

Nothing here touches the database: ``split_messages`` cuts what a file or an HTTP body
holds into messages (MLLP frames, or one message after another), ``parse_report`` turns
one into a ``Report`` with hl7apy (``parse_message(..., find_groups=True)``) or raises
``Malformed`` with the HL7 error code (table 0357) the ACK carries, and ``build_ack``
writes the ACK with hl7apy too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from hl7apy.core import Message
from hl7apy.exceptions import HL7apyException
from hl7apy.parser import parse_message, parse_segment

ACCEPTED_VERSIONS = ("2.5.1", "2.5")
MAX_MESSAGE_BYTES = 1_000_000

# HL7 table 0357 (message error condition codes) that the ACKs here use.
SEGMENT_SEQUENCE = "100"
REQUIRED_MISSING = "101"
DATA_TYPE = "102"
UNSUPPORTED_TYPE = "200"
UNSUPPORTED_EVENT = "201"
UNSUPPORTED_PROCESSING_ID = "202"
UNSUPPORTED_VERSION = "203"
DUPLICATE_KEY = "205"
INTERNAL_ERROR = "207"
ERROR_NAMES = {
    "0": "Message accepted",
    SEGMENT_SEQUENCE: "Segment sequence error",
    REQUIRED_MISSING: "Required field missing",
    DATA_TYPE: "Data type error",
    UNSUPPORTED_TYPE: "Unsupported message type",
    UNSUPPORTED_EVENT: "Unsupported event code",
    UNSUPPORTED_PROCESSING_ID: "Unsupported processing id",
    UNSUPPORTED_VERSION: "Unsupported version id",
    DUPLICATE_KEY: "Duplicate key identifier",
    INTERNAL_ERROR: "Application internal error",
}

_MLLP_FRAME = re.compile(rb"\x0b(.*?)\x1c\r?", re.S)
# A message starts at an MSH segment at the start of a line (of a \r, \n or \r\n line).
_MESSAGE_START = re.compile(rb"(?:^|(?<=[\r\n]))MSH")
_BATCH_SEGMENT = re.compile(rb"^(FHS|BHS|BTS|FTS)\b")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TS = re.compile(
    r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d{1,4})?(?:([+-])(\d{2})(\d{2}))?$"
)
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


class Malformed(Exception):
    """A message that cannot be read as an ORU^R01: answered AR with this reason."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


@dataclass(frozen=True)
class Header:
    """What the ACK needs, read even from a message that fails later."""

    control_id: str = ""
    sending_application: str = ""
    sending_facility: str = ""
    # MSH-4's universal id (a CLIA number, say), beside its name.
    sending_facility_id: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    message_type: str = ""
    processing_id: str = "P"


@dataclass(frozen=True)
class HL7Time:
    """An HL7 timestamp: its day as written, and the instant when it has a time and an
    offset (without an offset only the day is trusted; the caller knows the site)."""

    day: date
    naive: datetime
    instant: datetime | None


@dataclass
class Observation:
    position: int
    value_type: str = ""
    code: str = ""
    code_text: str = ""
    code_system: str = ""
    value: str = ""
    value_code: str = ""
    comparator: str = ""
    number: Decimal | None = None
    units: str = ""
    reference_range: str = ""
    abnormal_flags: list[str] = field(default_factory=list)
    status: str = ""
    observed_at: HL7Time | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    header: Header
    version: str = ""
    patient_ids: list[str] = field(default_factory=list)
    family_name: str = ""
    given_name: str = ""
    birth_date: date | None = None
    specimen_ids: list[str] = field(default_factory=list)
    collected: HL7Time | None = None
    reported: HL7Time | None = None
    order_statuses: list[str] = field(default_factory=list)
    reject_reason: str = ""
    condition: str = ""
    notes: list[str] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)

    @property
    def patient_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p)


# --- framing -------------------------------------------------------------------------


def split_messages(data: bytes) -> list[bytes]:
    """The messages in a file or a body: each MLLP frame's content (0x0B ... 0x1C 0x0D),
    or, unframed, each run of segments from one MSH to the next. Batch envelopes
    (FHS/BHS/BTS/FTS) are dropped; each message keeps its bytes as they came."""
    chunks = [m.group(1) for m in _MLLP_FRAME.finditer(data)] if b"\x0b" in data else [data]
    messages: list[bytes] = []
    for chunk in chunks:
        starts = [m.start() for m in _MESSAGE_START.finditer(chunk)]
        if not starts:
            if chunk.strip():
                messages.append(chunk.strip())  # no MSH at all: kept, and rejected as such
            continue
        lead = chunk[: starts[0]].strip()
        if lead and not _only_batch_segments(lead):
            messages.append(lead)
        for begin, end in zip(starts, [*starts[1:], len(chunk)], strict=True):
            body = _drop_batch_segments(chunk[begin:end])
            if body.strip():
                messages.append(body.rstrip(b"\r\n") + b"\r")
    return messages


def _lines(data: bytes) -> list[bytes]:
    return [line for line in re.split(rb"\r\n|\r|\n", data) if line.strip()]


def _only_batch_segments(data: bytes) -> bool:
    return all(_BATCH_SEGMENT.match(line) for line in _lines(data))


def _drop_batch_segments(data: bytes) -> bytes:
    if not re.search(rb"(?:^|[\r\n])(?:FHS|BHS|BTS|FTS)", data):
        return data
    return b"\r".join(line for line in _lines(data) if not _BATCH_SEGMENT.match(line))


def decode(raw: bytes) -> str:
    """The message as text, segments ending in \\r (a \\n or \\r\\n is read as one)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # Most laboratory systems that are not UTF-8 send ISO 8859-1 (MSH-18 8859/1).
        text = raw.decode("latin-1")
    return text.replace("\r\n", "\r").replace("\n", "\r")


# --- reading ------------------------------------------------------------------------


def _text(value: str) -> str:
    """An HL7 value as plain text: escape sequences decoded, control characters out."""
    value = value.replace("\\E\\.br\\E\\", "\n").replace("\\.br\\", "\n")
    value = re.sub(r"\\X([0-9A-Fa-f]{2})+\\", lambda m: _hex(m.group(0)[2:-1]), value)
    for escaped, plain in (("\\F\\", "|"), ("\\S\\", "^"), ("\\T\\", "&"), ("\\R\\", "~")):
        value = value.replace(escaped, plain)
    value = re.sub(r"\\[HN]\\", "", value).replace("\\E\\", "\\")
    return _CONTROL.sub("", value).strip()


def _hex(digits: str) -> str:
    try:
        return bytes.fromhex(digits).decode("latin-1")
    except ValueError:
        return ""


def _er7(element: Any) -> str:
    try:
        return str(element.to_er7())
    except (HL7apyException, AttributeError, IndexError, TypeError, ValueError):
        return ""


def _parts(element: Any) -> list[str]:
    """The components (or subcomponents) of a field's first repetition, as text."""
    try:
        children = list(element.children)
    except (HL7apyException, AttributeError, TypeError):
        return []
    if not children:
        return [_text(_er7(element))]
    return [_text(_er7(child)) for child in children]


def _reps(segment: Any, name: str) -> list[Any]:
    try:
        return list(getattr(segment, name))
    except (HL7apyException, AttributeError, TypeError):
        return []


def _first(segment: Any, name: str) -> Any | None:
    reps = _reps(segment, name)
    return reps[0] if reps else None


def _component(segment: Any, name: str, index: int = 0) -> str:
    first = _first(segment, name)
    if first is None:
        return ""
    parts = _parts(first)
    return parts[index] if index < len(parts) else ""


def _component_part(component: Any, index: int = 0) -> str:
    parts = _parts(component)
    return parts[index] if index < len(parts) else ""


def parse_time(value: str) -> HL7Time | None:
    """An HL7 TS/DTM (``YYYY[MM[DD[HHMM[SS[.S]]]]][+/-ZZZZ]``), or None if empty.

    Raises ``ValueError`` for text that is not one (or a date outside 1900-2199)."""
    value = value.strip()
    if not value:
        return None
    m = _TS.match(value)
    if m is None:
        raise ValueError(f"not an HL7 date and time: {value[:40]}")
    year, month, day, hour, minute, second = (int(g) if g else None for g in m.groups()[:6])
    assert year is not None
    if not 1900 <= year <= 2199:
        raise ValueError(f"a year out of range: {value[:40]}")
    naive = datetime(year, month or 1, day or 1, hour or 0, minute or 0, second or 0)
    instant = None
    if m.group(7) and hour is not None:
        offset = timedelta(hours=int(m.group(8)), minutes=int(m.group(9)))
        if offset >= timedelta(hours=15):
            raise ValueError(f"an offset out of range: {value[:40]}")
        zone = timezone(offset if m.group(7) == "+" else -offset)
        instant = naive.replace(tzinfo=zone).astimezone(UTC)
    return HL7Time(day=naive.date(), naive=naive, instant=instant)


def read_header(text: str) -> Header:
    """The MSH fields an ACK needs, from a message hl7apy may not parse as a whole."""
    first = text.lstrip().split("\r", 1)[0]
    if not first.startswith("MSH"):
        return Header()
    try:
        msh = parse_segment(first)
    except (HL7apyException, ValueError, IndexError, KeyError, TypeError, AttributeError):
        return Header()
    return _header(msh)


def _header(msh: Any) -> Header:
    nine = _first(msh, "msh_9")
    message_type = "^".join(p for p in (_parts(nine)[:2] if nine is not None else []) if p)
    return Header(
        control_id=_text(_er7(_first(msh, "msh_10")))[:80],
        sending_application=_component(msh, "msh_3")[:120],
        sending_facility=_component(msh, "msh_4")[:120],
        sending_facility_id=_component(msh, "msh_4", 1)[:120],
        receiving_application=_component(msh, "msh_5")[:120],
        receiving_facility=_component(msh, "msh_6")[:120],
        message_type=message_type[:30],
        processing_id=_component(msh, "msh_11")[:3] or "P",
    )


def parse_report(text: str) -> Report:
    """One ORU^R01 as a ``Report``; ``Malformed`` (with the table 0357 code) if it is not
    one this receiver can read: not HL7, another message type or version, a test or
    debugging message, OBX before its OBR, results for several patients or specimens."""
    if "\x00" in text:
        raise Malformed(DATA_TYPE, "The message contains a NUL character.")
    if len(text) > MAX_MESSAGE_BYTES:
        raise Malformed(INTERNAL_ERROR, "The message is larger than 1 MB.")
    if not text.lstrip().startswith("MSH"):
        raise Malformed(REQUIRED_MISSING, "The message does not start with an MSH segment.")
    try:
        message = parse_message(text, find_groups=True)
    except HL7apyException as exc:
        code = UNSUPPORTED_VERSION if "version" in str(exc).lower() else SEGMENT_SEQUENCE
        raise Malformed(code, f"Not a readable HL7 v2 message ({_clip(str(exc))}).") from exc
    except (ValueError, IndexError, KeyError, TypeError, AttributeError) as exc:
        raise Malformed(SEGMENT_SEQUENCE, "Not a readable HL7 v2 message.") from exc
    header = _header(message.msh)
    version = _component(message.msh, "msh_12")
    kind = _parts(_first(message.msh, "msh_9")) if _first(message.msh, "msh_9") else []
    if not kind or kind[0] != "ORU":
        raise Malformed(UNSUPPORTED_TYPE, "Only ORU^R01 result messages are accepted here.")
    if len(kind) < 2 or kind[1] != "R01":
        raise Malformed(UNSUPPORTED_EVENT, "Only ORU^R01 result messages are accepted here.")
    if version not in ACCEPTED_VERSIONS:
        raise Malformed(UNSUPPORTED_VERSION, f"HL7 version {version or '(none)'} is not 2.5.1.")
    if header.processing_id != "P":
        raise Malformed(
            UNSUPPORTED_PROCESSING_ID,
            f"Processing id {header.processing_id} is not production (P); not applied.",
        )
    if not header.control_id:
        raise Malformed(REQUIRED_MISSING, "The message has no control id (MSH-10).")
    report = Report(header=header, version=version)
    try:
        _read_groups(message, report)
    except Malformed:
        raise
    except (HL7apyException, ValueError, IndexError, KeyError, TypeError, AttributeError) as exc:
        raise Malformed(SEGMENT_SEQUENCE, f"Its segments could not be read: {exc}") from exc
    return report


def _read_groups(message: Any, report: Report) -> None:
    results = _reps(message, "oru_r01_patient_result")
    if not results:
        raise Malformed(REQUIRED_MISSING, "The message holds no results (no PID, OBR, OBX).")
    if len(results) > 1:
        raise Malformed(INTERNAL_ERROR, "One patient per message: send each one's separately.")
    result = results[0]
    patients = _reps(result, "oru_r01_patient")
    if len(patients) > 1:
        raise Malformed(INTERNAL_ERROR, "One patient per message: send each one's separately.")
    if patients:
        pid = patients[0].pid
        report.patient_ids = [v for v in (_component_part(r) for r in _reps(pid, "pid_3")) if v]
        name = _first(pid, "pid_5")
        if name is not None:
            family = _first(name, "xpn_1")
            report.family_name = _component_part(family) if family is not None else ""
            report.given_name = _text(_er7(_first(name, "xpn_2")))
        born = _component(pid, "pid_7")
        if born:
            try:
                parsed = parse_time(born)
            except ValueError as exc:
                raise Malformed(DATA_TYPE, f"PID-7: {exc}.") from exc
            report.birth_date = parsed.day if parsed else None
        report.notes += [_nte(n) for n in _reps(patients[0], "nte") if _nte(n)]
    orders = _reps(result, "oru_r01_order_observation")
    if not orders:
        raise Malformed(REQUIRED_MISSING, "The message holds no order (OBR) and no results.")
    position = 0
    for order in orders:
        names = [c.name for c in order.children]
        # Only the ORC may come before the OBR of its order.
        if "OBR" not in names or set(names[: names.index("OBR")]) - {"ORC"}:
            raise Malformed(SEGMENT_SEQUENCE, "An OBX or SPM comes before its OBR.")
        obr = order.obr
        for candidate in (_component(obr, "obr_2"), _component(obr, "obr_3")):
            _add_id(report, candidate)
        orc = _first(order, "orc")
        if orc is not None:
            for candidate in (_component(orc, "orc_2"), _component(orc, "orc_3")):
                _add_id(report, candidate)
        report.collected = report.collected or _time(_component(obr, "obr_7"), "OBR-7")
        report.reported = report.reported or _time(_component(obr, "obr_22"), "OBR-22")
        status = _component(obr, "obr_25")
        if status:
            report.order_statuses.append(status)
        report.notes += [_nte(n) for n in _reps(order, "nte") if _nte(n)]
        for specimen in _reps(order, "oru_r01_specimen"):
            _read_specimen(specimen.spm, report)
        for group in _reps(order, "oru_r01_observation"):
            position += 1
            report.observations.append(_observation(group, position))


def _add_id(report: Report, value: str, *, first: bool = False) -> None:
    # The specimen's id as the collector wrote it (SPM-2, the placer's) is tried first,
    # then the order numbers, which some laboratories use for it instead.
    value = value.strip()[:80]
    if value and value not in report.specimen_ids:
        if first:
            report.specimen_ids.insert(0, value)
        else:
            report.specimen_ids.append(value)


def _read_specimen(spm: Any, report: Report) -> None:
    pair = _first(spm, "spm_2")
    if pair is not None:
        ids = list(pair.children) if pair.children else []
        # EIP: placer's id, then the filler's; each an EI whose first part is the id.
        for index, entity in enumerate(ids[:2]):
            _add_id(report, _component_part(entity), first=index == 0)
    collected = _first(spm, "spm_17")
    if collected is not None:
        start = _parts(collected)[0] if _parts(collected) else ""
        report.collected = _time(start, "SPM-17") or report.collected
    reject = [_parts(r) for r in _reps(spm, "spm_21")]
    if reject:
        report.reject_reason = "; ".join(" ".join(x for x in parts[:2] if x) for parts in reject)
    condition = [_parts(r) for r in _reps(spm, "spm_24")]
    if condition:
        report.condition = "; ".join(" ".join(x for x in parts[:2] if x) for parts in condition)


def _time(value: str, where: str) -> HL7Time | None:
    try:
        return parse_time(value)
    except ValueError as exc:
        raise Malformed(DATA_TYPE, f"{where}: {exc}.") from exc


def _nte(nte: Any) -> str:
    return "\n".join(t for t in (_text(_er7(r)) for r in _reps(nte, "nte_3")) if t)


def _observation(group: Any, position: int) -> Observation:
    obx = group.obx
    code = _parts(_first(obx, "obx_3")) if _first(obx, "obx_3") is not None else []
    obs = Observation(
        position=position,
        value_type=_text(_er7(_first(obx, "obx_2")))[:3],
        code=(code[0] if code else "")[:40],
        code_text=(code[1] if len(code) > 1 else "")[:200],
        code_system=(code[2] if len(code) > 2 else "")[:20],
        units=_component(obx, "obx_6")[:20],
        reference_range=_text(_er7(_first(obx, "obx_7")))[:60],
        abnormal_flags=[f for f in (_text(_er7(r)) for r in _reps(obx, "obx_8")) if f][:5],
        status=_text(_er7(_first(obx, "obx_11")))[:2],
        notes=[t for t in (_nte(n) for n in _reps(group, "nte")) if t],
    )
    observed = _component(obx, "obx_14")
    try:
        obs.observed_at = parse_time(observed)
    except ValueError:
        obs.observed_at = None  # a bad OBX-14 costs the observation nothing it needs
    value = _first(obx, "obx_5")
    parts = _parts(value) if value is not None else []
    if obs.value_type in ("CE", "CWE", "CNE", "CF"):
        obs.value_code = (parts[0] if parts else "")[:80]
        obs.value = (parts[1] if len(parts) > 1 and parts[1] else obs.value_code)[:200]
    elif obs.value_type == "SN":
        # Structured numeric: comparator ^ number [^ separator ^ number].
        obs.comparator = (parts[0] if parts else "")[:2]
        obs.number = _decimal(parts[1] if len(parts) > 1 else "")
        obs.value = "".join(parts[:2])[:200]
    else:
        obs.value = "\n".join(t for t in (_text(_er7(r)) for r in _reps(obx, "obx_5")) if t)[:200]
        if obs.value_type == "NM":
            obs.number = _decimal(obs.value)
    return obs


def _decimal(value: str) -> Decimal | None:
    value = value.strip()
    if not _NUMBER.fullmatch(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def first_number(text: str) -> Decimal | None:
    """The first number in a reference range such as "<100", "Negative <2000 ng/mL"."""
    m = _NUMBER.search(text.replace(",", ""))
    return _decimal(m.group(0)) if m else None


def _clip(text: str, limit: int = 160) -> str:
    text = _CONTROL.sub(" ", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- writing ------------------------------------------------------------------------


def _safe(text: str, limit: int = 200) -> str:
    # The ACK's free text carries no delimiter at all: the receiving system splits on
    # them before any escape is read.
    return _clip(re.sub(r"[|^~\\&\r\n]", " ", text), limit)


def build_ack(
    *,
    header: Header,
    code: str,
    ack_id: str,
    now: datetime,
    text: str = "",
    error_code: str = "",
) -> str:
    """The ACK (MSH, MSA and, unless accepted, ERR) to one message, as ER7 text."""
    ack = Message("ACK", version="2.5.1")
    msh = ack.msh
    msh.msh_3 = _safe(header.receiving_application or "STEPWISE", 60)
    msh.msh_4 = _safe(header.receiving_facility, 60)
    msh.msh_5 = _safe(header.sending_application, 60)
    msh.msh_6 = _safe(header.sending_facility, 60)
    msh.msh_7 = now.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")
    msh.msh_9 = "ACK^R01^ACK"
    msh.msh_10 = _safe(ack_id, 40)
    msh.msh_11 = _safe(header.processing_id, 3) or "P"
    msh.msh_12 = "2.5.1"
    ack.msa.msa_1 = code
    ack.msa.msa_2 = _safe(header.control_id, 80)
    if code != "AA" or error_code:
        err = ack.add_segment("ERR")
        number = error_code or INTERNAL_ERROR
        err.err_3 = f"{number}^{ERROR_NAMES.get(number, 'Error')}^HL70357"
        err.err_4 = "E" if code != "AA" else "I"
        if text:
            err.err_8 = _safe(text)
    return str(ack.to_er7()) + "\r"


def frame(message: str) -> bytes:
    """One message in an MLLP frame."""
    return b"\x0b" + message.encode("utf-8") + b"\x1c\r"
