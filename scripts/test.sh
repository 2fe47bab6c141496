#!/usr/bin/env bash
# make test: install what the tests need, lint, check, and run every test.
# Uses PostgreSQL and Redis when they answer (required when CI=true), otherwise
# SQLite and the filesystem broker, and says which in its first line.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/stepwise}"
# The tests' own Redis db (the dev worker uses db 0 and would steal their tasks).
export CELERY_BROKER_URL="${TEST_CELERY_BROKER_URL:-redis://127.0.0.1:6379/9}"
unset DEBUG SECRET_KEY
# Tests run on a frozen clock (STEPWISE_TEST_NOW, ISO 8601 with an offset; default in
# tests/conftest.py), and tests marked date_sensitive run again at each instant of the
# date sweep (DST changes, Thanksgiving, year and week ends, in both demo zones).
export STEPWISE_DATE_SWEEP="${STEPWISE_DATE_SWEEP:-1}"
bash scripts/venv.sh test >&2
PY=.venv/bin/python

pg=$($PY - <<'PYEOF'
import os, psycopg
url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
base = url.rsplit("/", 1)[0] + "/postgres"
try:
    psycopg.connect(base, connect_timeout=3).close(); print("yes")
except Exception:
    print("no")
PYEOF
)
rd=$($PY - <<'PYEOF'
import os, redis
try:
    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"], socket_timeout=2).ping(); print("yes")
except Exception:
    print("no")
PYEOF
)
if ! command -v "${CHROMIUM_PATH:-/usr/bin/chromium}" >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..." >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2 || true
fi
if ! command -v msgfmt >/dev/null 2>&1; then
  echo "Installing Debian's gettext for the Spanish catalogue..." >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext) >&2 || true
fi
chrome=no; command -v "${CHROMIUM_PATH:-/usr/bin/chromium}" >/dev/null 2>&1 && chrome=yes

db_label="PostgreSQL ($DATABASE_URL)"; broker_label="Redis ($CELERY_BROKER_URL)"
if [ "$pg" != yes ]; then
  [ "${CI:-}" = true ] && { echo "CI: PostgreSQL does not answer at $DATABASE_URL" >&2; exit 1; }
  export DATABASE_URL="sqlite:///$(pwd)/var/test.sqlite3"; db_label="SQLite (PostgreSQL did not answer)"
fi
if [ "$rd" != yes ]; then
  [ "${CI:-}" = true ] && { echo "CI: Redis does not answer at $CELERY_BROKER_URL" >&2; exit 1; }
  export CELERY_BROKER_URL="filesystem://"; broker_label="filesystem broker (Redis did not answer)"
fi
if [ "$chrome" != yes ] && [ "${CI:-}" = true ]; then
  echo "CI: chromium is missing and could not be installed" >&2; exit 1
fi
echo "make test: database $db_label; broker $broker_label; browser $([ $chrome = yes ] && echo chromium || echo 'none: browser tests skipped'); frozen now ${STEPWISE_TEST_NOW:-default}; date sweep $([ "$STEPWISE_DATE_SWEEP" = 1 ] && echo on || echo off)"

echo "--- translations"
# The Spanish catalogue is compiled here (.mo files are not committed); tests/i18n then
# checks it is complete.
DEBUG=1 $PY manage.py compilemessages --ignore=.venv -v0
echo "--- ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "--- mypy"
# The django-stubs plugin imports the settings, which need DEBUG=1 (or a SECRET_KEY) to
# load; no database or broker is opened. Cache in var/mypy_cache (pyproject.toml).
DEBUG=1 .venv/bin/mypy
echo "--- import contracts"
# The apps' layers and independence (pyproject.toml, [tool.importlinter]), then no
# import cycle between the modules of one app.
.venv/bin/lint-imports
$PY scripts/check_cycles.py
echo "--- migrations"
DEBUG=1 DATABASE_URL="sqlite://:memory:" $PY manage.py makemigrations --check --dry-run
echo "--- check --deploy (production settings)"
DEBUG=0 SECRET_KEY="check-deploy-$(head -c 48 /dev/urandom | base64 | tr -d '/+=')" \
  AUDIT_KEYS="deploy:$(head -c 48 /dev/urandom | base64 | tr -d '/+=')" \
  ALLOWED_HOSTS=stepwise.example.org $PY manage.py check --deploy --fail-level WARNING
echo "--- docker-compose.yml against the compose spec"
.venv/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
echo "--- pytest"
# The slowest tests are listed at the end, so the time budget (15 min) can be watched.
args=(--durations=25)
[ "$chrome" = yes ] || args+=(-m "not browser")
# The tests run in STEPWISE_TEST_WORKERS processes (pytest-xdist; 2 by default, for the
# two cores CI has; 0 runs them in this process). Each has its own test database, made
# from one migrated template, and its own Redis db (tests/settings.py): the tests' Redis
# db and the ones after it, one per worker.
workers="${STEPWISE_TEST_WORKERS:-2}"
[ "$workers" = 0 ] || args+=(-n "$workers" --dist loadgroup)
set +e
$PY -m pytest "${args[@]}" "$@"
rc=$?
set -e
exit $rc
