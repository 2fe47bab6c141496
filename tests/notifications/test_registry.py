"""The reminder sources register themselves; every kind has exactly one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notifications import registry
from notifications.models import Kind, Notification


def test_every_kind_belongs_to_one_registered_source():
    owners = [kind for source in registry.sources() for kind in source.kinds]
    assert sorted(owners) == sorted(Kind.values)


def test_a_second_source_for_the_same_object_type_is_refused():
    with pytest.raises(ValueError, match="belong to both"):
        registry.register(
            registry.ReminderSource(
                name="imposter",
                kinds=frozenset(),
                object_types=frozenset({"scheduling.Session"}),
                sweeps=(),
            )
        )
    assert "imposter" not in {s.name for s in registry.sources()}


def test_a_row_no_source_re_checks_still_applies():
    row = Notification(pk=1, kind=Kind.STAFF_DIGEST, object_type="elsewhere.Thing", object_id=3)
    assert registry.still_applies(row, now=datetime(2026, 12, 1, tzinfo=UTC)) == (True, {})
