"""The draw is statistically fair, and the test that says so can fail."""

import hashlib
from datetime import date
from functools import cache

from drugtests import draws
from drugtests.fairness import longest_gap, uniformity_test

DRAWS = 20_000
POOL = list(range(101, 121))  # 20 patient ids
P_NUM, P_DEN = 2, 5  # two per week over five collection days


def _seed(i: int) -> bytes:
    # Fixed seeds: the test is reproducible; the service uses secrets.token_bytes.
    return hashlib.sha256(f"fairness-{i}".encode()).digest()


def _simulate(selector) -> dict[int, int]:
    counts = dict.fromkeys(POOL, 0)
    for chosen in _run(selector):
        for pid in chosen:
            counts[pid] += 1
    return counts


@cache
def _run(selector) -> tuple[frozenset, ...]:
    return tuple(frozenset(selector(_seed(i), i + 1)) for i in range(DRAWS))


def _real(seed, draw_id):
    return draws.select(seed, draw_id, [(pid, P_NUM, P_DEN) for pid in POOL])


def _biased(seed, draw_id):
    # A plausible bug: odd patient ids get a slightly smaller number, so a higher chance.
    out = []
    for pid in POOL:
        u = draws.uniform(seed, draw_id, pid) * (0.95 if pid % 2 else 1.0)
        if u < P_NUM / P_DEN:
            out.append(pid)
    return out


EXPECTED = [DRAWS * P_NUM / P_DEN] * len(POOL)


def test_20000_draws_pass_chi_square_uniformity():
    counts = _simulate(_real)
    result = uniformity_test([counts[p] for p in POOL], EXPECTED)
    assert result.passes, result
    assert result.p_value > 0.001


def test_same_test_fails_for_a_biased_generator():
    counts = _simulate(_biased)
    result = uniformity_test([counts[p] for p in POOL], EXPECTED)
    assert not result.passes
    assert result.p_value < 0.001


def test_mean_selections_per_patient_per_week_match_policy():
    counts = _simulate(_real)
    weeks = DRAWS / P_DEN  # five collection days a week
    per_patient_week = sum(counts.values()) / len(POOL) / weeks
    assert abs(per_patient_week - 2.0) < 0.05


def test_monthly_policy_averages_two_per_month():
    # Phase 3: two a month on weekdays; November 2026 has 21 weekdays.
    den = draws.collection_days_in_period(frozenset(range(5)), "month", date(2026, 11, 2))
    assert den == 21
    total = 0
    months = 1000
    for m in range(months):
        for d in range(den):
            total += len(
                draws.select(_seed(m * 100 + d), m * 100 + d, [(pid, 2, den) for pid in POOL])
            )
    assert abs(total / len(POOL) / months - 2.0) < 0.1


def test_selection_is_independent_of_yesterday():
    # P(selected today | selected yesterday) equals P(selected today).
    runs = _run(_real)
    both = prev = 0
    for a, b in zip(runs, runs[1:], strict=False):
        prev += len(a)
        both += len(a & b)
    assert abs(both / prev - P_NUM / P_DEN) < 0.01


def test_longest_gap_counts_days_between_tests():
    days = [(date(2026, 11, d), d in (3, 10)) for d in (2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 20)]
    assert longest_gap(days) == 10  # from the 10th to the 20th
