"""AUDIT_KEYS in production: required, each key long enough, well formed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = "k1:" + "a" * 40


def _start_with(audit_keys: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "AUDIT_KEYS")}
    env.update(DJANGO_SETTINGS_MODULE="clinic.settings", DEBUG="0", SECRET_KEY="s" * 60)
    if audit_keys is not None:
        env["AUDIT_KEYS"] = audit_keys
    code = "from django.conf import settings; print(sorted(settings.AUDIT_KEYS))"
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("audit_keys", "problem"),
    [
        (None, "is required when DEBUG is off"),
        ("k2:" + "b" * 31 + "," + GOOD, "key 'k2' must be at least 32 characters"),
        ("k1" + "a" * 40, "must be id:secret pairs"),
        (GOOD + "," + GOOD, "names the key id 'k1' twice"),
    ],
)
def test_production_refuses_a_missing_or_weak_keyring_in_one_line(audit_keys, problem):
    result = _start_with(audit_keys)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Configuration error: AUDIT_KEYS {problem}")
    assert "Traceback" not in result.stderr


def test_production_keyring_keeps_the_legacy_key_beside_the_given_ones():
    result = _start_with("k2:" + "b" * 40 + "," + GOOD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['k1', 'k2', 'legacy']"
