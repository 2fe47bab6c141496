"""The one plugin shape: ordered registries filled by modules each owner imports."""

import pytest

from core.alerts import RULES
from core.panels import PANELS
from core.registry import Registry
from core.reporting import REPORTS


def test_entries_come_by_order_then_by_registration():
    registry: Registry[str] = Registry(unique=False)
    registry.add("page", "late", order=20)
    registry.add("page", "first", order=10)
    registry.add("page", "second", order=10)
    registry.add("other", "elsewhere", order=1)
    assert registry.values("page") == ["first", "second", "late"]
    assert list(registry) == ["elsewhere", "first", "second", "late"]
    assert len(registry) == 4


def test_a_unique_registry_refuses_a_second_value_under_a_key():
    registry: Registry[str] = Registry(unique=True)

    @registry.register("slug")
    def build() -> str:
        return "built"

    assert registry.get("slug") is build
    assert registry.get("missing") is None
    with pytest.raises(ValueError, match="slug"):
        registry.add("slug", "again")


def _apps(hook: str) -> list[str]:
    return [e.value.__module__.split(".")[0] for e in PANELS.entries(hook)]


def test_every_apps_panels_are_found_without_a_list_of_apps():
    # Equal orders keep INSTALLED_APPS order, as the pages always showed them.
    assert _apps("staff_home") == [
        "dashboard",
        "measures",  # #18: the director's open safety follow-ups
        "privacy",
        "records",
        "patients",
        "scheduling",
        "notifications",
        "drugtests",
        "records",  # #17: group notes the facilitator has not signed
        "records",  # #17 plans: the clinician's draft plans
        "records",  # #17 (notes): the clinician's own draft notes
        "recovery",
    ]
    # #17 plans: the plan card after the schedule; "sign your plan" on the portal.
    # #17 (notes): the progress-notes panel after the plan card.
    # #18: the scores card between the plan card and the notes.
    assert _apps("chart") == [
        "scheduling",
        "records",
        "measures",
        "records",
        "drugtests",
        "contingency",  # #18: the CM episode card, or enrolment
        "recovery",
        "privacy",
        "exchange",  # #19: the patient's FHIR record, made at their request
        "letters",  # #19: letters, the patient's record, the accounting of disclosures
    ]
    assert _apps("portal_home") == [
        "patients",
        "drugtests",
        "measures",  # #18: "You have a short check-in to complete"
        "scheduling",
        "records",
        "notifications",
        "contingency",  # #18: "Your rewards" while an episode is active
        "recovery",
    ]


def test_alert_rules_and_reports_are_registered_when_their_apps_are_ready():
    assert [e.key for e in RULES.entries()] == [
        "safety_followup_due",  # #18: PHQ-9 item 9 above 0, urgent until followed up
        "injection_due",
        "phone_unreadable",
        "drug_test_findings",
        "overdue_homework",
        "meeting_shortfall",
        "waiting_for_review",
        "unexcused_streak",
        "weekly_hours_short",
        "no_contact",
        "attendance_not_taken",  # #20: a session past its end, attendance not taken
        "schedule_short",  # #20: the week's schedule cannot reach the level's minimum
        "note_overdue",
        "plan_overdue",
    ]
    assert [e.key for e in REPORTS.entries()] == [
        "attendance",
        "hours",
        "billing",
        "census",
        "discharges",
        "retention",
        "positivity",
        "note-timeliness",
        "measures-outcomes",  # #18
        "cm-fidelity",  # #18
    ]
