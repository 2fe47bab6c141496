"""The suite's settings: production's (``clinic.settings``), with each difference stated
and why. pytest selects this module (pyproject.toml, [tool.pytest.ini_options]); anything
not named here is what a deployment with the same environment runs."""

import os
from pathlib import Path

# Production refuses to start without a signing key (one line naming SECRET_KEY). The suite
# brings its own unless the environment already has one; it reaches settings the way a
# deployment's key does, through the environment.
os.environ.setdefault("SECRET_KEY", "tests-only-signing-key-never-used-outside-the-suite-0123")
# The audit keyring likewise (AUDIT_KEYS, required in production); tests that rotate keys
# override settings.AUDIT_KEYS themselves.
os.environ.setdefault("AUDIT_KEYS", "test:tests-only-audit-key-never-used-outside-the-suite")

# With pytest-xdist each worker process has its own test database (pytest-django adds
# the worker's suffix) and must have its own broker too: a Celery worker started by one
# process would otherwise take the tasks another process queued, and run them against the
# wrong database. Worker gwN uses the Redis db after the suite's by N.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist_worker.startswith("gw") and _xdist_worker[2:].isdigit():
    _n = int(_xdist_worker[2:])
    _broker = os.environ.get("CELERY_BROKER_URL", "")
    _head, _sep, _db = _broker.rpartition("/")
    if _n and _broker.startswith(("redis://", "rediss://")) and _db.isdigit():
        os.environ["CELERY_BROKER_URL"] = f"{_head}/{int(_db) + _n}"

from clinic.settings import *  # noqa: E402, F403
from clinic.settings import STORAGES  # noqa: E402

# Hashing is not what the tests test; the real hasher makes each login about 0.2 s.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Staff log in without a TOTP device in most tests; the tests about MFA turn the
# requirement on themselves (tests/privacy/test_auth.py, ``mfa_on``).
STEPWISE_REQUIRE_MFA = False

# The test client and the live server speak plain HTTP: a redirect to HTTPS would answer
# every request with a 301. HSTS, secure cookies and the proxy header stay as in production.
SECURE_SSL_REDIRECT = False

# Nothing is collected in a test run: templates name static files as they are in the
# apps (no manifest of hashed names), the live server serves them from there, and WhiteNoise
# has no collected folder to index.
STATIC_ROOT = None
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

if _xdist_worker and CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    # The filesystem broker's folders, one set per worker for the same reason.
    CELERY_BROKER_TRANSPORT_OPTIONS = {  # noqa: F405
        **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
        **{
            key: str(CELERY_DIR / _xdist_worker / Path(folder).name)  # noqa: F405
            for key, folder in CELERY_BROKER_TRANSPORT_OPTIONS.items()  # noqa: F405
            if key.endswith("_folder") or key.startswith("data_folder")
        },
    }
