"""verify_draws recomputes every draw; any single altered field names the draw."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from drugtests.models import Draw, DrawPoolEntry, Selection
from drugtests.services.random_draw import draw_run

from .conftest import MONDAY, NOW

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def dba_bypasses_guard(db):
    """The tampering below is what someone with database rights could do: on PostgreSQL
    they would first disable the immutability triggers (rolled back after each test)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ALTER TABLE drugtests_draw DISABLE TRIGGER drugtests_draw_immutable")
            cur.execute(
                "ALTER TABLE drugtests_drawpoolentry DISABLE TRIGGER drugtests_pool_immutable"
            )


@pytest.fixture
def chain(site, phases, policies, make_patient):
    """Three draws of one site (Wed, Fri, Mon). ``target`` is the one tampered with: a
    draw with both selected and unselected patients (the draw is random; with ten patients
    at p = 2/5 some draw of the three qualifies except with probability ~1e-7)."""
    for _ in range(10):
        make_patient(phase=phases[0])
    made = [
        draw_run(site=site, on=MONDAY - timedelta(days=back), now=NOW).draw for back in (5, 3, 0)
    ]
    mixed = [i for i, d in enumerate(made) if 0 < d.selected_count < d.pool_size]
    assert mixed
    return made, mixed[0]


@pytest.fixture
def target(chain):
    made, i = chain
    return made[i]


def _verify(site_code=None) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    args = ["--site", site_code] if site_code else []
    call_command("verify_draws", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _fails_naming(draw_id: int) -> str:
    with pytest.raises(CommandError) as exc:
        _verify()
    assert exc.value.returncode != 0
    assert f"draw {draw_id}" in str(exc.value)
    return str(exc.value)


def test_verify_passes_on_untouched_draws(chain):
    out, err = _verify()
    assert "OK: 3 draw(s) verified" in out and not err


DRAW_CHANGES = {
    "date": lambda d: d.date + timedelta(days=1),
    "seq": lambda d: d.seq + 10,
    "status": lambda d: "committed",
    "trigger": lambda d: "beat",
    "created_at": lambda d: d.created_at + timedelta(seconds=1),
    "seed_commitment": lambda d: "0" * 64,
    "seed": lambda d: "11" * 32,
    "pool_hash": lambda d: "f" * 64,
    "pool_size": lambda d: d.pool_size + 1,
    "selected_count": lambda d: d.selected_count + 1,
    "prev_hash": lambda d: "a" * 64,
    "hash": lambda d: "b" * 64,
}


@pytest.mark.parametrize("field", sorted(DRAW_CHANGES))
def test_verify_fails_naming_draw_when_a_draw_field_changes(target, field):
    Draw.objects.filter(pk=target.pk).update(**{field: DRAW_CHANGES[field](target)})
    _fails_naming(target.pk)


def test_verify_fails_when_created_by_changes(target, nurse):
    Draw.objects.filter(pk=target.pk).update(created_by=nurse)
    _fails_naming(target.pk)


def test_verify_fails_when_a_draw_moves_site(target, other_site):
    Draw.objects.filter(pk=target.pk).update(site=other_site)
    _fails_naming(target.pk)


def _pool_change(field, entry, draw, policies, make_patient, phases):
    if field == "patient":
        return make_patient(phase=phases[0])
    if field == "enrollment":
        return make_patient(phase=phases[0]).enrollments.get()
    if field == "policy":
        return policies[2]
    return {
        "p_num": entry.p_num + 1,
        "p_den": entry.p_den + 1,
        "uniform": "0" * 16 if entry.uniform != "0" * 16 else "f" * 16,
        "selected": not entry.selected,
    }[field]


@pytest.mark.parametrize(
    "field", ["patient", "enrollment", "policy", "p_num", "p_den", "uniform", "selected"]
)
def test_verify_fails_naming_draw_when_a_pool_field_changes(
    target, field, policies, make_patient, phases
):
    entry = DrawPoolEntry.objects.filter(draw=target).first()
    value = _pool_change(field, entry, target, policies, make_patient, phases)
    DrawPoolEntry.objects.filter(pk=entry.pk).update(**{field: value})
    _fails_naming(target.pk)


def test_verify_fails_when_a_pool_entry_is_removed(target):
    entry = DrawPoolEntry.objects.filter(draw=target, selected=False).first()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM drugtests_drawpoolentry WHERE id = %s", [entry.pk])
    _fails_naming(target.pk)


def test_verify_fails_when_a_random_selection_is_added(target):
    entry = DrawPoolEntry.objects.filter(draw=target, selected=False).first()
    chosen = Selection.objects.filter(draw=target).first()
    Selection.objects.create(
        patient_id=entry.patient_id,
        site=target.site,
        date=target.date,
        kind="random",
        draw=target,
        policy_id=entry.policy_id,
        deadline=chosen.deadline,
        created_at=NOW,
    )
    _fails_naming(target.pk)


def test_verify_fails_when_a_random_selection_is_removed(target):
    chosen = Selection.objects.filter(draw=target).first()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM drugtests_selection WHERE id = %s", [chosen.pk])
    _fails_naming(target.pk)


def test_verify_fails_naming_next_draw_when_a_draw_is_removed_from_chain(chain):
    made, _ = chain
    middle = made[1]
    with connection.cursor() as cur:
        cur.execute("DELETE FROM drugtests_selection WHERE draw_id = %s", [middle.pk])
        cur.execute("DELETE FROM drugtests_drawpoolentry WHERE draw_id = %s", [middle.pk])
        cur.execute("DELETE FROM drugtests_draw WHERE id = %s", [middle.pk])
    message = _fails_naming(made[2].pk)
    assert f"draw {middle.pk}" in message  # still named: the audit trail anchors it


def test_verify_fails_when_newest_draw_is_removed(chain):
    newest = chain[0][2]
    with connection.cursor() as cur:
        cur.execute("DELETE FROM drugtests_selection WHERE draw_id = %s", [newest.pk])
        cur.execute("DELETE FROM drugtests_drawpoolentry WHERE draw_id = %s", [newest.pk])
        cur.execute("DELETE FROM drugtests_draw WHERE id = %s", [newest.pk])
    _fails_naming(newest.pk)


def test_verify_names_only_the_altered_draw(chain):
    made, _ = chain
    Draw.objects.filter(pk=made[0].pk).update(pool_size=99)
    message = _fails_naming(made[0].pk)
    assert f"draw {made[1].pk}" not in message and f"draw {made[2].pk}" not in message


def test_verify_unknown_site_is_one_line_error(chain):
    with pytest.raises(CommandError, match="No site with code 'nowhere'"):
        _verify("nowhere")
