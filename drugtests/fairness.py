"""Is the draw fair? Expected vs actual selections per patient, per policy."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from core.models import Site

from .models import DrawPoolEntry, TestingPolicy

ALPHA = 0.001


@dataclass
class Uniformity:
    statistic: float
    p_value: float
    dof: int

    @property
    def passes(self) -> bool:
        return self.p_value > ALPHA


def uniformity_test(observed: list[float], expected: list[float]) -> Uniformity | None:
    """Chi-square goodness of fit of the selection counts to each patient's share.

    Expected counts are rescaled to the observed total, so the test asks only whether
    selections fall on patients in proportion to their chances (equal chances under
    one policy), not whether the total is on target (the report shows that beside it).
    """
    total_obs, total_exp = sum(observed), sum(expected)
    if len(observed) < 2 or total_obs == 0 or total_exp == 0:
        return None
    scaled = [e * total_obs / total_exp for e in expected]
    # Imported here, not at module level: scipy.stats adds ~90 MB to every web and worker
    # process that loads the URLconf, for a report the director opens now and then.
    from scipy import stats

    statistic, p_value = stats.chisquare(observed, scaled)
    return Uniformity(float(statistic), float(p_value), len(observed) - 1)


@dataclass
class PatientRow:
    patient_id: int
    name: str = ""
    days_in_pool: int = 0
    expected: float = 0.0
    actual: int = 0
    longest_gap: int = 0
    dates: list[tuple[date, bool]] = field(default_factory=list)  # (day, selected)


@dataclass
class PolicyFairness:
    policy: TestingPolicy
    rows: list[PatientRow]
    test: Uniformity | None
    expected_total: float
    actual_total: int

    @property
    def low_expected(self) -> bool:
        # Chi-square is unreliable when expected counts are small; say so.
        return any(r.expected < 5 for r in self.rows)


def fairness_report(site: Site, start: date, end: date) -> list[PolicyFairness]:
    """Random draws only (for-cause tests are never in a draw's pool)."""
    by_policy: dict[int, dict[int, PatientRow]] = defaultdict(dict)
    for policy_id, patient_id, first, last, num, den, chosen, on in (
        DrawPoolEntry.objects.filter(draw__site=site, draw__date__range=(start, end))
        .order_by("draw__date")
        .values_list(
            "policy_id",
            "patient_id",
            "patient__legal_first_name",
            "patient__legal_last_name",
            "p_num",
            "p_den",
            "selected",
            "draw__date",
        )
    ):
        row = by_policy[policy_id].get(patient_id)
        if row is None:
            row = by_policy[policy_id][patient_id] = PatientRow(patient_id, f"{first} {last}")
        row.days_in_pool += 1
        row.expected += num / den
        row.dates.append((on, chosen))
    policies = TestingPolicy.objects.in_bulk(list(by_policy))
    out = []
    for policy_id, rows_by_patient in sorted(by_policy.items()):
        rows = sorted(rows_by_patient.values(), key=lambda r: r.name)
        for r in rows:
            r.actual = sum(1 for _, chosen in r.dates if chosen)
            r.longest_gap = longest_gap(r.dates)
        out.append(
            PolicyFairness(
                policy=policies[policy_id],
                rows=rows,
                test=uniformity_test([r.actual for r in rows], [r.expected for r in rows]),
                expected_total=sum(r.expected for r in rows),
                actual_total=sum(r.actual for r in rows),
            )
        )
    return out


def longest_gap(dates: list[tuple[date, bool]]) -> int:
    """Longest stretch in calendar days without a test while the patient was in the pool."""
    if not dates:
        return 0
    start = dates[0][0]
    last = start
    gap = 0
    tested = [on for on, chosen in dates if chosen]
    for on in tested:
        gap = max(gap, (on - last).days)
        last = on
    final = dates[-1][0]
    return max(gap, (final - last).days)
