#!/usr/bin/env bash
# make run: the whole system on embedded defaults (SQLite, Celery's filesystem
# transport), with the demo clinic, on http://127.0.0.1:8000. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh
export DEBUG="${DEBUG:-1}"
export PYTHONUNBUFFERED=1
PORT="${PORT:-8000}"
# The embedded defaults keep their files here (SQLite database, beat schedule); settings
# create nothing, and the broker's folders are made by Celery's configuration.
mkdir -p var
# The Spanish catalogue (.mo files are built here, never committed).
.venv/bin/python manage.py compilemessages --ignore=.venv -v0
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py seed_demo
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo "Stopping web, worker and beat..."
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT
.venv/bin/celery -A clinic worker --loglevel=INFO --concurrency=2 -n "stepwise@%h" &
pids+=($!)
# Exactly one beat: it is the only scheduler, and a second would enqueue twice.
.venv/bin/celery -A clinic beat --loglevel=INFO &
pids+=($!)
.venv/bin/python manage.py runserver "127.0.0.1:$PORT" --noreload &
pids+=($!)
echo "Stepwise is starting on http://127.0.0.1:$PORT (Ctrl-C stops web, worker and beat)"
wait -n "${pids[@]}"
