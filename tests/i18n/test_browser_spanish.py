"""A Spanish-speaking patient's day, in a real phone-sized browser with a real Celery
worker: the portal speaks Spanish, she reads her schedule, logs a meeting, hands in
homework, and the reminder the worker sends her is in Spanish and names no treatment."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from notifications import outbox
from notifications.models import Channel, Kind, Notification, Status
from notifications.privacy import violations
from patients.models import Patient
from recovery.models import HomeworkStatus, Meeting
from tests.a11y import assert_accessible
from tests.conftest import save_screen, wait_for
from tests.notifications.conftest import broker_is_redis, clean_broker  # noqa: F401 (fixture)

from .conftest import ensure_compiled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def maria(make_patient, track, counselor):
    from recovery.services.homework import homework_assign, homework_template_create
    from scheduling.services.materialization import sessions_materialize
    from scheduling.services.series import series_create

    ensure_compiled()
    now = timezone.now()
    today = timezone.localdate(now, track.site.tz)
    patient = make_patient(
        first="María", last="Evening", track=track, admitted=date(2026, 9, 1), portal=True
    )
    Patient.objects.filter(pk=patient.pk).update(preferred_language="es")
    series_create(
        actor=counselor,
        track=track,
        weekdays=["MO", "TU", "WE", "TH", "FR"],
        start_time=time(18),
        end_time=time(21),
        starts_on=today - timedelta(days=7),
        topic="Evening group",
        kind="group",
        now=now - timedelta(days=7),
    )
    sessions_materialize(site=track.site, now=now, first=today - timedelta(days=7))
    template = homework_template_create(
        actor=counselor, site=track.site, title="Diario", instructions="Escriba tres cosas."
    )
    homework_assign(
        actor=counselor, patient=patient, template=template, due_date=today + timedelta(days=7)
    )
    patient.refresh_from_db()
    return patient


@pytest.mark.usefixtures("clean_broker")
def test_a_spanish_speaking_patient_on_a_phone(
    page, login, live_server, maria, nurse, celery_worker
):
    if connection.vendor != "postgresql" or not broker_is_redis():
        pytest.skip("the worker's part needs PostgreSQL and Redis")
    from patients.services.medication import medication_order_create

    page.set_viewport_size({"width": 375, "height": 740})
    login(page, maria.user.username)  # the login page follows the browser: English here
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_test_id("home-heading").inner_text().startswith("Hola, María")
    assert_accessible(page, live_server.url)
    save_screen(page, "i18n_es_home_375")

    # The schedule, from the menu.
    page.get_by_role("button", name="Abrir o cerrar el menú").click()
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Mi horario").click()
    assert page.get_by_test_id("schedule-heading").inner_text() == "Mi horario"
    expect(page.get_by_text("Sesión de grupo").first).to_be_visible()
    save_screen(page, "i18n_es_schedule_375")

    # A meeting, logged with the Spanish labels.
    page.goto(f"{live_server.url}/recovery/my/meetings/")
    held = timezone.localtime(timezone.now(), maria.site.tz) - timedelta(hours=3)
    page.get_by_label("Fecha y hora de la reunión").fill(held.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Grupo de apoyo").select_option("na")
    page.get_by_label("Nombre de la reunión").fill("Grupo Esperanza")
    page.get_by_label("En línea").check()
    page.get_by_role("button", name="Anotar la reunión").click()
    page.get_by_text("Anotamos su reunión").wait_for()
    assert "Esperando que el personal lo revise" in page.get_by_test_id("my-meeting").inner_text()
    assert Meeting.objects.get().name == "Grupo Esperanza"

    # Homework, handed in.
    page.goto(f"{live_server.url}/recovery/my/homework/")
    page.get_by_label("Su respuesta").fill("El día de pago, y pasar por el bar de antes.")
    page.get_by_role("button", name="Enviar a mi consejero").click()
    page.get_by_text("se envió a su consejero").wait_for()
    assert maria.homework.get().status == HomeworkStatus.SUBMITTED
    save_screen(page, "i18n_es_homework_375")

    # A reminder, planned and sent by the real worker: an injection visit due in two
    # days (its three-days-before reminder is due at once).
    order = medication_order_create(
        actor=nurse,
        patient=maria,
        medication="naltrexone_xr",
        dose="380 mg",
        frequency="monthly",
        prescriber="Dr. Example",
        start_date=date(2026, 9, 1),
        next_injection_due=timezone.localdate(timezone.now(), maria.site.tz) + timedelta(days=2),
    )
    wait_for(lambda: Notification.objects.filter(object_id=order.pk, kind=Kind.INJECTION_DUE))
    outbox.notifications_dispatch_due()  # what the beat tick runs
    sent = wait_for(
        lambda: Notification.objects.filter(
            object_id=order.pk, channel=Channel.IN_APP, status=Status.SENT
        ).first()
    )
    assert sent.body.startswith("Su próxima visita"), sent.body
    assert violations(sent.subject + sent.body) == []
    page.goto(f"{live_server.url}/notifications/")
    assert sent.body in page.get_by_test_id("notification").first.inner_text()
    assert_accessible(page, live_server.url)
    save_screen(page, "i18n_es_inbox_375")
