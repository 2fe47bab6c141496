"""Scores from answers, by the instrument's ``scoring`` data (``Instrument.scoring``).

Pure functions, no database: the services call them at completion and store the result
beside the answers; the scoring tests call them with published worked examples.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

OPS: dict[str, Callable[[int, int], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Score:
    total: int
    subscales: dict[str, int] = field(default_factory=dict)
    band: str = ""
    band_severity: int = 0
    flags: list[str] = field(default_factory=list)
    # (item number, value) of each answer that starts the safety workflow.
    safety: list[tuple[int, int]] = field(default_factory=list)


def _sum(items: list[int], answers: Mapping[int, int]) -> int:
    return sum(answers.get(number, 0) for number in items)


def band_for(scoring: Mapping[str, Any], total: int) -> tuple[str, int]:
    for band in scoring.get("bands", []):
        if band["min"] <= total <= band["max"]:
            return str(band["label"]), int(band.get("severity", 0))
    return "", 0


def score(scoring: Mapping[str, Any], answers: Mapping[int, int]) -> Score:
    """Score one sitting. ``answers`` maps item number to the chosen option's value."""
    total = _sum(list(scoring.get("total", [])), answers)
    subscales: dict[str, int] = {}
    flags: list[str] = []
    for key, sub in scoring.get("subscales", {}).items():
        value = _sum(list(sub["items"]), answers)
        subscales[key] = value
        for flag in sub.get("flags", []):
            if OPS[flag["op"]](value, flag["value"]):
                flags.append(str(flag["label"]))
    for flag in scoring.get("flags", []):
        item = int(flag["item"])
        if item in answers and OPS[flag["op"]](answers[item], flag["value"]):
            flags.append(str(flag["label"]))
    for flag in scoring.get("total_flags", []):
        if OPS[flag["op"]](total, flag["value"]):
            flags.append(str(flag["label"]))
    safety = [
        (int(item), answers[int(item)])
        for item in scoring.get("safety_items", [])
        if answers.get(int(item), 0) > 0
    ]
    band, severity = band_for(scoring, total)
    return Score(
        total=total,
        subscales=subscales,
        band=band,
        band_severity=severity,
        flags=flags,
        safety=safety,
    )


def reliable_change(scoring: Mapping[str, Any], before: int, after: int) -> str:
    """ "improved", "worsened" or "" (no reliable change), by the instrument's threshold."""
    threshold = scoring.get("reliable_change")
    if not threshold:
        return ""
    delta = after - before
    if abs(delta) < int(threshold):
        return ""
    better = delta < 0 if scoring.get("lower_is_better", True) else delta > 0
    return "improved" if better else "worsened"
