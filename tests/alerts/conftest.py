"""Alert-queue fixtures: the dashboard's week of drug tests and sessions, and a way to
run the events' on-commit reconcile in the test's own process."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import attend, drug_test, policy, week_sessions  # noqa: F401
from tests.measures._checkin_fixtures import make_sitting, phq9  # noqa: F401
from tests.records._notes_fixtures import clinicians, make_note  # noqa: F401


@pytest.fixture
def events(monkeypatch, django_capture_on_commit_callbacks):
    """``with events():`` runs the block's commit hooks when it ends, and the reconcile
    task they queue runs here (as a worker would, with the ids it was given)."""
    from alerts import receivers
    from alerts.tasks import alerts_reconcile_ids

    sent: list[dict] = []

    def send(ids):
        sent.append(ids)
        alerts_reconcile_ids(ids)

    monkeypatch.setattr(receivers, "_send", send)

    def run():
        # The test's transaction never commits: the fixtures' writes are left out, so
        # the block's events start a batch of their own.
        receivers._local.__dict__.pop("batch", None)
        return django_capture_on_commit_callbacks(execute=True)

    run.sent = sent
    return run
