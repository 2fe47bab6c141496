"""Core 0012 on a trail written by the single-key scheme: the old rows keep verifying
(key id legacy) and new rows chain on after them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core import audit
from core.models import AuditEvent

BEFORE = [("core", "0011_site_letterhead")]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_trail_from_before_the_keyring_verifies_after_0012_and_chains_on():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("core")
    executor.migrate(BEFORE)
    try:
        old_model = executor.loader.project_state(BEFORE).apps.get_model("core", "AuditEvent")
        for i in range(3):
            audit.append(
                old_model,
                at=audit.timezone.now(),
                actor=None,
                actor_label="before",
                action=f"test.old.{i}",
                outcome="ok",
                patient_id=i,
                site_id=None,
                object_type="",
                object_id="",
                ip=None,
                detail={"i": i},
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    assert list(AuditEvent.objects.values_list("key_id", "row_mac")) == [("legacy", "")] * 3
    audit.record(action="test.new")
    assert audit.seal() == 1
    result = audit.verify_trail()
    assert result.problems == []
    assert dict(result.keys) == {"legacy": 3, "test": 1}
    assert AuditEvent.objects.get(action="test.new").seq == 4
