"""Stepwise settings: one module, configured entirely from the environment.

Defaults are the embedded ones (SQLite and Celery's filesystem transport under
``var/``) so that ``make run`` needs no server. Production sets ``DEBUG=0``,
``SECRET_KEY``, ``AUDIT_KEYS``, ``DATABASE_URL`` and ``CELERY_BROKER_URL``.

A bad value stops start-up with one line naming the variable, never a traceback.
"""

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")


def _config_error(variable: str, problem: str) -> NoReturn:
    sys.exit(f"Configuration error: {variable} {problem}")


def _get(variable: str, cast: Any, default: Any) -> Any:
    try:
        return env(variable, cast=cast, default=default)
    except (ValueError, TypeError, environ.ImproperlyConfigured) as exc:
        _config_error(variable, f"has an invalid value ({exc})")


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


def _flag(variable: str, default: bool) -> bool:
    raw = env.str(variable, default=None)
    if raw is None:
        return default
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    _config_error(variable, f"must be 1/0, true/false, yes/no or on/off, not {raw!r}")


DEBUG = _flag("DEBUG", False)
# A process that serves no request and signs nothing (collectstatic in the image build,
# `makemigrations --check`; manage.py sets it for such commands) runs without secrets.
_offline = _flag("STEPWISE_OFFLINE", False)

SECRET_KEY = _get("SECRET_KEY", str, "")
if not SECRET_KEY:
    if DEBUG or _offline:
        SECRET_KEY = "insecure-development-key-never-use-in-production-0123456789abcdef"
    else:
        _config_error("SECRET_KEY", "is required when DEBUG is off")
elif len(SECRET_KEY) < 50 and not DEBUG:
    _config_error("SECRET_KEY", "must be at least 50 characters in production")

# The audit trail's keyring: AUDIT_KEYS="k2:secret,k1:secret", the first the current key
# (new rows are written under it), the others retired but kept so that the rows written
# under them still verify. Each row names its key id, so rotating means prepending a key.
# "legacy" is the single key of the trail before the keyring (AUDIT_HMAC_KEY, else
# SECRET_KEY): rows written then carry that id.
AUDIT_KEY_MIN_LENGTH = 32
_audit_keys_raw = _get("AUDIT_KEYS", str, "").strip()
if not _audit_keys_raw:
    if DEBUG or _offline:
        _audit_keys_raw = "dev:insecure-development-audit-key-never-use-in-production"
    else:
        _config_error("AUDIT_KEYS", "is required when DEBUG is off (id:secret,... current first)")
AUDIT_KEYS: dict[str, str] = {}
for _entry in _audit_keys_raw.split(","):
    _key_id, _sep, _secret = _entry.strip().partition(":")
    if not _sep or not _key_id.isidentifier() or len(_key_id) > 32:
        _config_error("AUDIT_KEYS", "must be id:secret pairs separated by commas (id: a-z, 0-9, _)")
    if _key_id in AUDIT_KEYS:
        _config_error("AUDIT_KEYS", f"names the key id {_key_id!r} twice")
    if len(_secret) < AUDIT_KEY_MIN_LENGTH and not DEBUG:
        _config_error("AUDIT_KEYS", f"key {_key_id!r} must be at least 32 characters in production")
    AUDIT_KEYS[_key_id] = _secret
AUDIT_CURRENT_KEY_ID = next(iter(AUDIT_KEYS))
AUDIT_HMAC_KEY = _get("AUDIT_HMAC_KEY", str, "") or SECRET_KEY
AUDIT_KEYS.setdefault("legacy", AUDIT_HMAC_KEY)

