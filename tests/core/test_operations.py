"""Operations: the beat's heartbeat in /healthz, optional Sentry, JSON log lines."""

import io
import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from django.conf import settings as django_settings

from core.models import BeatHeartbeat

ROOT = Path(__file__).resolve().parents[2]


def _healthz(client):
    response = client.get("/healthz")
    return response.status_code, json.loads(response.content)


# --- beat heartbeat ----------------------------------------------------------------


def test_the_beat_schedules_the_heartbeat_with_an_expiry(settings):
    from clinic.celery import app

    app.loader.import_default_modules()
    assert "core.tasks.beat_heartbeat" in app.tasks
    entries = {e["task"]: e for e in settings.CELERY_BEAT_SCHEDULE.values()}
    entry = entries["core.tasks.beat_heartbeat"]
    interval = entry["schedule"].total_seconds()
    # A heartbeat queued behind a stalled worker is worthless once the next is due.
    assert entry["options"]["expires"] <= interval
    assert 2 * interval <= settings.BEAT_STALE_SECONDS


def test_heartbeat_task_stores_the_time_in_one_row(db, test_now):
    from core.tasks import beat_heartbeat

    beat_heartbeat()
    beat_heartbeat()
    row = BeatHeartbeat.objects.get()
    assert abs(row.beat_at - test_now) < timedelta(seconds=5)


def test_healthz_is_ok_with_a_fresh_heartbeat(client, db, test_now):
    BeatHeartbeat.objects.create(pk=1, beat_at=test_now - timedelta(seconds=60))
    assert _healthz(client) == (
        200,
        {"status": "ok", "database": "ok", "broker": "ok", "beat": "ok", "audit": "ok"},
    )


def test_healthz_is_503_beat_stale_when_the_heartbeat_is_too_old(client, db, test_now, settings):
    BeatHeartbeat.objects.create(
        pk=1, beat_at=test_now - timedelta(seconds=settings.BEAT_STALE_SECONDS + 1)
    )
    status, body = _healthz(client)
    assert status == 503
    assert body["beat"] == "stale" and body["status"] == "down"
    assert body["database"] == "ok"


def test_healthz_is_503_beat_stale_when_the_beat_never_ran(client, db):
    status, body = _healthz(client)
    assert (status, body["beat"]) == (503, "stale")


def test_heartbeat_just_inside_the_limit_is_ok(client, db, test_now, settings):
    BeatHeartbeat.objects.create(
        pk=1, beat_at=test_now - timedelta(seconds=settings.BEAT_STALE_SECONDS - 5)
    )
    assert _healthz(client)[0] == 200


