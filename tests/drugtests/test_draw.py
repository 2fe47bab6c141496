from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection  # noqa: F401 - used by the skipif condition

from drugtests import draws
from drugtests.models import Draw, DrawPoolEntry, ImmutableError, Selection
from drugtests.selectors import eligible_pool
from drugtests.services.random_draw import draw_run
from patients.services.enrollment import (
    enrollment_change_phase,
    enrollment_discharge,
    enrollment_hold,
)
from tests.conftest import SCENARIO_NOW

from .conftest import MONDAY, NOW

pytestmark = [pytest.mark.frozen(SCENARIO_NOW), pytest.mark.django_db]


def test_draw_stores_commitment_pool_hash_and_chain(make_patient, phases, policies, site):
    for _ in range(5):
        make_patient(phase=phases[0])
    first = draw_run(site=site, on=MONDAY - timedelta(days=1 + 2), now=NOW).draw  # Friday
    second = draw_run(site=site, on=MONDAY, now=NOW).draw
    assert second.prev_hash == first.hash and first.prev_hash == draws.GENESIS
    assert second.seed_commitment == draws.commitment(bytes.fromhex(second.seed))
    assert second.pool_size == 5 == second.pool.count()
    rows = [
        (e.patient_id, e.enrollment_id, e.policy_id, e.p_num, e.p_den) for e in second.pool.all()
    ]
    assert draws.pool_hash(rows) == second.pool_hash
    assert {(e.p_num, e.p_den) for e in second.pool.all()} == {(2, 5)}


def test_selection_follows_hmac_of_seed_draw_and_patient(make_patient, phases, policies, site):
    for _ in range(8):
        make_patient(phase=phases[0])
    draw = draw_run(site=site, on=MONDAY, now=NOW).draw
    seed = bytes.fromhex(draw.seed)
    for entry in draw.pool.all():
        u = draws.uniform(seed, draw.pk, entry.patient_id)
        assert entry.selected == (u < 2 / 5)
    assert set(Selection.objects.filter(draw=draw).values_list("patient_id", flat=True)) == set(
        draw.pool.filter(selected=True).values_list("patient_id", flat=True)
    )


def test_second_draw_same_day_changes_nothing(make_patient, phases, policies, site):
    make_patient(phase=phases[0])
    first = draw_run(site=site, on=MONDAY, now=NOW)
    again = draw_run(site=site, on=MONDAY, now=NOW + timedelta(hours=1))
    assert first.created and not again.created
    assert again.draw.pk == first.draw.pk and Draw.objects.count() == 1


def test_draw_is_unique_per_site_and_day_in_the_database(make_patient, phases, policies, site):
    from django.db import IntegrityError, transaction

    draw = draw_run(site=site, on=MONDAY, now=NOW).draw
    with pytest.raises(IntegrityError), transaction.atomic():
        Draw.objects.create(
            site=site,
            date=MONDAY,
            seq=99,
            created_at=NOW,
            seed_commitment="x",
            pool_hash="x",
            prev_hash=draw.hash,
        )


def test_pool_has_only_active_enrollments_on_that_day(
    make_patient, phases, policies, site, counselor
):
    active = make_patient(phase=phases[0])
    held = make_patient(phase=phases[0])
    gone = make_patient(phase=phases[0])
    later = make_patient(phase=phases[0], admitted=MONDAY + timedelta(days=1))
    enrollment_hold(
        actor=counselor,
        enrollment=held.enrollments.get(),
        effective_date=MONDAY,
        reason="hospital",
        now=NOW,
    )
    enrollment_discharge(
        actor=counselor,
        enrollment=gone.enrollments.get(),
        discharge_date=MONDAY - timedelta(days=1),
        discharge_type="completed",
        aftercare_plan="OP weekly",
        now=NOW,
    )
    ids = {c.patient_id for c in eligible_pool(site, MONDAY)}
    assert ids == {active.pk}
    # A week earlier the held and the discharged patient were still active.
    before = {c.patient_id for c in eligible_pool(site, MONDAY - timedelta(days=7))}
    assert before == {active.pk, held.pk, gone.pk}
    assert later.pk not in before


def test_pool_uses_the_phase_policy_in_force_that_day(
    make_patient, phases, policies, site, counselor
):
    p = make_patient(phase=phases[0])
    enrollment_change_phase(
        actor=counselor,
        enrollment=p.enrollments.get(),
        phase=phases[1],
        effective_date=MONDAY,
        reason="goals met",
        now=NOW,
    )
    assert eligible_pool(site, MONDAY)[0].policy_id == policies[2].pk
    assert eligible_pool(site, MONDAY - timedelta(days=7))[0].policy_id == policies[1].pk


def test_patient_without_phase_gets_site_default(make_patient, policies, site):
    make_patient()
    (c,) = eligible_pool(site, MONDAY)
    assert c.policy_id == policies[0].pk and (c.p_num, c.p_den) == (1, 5)


def test_monthly_policy_probability_uses_collection_days_in_month(
    make_patient, phases, policies, site
):
    make_patient(phase=phases[2])
    (c,) = eligible_pool(site, MONDAY)
    assert (c.p_num, c.p_den) == (2, 21)  # weekdays in November 2026


def test_no_collection_on_days_the_policy_does_not_collect(make_patient, phases, policies, site):
    make_patient(phase=phases[0])
    saturday = MONDAY - timedelta(days=2)
    draw = draw_run(site=site, on=saturday, now=NOW).draw
    assert draw.pool_size == 0 and draw.selected_count == 0


def test_future_day_refused(site, policies):
    with pytest.raises(ValidationError):
        draw_run(site=site, on=MONDAY + timedelta(days=1), now=NOW)


def test_draw_is_immutable(make_patient, phases, policies, site):
    make_patient(phase=phases[0])
    draw = draw_run(site=site, on=MONDAY, now=NOW).draw
    draw.pool_size = 0
    with pytest.raises(ImmutableError):
        draw.save()
    with pytest.raises(ImmutableError):
        draw.delete()
    entry = DrawPoolEntry.objects.get(draw=draw)
    entry.selected = not entry.selected
    with pytest.raises(ImmutableError):
        entry.save()


def test_draw_times_are_site_local(site, other_site, policies):
    from drugtests.selectors import site_today

    # 02:00 UTC Tuesday is still Monday in New York and Los Angeles.
    at = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    assert site_today(site, at) == MONDAY
    assert site_today(other_site, at) == MONDAY


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE drugtests_draw SET pool_size = pool_size + 1",
        "UPDATE drugtests_draw SET status = 'committed'",
        "DELETE FROM drugtests_draw",
        "UPDATE drugtests_drawpoolentry SET selected = NOT selected",
        "DELETE FROM drugtests_drawpoolentry",
    ],
)
def test_database_refuses_to_change_a_stored_draw(make_patient, phases, policies, site, sql):
    from django.db import DatabaseError, transaction

    make_patient(phase=phases[0])
    draw = draw_run(site=site, on=MONDAY, now=NOW).draw
    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(sql)
    draw.refresh_from_db()
    assert draw.pool_size == 1