ALLOWED_HOSTS = _get("ALLOWED_HOSTS", list, ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = _get("CSRF_TRUSTED_ORIGINS", list, [])

INSTALLED_APPS = [
    "core.apps.StepwiseAdminConfig",  # django.contrib.admin, superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "core",
    "patients",
    "scheduling",
    "drugtests",
    "recovery",
    "records",
    "measures",
    "contingency",
    "labs",
    "notifications",
    "alerts",
    "privacy",
    "reports",
    "dashboard",
    "letters",
    "exchange",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Backup codes; privacy stores only keyed hashes of them in its tokens (privacy.mfa).
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Signed-out pages follow the browser's language; UserLanguageMiddleware below then
    # picks the patient's own (staff screens stay in English).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.UserLanguageMiddleware",
    # Outside every middleware that sends a request to the login page, so an htmx request
    # of an ended session gets HX-Redirect (a whole-page visit) instead of the login page
    # swapped into the fragment it targets.
    "core.middleware.HtmxLoginRedirectMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "privacy.middleware.SessionLifetimeMiddleware",
    "core.middleware.SiteTimezoneMiddleware",
    "privacy.middleware.MFARequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"
AUTH_USER_MODEL = "core.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
                "privacy.context_processors.session_timer",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# Files under var/ (the demo's database, collected static files, the filesystem broker's
# folders) are created where they are written: scripts/run.sh, the Dockerfile, Celery's
# configuration (clinic/celery.py), the SMS file backend. Importing settings writes nothing.
try:
    DATABASES = {
        "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'stepwise.sqlite3'}")
    }
except (ValueError, environ.ImproperlyConfigured) as exc:
    _config_error("DATABASE_URL", f"is not a valid database URL ({exc})")
if DATABASES["default"]["ENGINE"] not in (
    "django.db.backends.postgresql",
    "django.db.backends.sqlite3",
):
    _config_error("DATABASE_URL", "must be a postgres:// or sqlite:// URL")
# Persistent connections: without them a PostgreSQL page is about 12x slower here.
DATABASES["default"]["CONN_MAX_AGE"] = _get("CONN_MAX_AGE", int, 0 if DEBUG else 600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Every model drop-down iterates its queryset with .iterator(), which on PostgreSQL is a
# server-side cursor (DECLARE, FETCH, CLOSE, and a WITH HOLD copy at commit): about a
# millisecond a drop-down. Nothing here streams a large result through a cursor (the
# audit verifier reads keyset pages), so results are read in one round trip.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file in the demo: wait for the lock instead
    # of failing, and let writers queue up in order.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout after repeated failures, counted from the audit trail's failed-login rows
# (core/lockout.py) within the last LOGIN_LOCKOUT_MINUTES: per username from one address,
# and per username from every address (guessing spread over many machines). Never per
# address alone at a low limit: a clinic's patients and staff share one network address,
# and twenty mistypes among them locked everyone out.
LOGIN_LOCKOUT_ATTEMPTS = _get("LOGIN_LOCKOUT_ATTEMPTS", int, 5)
LOGIN_LOCKOUT_USER_ATTEMPTS = _get("LOGIN_LOCKOUT_USER_ATTEMPTS", int, 10)
# One address trying many usernames (credential stuffing: one guess each, which no
# per-username limit sees) is stopped only at a limit far above what a shared clinic
# network mistypes in the window; a user the director unlocks is let through it again.
LOGIN_LOCKOUT_IP_ATTEMPTS = _get("LOGIN_LOCKOUT_IP_ATTEMPTS", int, 100)
LOGIN_LOCKOUT_MINUTES = _get("LOGIN_LOCKOUT_MINUTES", int, 15)
# The client's address: REMOTE_ADDR, unless a reverse proxy we run sets a header with it
# (e.g. X-Forwarded-For). Set only when such a proxy is in front: otherwise any client
# could write the header and pick the address its failures are counted against.
# NUM_PROXIES is how many proxies append to it; the client is that many entries from
# the right (core.audit.client_ip).
TRUSTED_PROXY_HEADER = _get("TRUSTED_PROXY_HEADER", str, "")
NUM_PROXIES = _get("NUM_PROXIES", int, 1)
if NUM_PROXIES < 1:
    _config_error("NUM_PROXIES", "must be 1 or more")
# A password reset link works once, for an hour.
PASSWORD_RESET_TIMEOUT = _get("PASSWORD_RESET_TIMEOUT", int, 3600)
# One reset email per account in this many minutes, however often it is asked for: the
# form is open to anyone, and must not become a way to flood a person's inbox.
PASSWORD_RESET_QUIET_MINUTES = _get("PASSWORD_RESET_QUIET_MINUTES", int, 10)
# TOTP two-factor for staff: on by default in production, off in the demo.
STEPWISE_REQUIRE_MFA = _flag("STEPWISE_REQUIRE_MFA", not DEBUG)
OTP_TOTP_ISSUER = "Stepwise"
# A signed-in session ends after 12 hours whatever the activity.
SESSION_ABSOLUTE_SECONDS = _get("SESSION_ABSOLUTE_SECONDS", int, 12 * 3600)
# Break-glass access to a chart outside one's care team lasts this long.
BREAK_GLASS_HOURS = _get("BREAK_GLASS_HOURS", int, 4)

# Automatic log-off (HIPAA 164.312(a)(2)(iii)): idle sessions end after 15 minutes.
# The session is renewed at most once a minute (privacy.middleware), not on every request:
# the limit is kept to the minute without a database write per page.
SESSION_COOKIE_AGE = _get("SESSION_IDLE_SECONDS", int, 15 * 60)
SESSION_RENEW_SECONDS = 60
# Pages warn this long before the idle log-off and offer to stay signed in.
SESSION_WARNING_SECONDS = 120
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- i18n / time ----------------------------------------------------------
LANGUAGE_CODE = "en"
# Patient-facing text (portal, reminders, check-ins) in English and Spanish; staff
# screens in English. The catalogue is locale/es/LC_MESSAGES/django.po; its .mo is built
# by `make run`, `make test` and the image (compilemessages), never committed.
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates, times and numbers per language (core/locale_formats/<lang>/formats.py).
FORMAT_MODULE_PATH = ["core.locale_formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_SITE_TIME_ZONE = "America/New_York"
try:
    ZoneInfo(DEFAULT_SITE_TIME_ZONE)
except Exception:  # pragma: no cover - tzdata missing is a broken install
    _config_error("DEFAULT_SITE_TIME_ZONE", "is not a known time zone")

# --- Static and media -------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Uploads (meeting sheets, homework) hold patient data: they live outside any
# public path and are served only through views that check access.
PRIVATE_MEDIA_ROOT = Path(_get("PRIVATE_MEDIA_ROOT", str, str(VAR_DIR / "private")))
MAX_UPLOAD_BYTES = _get("MAX_UPLOAD_BYTES", int, 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email ----------------------------------------------------------------
EMAIL_BACKEND = _get(
    "EMAIL_BACKEND",
    str,
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    # Django's SMTP backend, writing plain-text reminders directly (core/mail.py).
    else "core.mail.SMTPEmailBackend",
)
EMAIL_HOST = _get("EMAIL_HOST", str, "localhost")
EMAIL_PORT = _get("EMAIL_PORT", int, 25)
EMAIL_HOST_USER = _get("EMAIL_HOST_USER", str, "")
EMAIL_HOST_PASSWORD = _get("EMAIL_HOST_PASSWORD", str, "")
EMAIL_USE_TLS = _flag("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = _get("DEFAULT_FROM_EMAIL", str, "Stepwise <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- SMS (notifications.channels) ------------------------------------------
STEPWISE_SMS_BACKEND = _get("STEPWISE_SMS_BACKEND", str, "file")
STEPWISE_SMS_FILE = _get("STEPWISE_SMS_FILE", str, str(VAR_DIR / "sms" / "outbox.jsonl"))
SMS_HTTP_URL = _get("SMS_HTTP_URL", str, "")
SMS_HTTP_USER = _get("SMS_HTTP_USER", str, "")
SMS_HTTP_TOKEN = _get("SMS_HTTP_TOKEN", str, "")
SMS_FROM = _get("SMS_FROM", str, "")
# The inbound SMS (STOP) webhook checks the provider's signature on every post; the key
# is SMS_WEBHOOK_SECRET (Twilio: the account's auth token). Empty: the webhook is off.
SMS_WEBHOOK_SECRET = _get("SMS_WEBHOOK_SECRET", str, "")
# "twilio": X-Twilio-Signature (HMAC-SHA1 over the URL and the sorted form fields);
# "hmac": X-Stepwise-Signature, hex HMAC-SHA256 over "<X-Stepwise-Timestamp>.<body>",
# for another provider or a relay in front of one.
SMS_WEBHOOK_SIGNATURE = _get("SMS_WEBHOOK_SIGNATURE", str, "twilio")
if SMS_WEBHOOK_SIGNATURE not in ("twilio", "hmac"):
    _config_error("SMS_WEBHOOK_SIGNATURE", f"must be twilio or hmac, not {SMS_WEBHOOK_SIGNATURE!r}")
# The webhook's address exactly as configured at the provider (Twilio signs that URL).
# Empty: the address the request arrived at, its scheme from the proxy's
# X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER) and its host checked against ALLOWED_HOSTS.
SMS_WEBHOOK_URL = _get("SMS_WEBHOOK_URL", str, "")
# Links in messages point here; messages carry no details, only the link.
STEPWISE_BASE_URL = _get("STEPWISE_BASE_URL", str, "http://127.0.0.1:8000")
if STEPWISE_SMS_BACKEND == "http" and not SMS_HTTP_URL:
    _config_error("SMS_HTTP_URL", "is required when STEPWISE_SMS_BACKEND=http")

# --- Celery -----------------------------------------------------------------
CELERY_DIR = VAR_DIR / "celery"
CELERY_BROKER_URL = _get("CELERY_BROKER_URL", str, "filesystem://")
if not CELERY_BROKER_URL.startswith(("redis://", "rediss://", "filesystem://", "memory://")):
    _config_error("CELERY_BROKER_URL", "must be a redis:// or filesystem:// URL")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Every folder is named: the control folder otherwise lands in ./control. They are
    # created when Celery is configured (clinic/celery.py), not here.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DIR / "queue"),
        "data_folder_out": str(CELERY_DIR / "queue"),
        "processed_folder": str(CELERY_DIR / "processed"),
        "control_folder": str(CELERY_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = False  # opted into per task, only where the task is idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"
# How old the beat's last heartbeat may be before /healthz reports "beat: stale" (three
# missed beats: one late run is not an outage).
BEAT_STALE_SECONDS = _get("BEAT_STALE_SECONDS", int, 3 * 60)
# The beat schedule lives in code. Ticks are frequent and cheap; each job looks at
# every site in its own time zone, so one UTC crontab serves sites in any zone.
BEAT_HEARTBEAT_SECONDS = 60
AUDIT_SEAL_SECONDS = 5
# How old the oldest unsealed audit row may be before /healthz reports "audit: behind": the
# sealer runs every few seconds, so minutes of backlog mean it has stopped or cannot keep
# up, and rows meanwhile carry only their own MAC (a deletion before sealing would not
# show in verify_audit).
AUDIT_SEAL_STALE_SECONDS = _get("AUDIT_SEAL_STALE_SECONDS", int, 5 * 60)
CELERY_BEAT_SCHEDULE = {
    # /healthz answers 503 "beat: stale" when this has not run for BEAT_STALE_SECONDS.
    # Chains the rows appended since the last run (core.audit.seal); a run that waited
    # longer than the interval is dropped, the next one seals what it would have.
    "seal-audit": {
        "task": "core.tasks.seal_audit",
        "schedule": timedelta(seconds=AUDIT_SEAL_SECONDS),
        "options": {"expires": AUDIT_SEAL_SECONDS - 1},
    },
    "beat-heartbeat": {
        "task": "core.tasks.beat_heartbeat",
        "schedule": timedelta(seconds=BEAT_HEARTBEAT_SECONDS),
        "options": {"expires": BEAT_HEARTBEAT_SECONDS - 5},
    },
    "materialize-sessions": {
        "task": "scheduling.tasks.materialize_all_sites",
        "schedule": crontab(minute=15, hour="*"),
        "options": {"expires": 50 * 60},
    },
    "holidays-top-up": {
        "task": "scheduling.tasks.top_up_holidays",
        "schedule": crontab(minute=40, hour=7),
        "options": {"expires": 6 * 60 * 60},
    },
    "daily-drug-test-draws": {
        "task": "drugtests.tasks.run_due_draws",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},
    },
    "notifications-dispatch": {
        "task": "notifications.tasks.dispatch_due",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
    "notifications-reconcile": {
        "task": "notifications.tasks.reconcile",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},
    },
    "notifications-replan-hourly": {
        "task": "notifications.tasks.replan_all",
        "schedule": crontab(minute=30, hour="*"),
        "options": {"expires": 50 * 60},
    },
    "drug-test-deadlines": {
        "task": "drugtests.tasks.mark_missed_after_deadline",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},
    },
    # Counts CM tests and sessions whose on-commit queueing was lost (idempotent).
    "contingency-catch-up": {
        "task": "contingency.tasks.cm_catch_up",
        "schedule": crontab(minute=50, hour="*"),
        "options": {"expires": 50 * 60},
    },
    # Hourly so each site, in its own zone, gets its check-ins soon after its local
    # SWEEP_LOCAL_HOUR (measures.services.schedules); the sweep is idempotent.
    "measures-make-due": {
        "task": "measures.tasks.make_due",
        "schedule": crontab(minute=20, hour="*"),
        "options": {"expires": 50 * 60},
    },
    # The alert queue's time-based rules (no contact for a week, attendance not taken,
    # a week's hours) and any event whose queueing was lost; idempotent, in batches.
    "alerts-sweep": {
        "task": "alerts.tasks.alerts_sweep",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 14 * 60},
    },
    "patients-apply-scheduled-changes": {
        "task": "patients.tasks.apply_due_changes",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},
    },
}

# --- Security ---------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = _flag("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = _get("SECURE_HSTS_SECONDS", int, 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # /healthz is probed over plain HTTP by the orchestrator.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]


DEMO_PASSWORD_DEFAULT = "stepwise-demo-2026"

# --- Logging ----------------------------------------------------------------
# "plain" for people, "json" (one object a line: time, level, logger, message) for a log
# collector.
LOG_FORMAT = _get("LOG_FORMAT", str, "plain")
if LOG_FORMAT not in ("plain", "json"):
    _config_error("LOG_FORMAT", f"must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "core.jsonlog.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": _get("LOG_LEVEL", str, "INFO")},
    "loggers": {"django.request": {"level": "ERROR", "propagate": True}},
}

# --- Error reporting (optional) -----------------------------------------------
# Sentry only when a DSN is given; the package is then needed (pip install
# ".[sentry]"), and nothing personal is sent (clinic/sentry.py).
SENTRY_DSN = _get("SENTRY_DSN", str, "")
if SENTRY_DSN:
    try:
        from clinic.sentry import init_sentry

        init_sentry(
            SENTRY_DSN,
            environment=_get("SENTRY_ENVIRONMENT", str, "development" if DEBUG else "production"),
        )
    except ImportError:
        _config_error("SENTRY_DSN", "is set but sentry-sdk is not installed (the sentry extra)")