def test_healthz_reports_beat_unknown_when_the_database_is_down(client, db, monkeypatch):
    from django.db import OperationalError

    import core.views

    class Broken:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(core.views, "connection", Broken())

    def no_row(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(core.views, "beat_last_heartbeat", no_row)
    monkeypatch.setattr(core.views, "oldest_unsealed_at", no_row)
    status, body = _healthz(client)
    assert status == 503 and body["database"] == "down" and body["beat"] == "unknown"
    assert body["audit"] == "unknown"


# --- the audit sealer's backlog -----------------------------------------------------


def _unsealed_row(at):
    from core import audit

    return audit.record(action="test.backlog", actor_label="healthz-test", at=at)


def test_healthz_is_503_audit_behind_when_an_unsealed_row_is_too_old(
    client, db, test_now, settings
):
    BeatHeartbeat.objects.create(pk=1, beat_at=test_now)
    _unsealed_row(test_now - timedelta(seconds=settings.AUDIT_SEAL_STALE_SECONDS + 1))
    status, body = _healthz(client)
    assert (status, body["audit"], body["status"]) == (503, "behind", "down")


def test_healthz_audit_is_ok_while_the_backlog_is_young(client, db, test_now, settings):
    BeatHeartbeat.objects.create(pk=1, beat_at=test_now)
    _unsealed_row(test_now - timedelta(seconds=settings.AUDIT_SEAL_STALE_SECONDS - 5))
    assert _healthz(client) == (
        200,
        {"status": "ok", "database": "ok", "broker": "ok", "beat": "ok", "audit": "ok"},
    )


def test_healthz_audit_is_ok_once_the_sealer_has_chained_the_old_row(
    client, db, test_now, settings
):
    from core import audit

    BeatHeartbeat.objects.create(pk=1, beat_at=test_now)
    _unsealed_row(test_now - timedelta(hours=1))
    audit.seal()
    assert _healthz(client)[1]["audit"] == "ok"


# --- Sentry --------------------------------------------------------------------------


def _settings_subprocess(code: str, **env_overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SENTRY_DSN", "LOG_FORMAT")}
    env.update({"DJANGO_SETTINGS_MODULE": "clinic.settings", "DEBUG": "1"}, **env_overrides)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_without_a_dsn_do_not_import_sentry():
    result = _settings_subprocess(
        "import sys, django; django.setup(); print('sentry_sdk' in sys.modules)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_settings_with_a_dsn_start_sentry_without_personal_data():
    # The package is installed with the test extra; init is replaced so nothing is sent.
    code = (
        "import json, sys\n"
        "from unittest import mock\n"
        "import sentry_sdk\n"
        "with mock.patch.object(sentry_sdk, 'init') as init:\n"
        "    import django; django.setup()\n"
        "kw = init.call_args.kwargs\n"
        "print(json.dumps({'calls': init.call_count, 'dsn': kw['dsn'],\n"
        "  'pii': kw['send_default_pii'], 'locals': kw['include_local_variables'],\n"
        "  'body': kw['max_request_body_size'],\n"
        "  'integrations': sorted(type(i).__name__ for i in kw['integrations'])}))\n"
    )
    result = _settings_subprocess(code, SENTRY_DSN="https://key@sentry.example.invalid/1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "calls": 1,
        "dsn": "https://key@sentry.example.invalid/1",
        "pii": False,
        "locals": False,
        "body": "never",
        "integrations": ["CeleryIntegration", "DjangoIntegration"],
    }


def test_sentry_events_lose_query_strings_and_cookies():
    from clinic.sentry import scrub_event

    event = {
        "request": {
            "url": "https://stepwise.example.org/patients/",
            "query_string": "q=Mu%C3%B1oz",
            "cookies": {"sessionid": "x"},
            "data": {"note": "x"},
        }
    }
    request = scrub_event(event, {})["request"]
    assert request == {"url": "https://stepwise.example.org/patients/"}


# --- JSON logs -----------------------------------------------------------------------


def test_log_format_json_switches_the_formatter():
    result = _settings_subprocess(
        "from django.conf import settings as s; import json;"
        "print(json.dumps(s.LOGGING['handlers']['console']['formatter']))",
        LOG_FORMAT="json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == "json"


def test_default_log_format_is_plain():
    assert django_settings.LOGGING["handlers"]["console"]["formatter"] == "plain"


def test_a_bad_log_format_stops_startup_naming_the_variable():
    result = _settings_subprocess("import django; django.setup()", LOG_FORMAT="xml")
    assert result.returncode != 0
    assert result.stderr.strip().startswith("Configuration error: LOG_FORMAT")


def test_json_formatter_writes_one_line_per_record():
    from core.jsonlog import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("stepwise.test.jsonlog")
    logger.addHandler(handler)
    logger.propagate = False
    # Its own level: an in-process Celery worker started earlier in the same process
    # (pytest-xdist mixes the order) sets the root logger to ERROR.
    logger.setLevel(logging.DEBUG)
    try:
        logger.warning("broker %s\nsecond line", "down")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "WARNING" and first["logger"] == "stepwise.test.jsonlog"
    assert first["message"] == "broker down\nsecond line"
    assert first["time"].endswith("Z") or first["time"].endswith("+00:00")
    assert "ValueError: boom" in second["exc_info"]


def test_json_time_is_the_frozen_clock_in_utc(test_now):
    from core.jsonlog import JsonFormatter

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    line = json.loads(JsonFormatter().format(record))
    from datetime import datetime

    assert abs(datetime.fromisoformat(line["time"]) - test_now) < timedelta(seconds=5)


def test_gunicorn_access_log_leaves_out_query_strings_and_referrers():
    # Searches put names in the query string (/patients/?q=...); the access log must not.
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "--access-logformat" in compose and "%(U)s" in compose
    for field in ("%(r)s", "%(q)s", "%(f)s"):  # request line, query string, referrer
        assert field not in compose
