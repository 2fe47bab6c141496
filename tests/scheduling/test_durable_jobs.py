"""Jobs that must commit unit by unit refuse to run inside a caller's transaction.

The test's own transaction (pytest-django's) is allowed to hold a durable block; an
atomic block opened by the caller is not.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import transaction

from core.models import Site
from patients.services.scheduled_changes import scheduled_change_apply
from scheduling.services.materialization import materialize_all
from scheduling.services.site_holidays import holidays_top_up_all

JOBS: dict[str, Callable[[], object]] = {
    "scheduled_change_apply": lambda: scheduled_change_apply(change_id=0),
    "materialize_all": materialize_all,
    "holidays_top_up_all": holidays_top_up_all,
}


@pytest.mark.parametrize("name", sorted(JOBS))
def test_refused_inside_a_transaction(site: Site, name: str) -> None:
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        JOBS[name]()


@pytest.mark.parametrize("name", sorted(JOBS))
def test_runs_on_its_own(site: Site, name: str) -> None:
    JOBS[name]()
