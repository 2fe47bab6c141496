"""Scoring against the published rules and worked examples (measures.scoring on the
instruments' own JSON, as the services use it)."""

from __future__ import annotations

import pytest

from measures import instrument_data, scoring


def _phq9() -> dict:
    return instrument_data.read("phq9")["scoring"]


def _gad7() -> dict:
    return instrument_data.read("gad7")["scoring"]


def _bam() -> dict:
    return instrument_data.read("bam")["scoring"]


# Kroenke, Spitzer & Williams 2001 (J Gen Intern Med 16:606), Table 3 and the PHQ-9
# instruction manual: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe,
# 20-27 severe. Each threshold is checked on both sides.
@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "Minimal"),
        (4, "Minimal"),
        (5, "Mild"),
        (9, "Mild"),
        (10, "Moderate"),
        (14, "Moderate"),
        (15, "Moderately severe"),
        (19, "Moderately severe"),
        (20, "Severe"),
        (27, "Severe"),
    ],
)
def test_phq9_bands_follow_kroenke_2001(total, band):
    assert scoring.band_for(_phq9(), total)[0] == band


def test_phq9_instruction_manual_example_sums_the_nine_items():
    # PHQ-9 instruction manual (Pfizer): the total is the sum of the nine item values;
    # here 3 items "several days" (1), 3 "more than half the days" (2), 2 "nearly every
    # day" (3), one "not at all": 3 + 6 + 6 = 15, moderately severe.
    answers = {1: 1, 2: 2, 3: 3, 4: 2, 5: 1, 6: 2, 7: 3, 8: 1, 9: 0}
    result = scoring.score(_phq9(), answers)
    assert (result.total, result.band, result.flags, result.safety) == (
        15,
        "Moderately severe",
        [],
        [],
    )


def test_phq9_difficulty_item_counts_in_no_score():
    # The 10th question (LOINC 69722-7) is on the published form but is not scored
    # (Kroenke 2001: it rates functional impairment).
    answers = dict.fromkeys(range(1, 10), 0) | {10: 3}
    assert scoring.score(_phq9(), answers).total == 0


def test_phq9_item_9_above_zero_starts_the_safety_workflow():
    answers = dict.fromkeys(range(1, 10), 0) | {9: 1}
    result = scoring.score(_phq9(), answers)
    assert result.safety == [(9, 1)]
    assert result.flags == ["Thoughts of self-harm (item 9)"]


def test_phq9_item_9_at_zero_raises_nothing():
    result = scoring.score(_phq9(), dict.fromkeys(range(1, 10), 1) | {9: 0})
    assert (result.safety, result.flags) == ([], [])


# CLINICAL.md: a PHQ-9 change of 6 or more points is a reliable change.
@pytest.mark.parametrize(
    ("before", "after", "change"),
    [(18, 12, "improved"), (18, 13, ""), (7, 13, "worsened"), (7, 12, ""), (20, 2, "improved")],
)
def test_phq9_reliable_change_is_six_points(before, after, change):
    assert scoring.reliable_change(_phq9(), before, after) == change


# Spitzer, Kroenke, Williams & Löwe 2006 (Arch Intern Med 166:1092): cut points 5, 10 and
# 15 for mild, moderate and severe anxiety; 10 or more is the positive screen.
@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "Minimal"),
        (4, "Minimal"),
        (5, "Mild"),
        (9, "Mild"),
        (10, "Moderate"),
        (14, "Moderate"),
        (15, "Severe"),
        (21, "Severe"),
    ],
)
def test_gad7_bands_follow_spitzer_2006(total, band):
    assert scoring.band_for(_gad7(), total)[0] == band


def test_gad7_ten_or_more_is_a_positive_screen():
    nine = scoring.score(_gad7(), {1: 3, 2: 3, 3: 3, 4: 0, 5: 0, 6: 0, 7: 0})
    ten = scoring.score(_gad7(), {1: 3, 2: 3, 3: 3, 4: 1, 5: 0, 6: 0, 7: 0})
    assert (nine.total, nine.flags) == (9, [])
    assert (ten.total, ten.flags) == (10, ["Positive screen (10 or more)"])


def test_gad7_has_no_safety_item():
    assert scoring.score(_gad7(), dict.fromkeys(range(1, 8), 3)).safety == []


# GAD-7: a change of 4 points is taken as reliable (Toussaint et al. 2020, J Affect
# Disord 265:395).
def test_gad7_reliable_change_is_four_points():
    assert scoring.reliable_change(_gad7(), 14, 10) == "improved"
    assert scoring.reliable_change(_gad7(), 14, 11) == ""


# BAM: the VA scoring guide (Cacciola et al. 2013, J Subst Abuse Treat 44:256; VA BAM
# manual): Use = 4+5+6, Risk = 1+2+3+8+11+15, Protective = 9+10+12+13+14+16, items 7A-7G
# and 17 unscored; day counts scored 0 / 1-3 / 4-8 / 9-15 / 16-30 days = 0-4; item 14
# No = 0, Yes = 4. No published worked example was at hand, so this sitting was scored
# by hand from those rules:
BAM_SITTING = {
    1: 3,  # physical health fair
    2: 2,  # 4-8 nights of poor sleep
    3: 3,  # 9-15 days upset
    4: 1,  # alcohol on 1-3 days
    5: 0,  # no heavy drinking
    6: 2,  # drugs on 4-8 days
    71: 1,  # marijuana 1-3 days (unscored)
    75: 2,  # opiates 4-8 days (unscored)
    8: 2,  # cravings moderately
    9: 1,  # slightly confident
    10: 3,  # meetings 9-15 days
    11: 2,  # risky situations 4-8 days
    12: 1,  # spirituality slightly
    13: 0,  # no work or school
    14: 4,  # enough income: yes
    15: 1,  # arguments slightly
    16: 2,  # supportive contact 4-8 days
    17: 2,  # satisfied moderately (unscored)
}


def test_bam_subscales_follow_the_va_scoring_guide():
    result = scoring.score(_bam(), BAM_SITTING)
    # Use 1+0+2 = 3; Risk 3+2+3+2+2+1 = 13; Protective 1+3+1+0+4+2 = 11.
    assert result.subscales == {"use": 3, "risk": 13, "protective": 11}


def test_bam_flags_any_use_risk_and_low_protection():
    result = scoring.score(_bam(), BAM_SITTING)
    assert result.flags == ["Any use", "Risk 12 or more", "Protective 12 or less"]


def test_bam_total_is_the_use_score_for_trends():
    result = scoring.score(_bam(), BAM_SITTING)
    assert (result.total, result.band) == (3, "Any use")


def test_bam_drug_items_and_item_17_change_no_score():
    without = {k: v for k, v in BAM_SITTING.items() if k not in (71, 75, 17)}
    assert scoring.score(_bam(), without) == scoring.score(_bam(), BAM_SITTING)


def test_bam_abstinent_well_supported_sitting_raises_no_flag():
    # Risk at 11 and Protective at 13 sit just inside the cut-offs (Risk >= 12,
    # Protective <= 12).
    answers = dict.fromkeys([4, 5, 6], 0) | {1: 2, 2: 2, 3: 2, 8: 2, 11: 2, 15: 1}
    answers |= {9: 3, 10: 2, 12: 2, 13: 2, 14: 4, 16: 0, 17: 3}
    result = scoring.score(_bam(), answers)
    assert result.subscales == {"use": 0, "risk": 11, "protective": 13}
    assert (result.flags, result.band) == ([], "No use")
