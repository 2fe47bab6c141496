#!/usr/bin/env bash
# Create .venv with the machine's Python 3.11 and install Stepwise (and, with the
# argument "test", what the tests need). Re-installs only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=".venv/.installed${extra:+-$extra}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  install() {
    if ! "$@" > .venv/pip.log 2>&1; then
      grep -v "^WARNING: Location" .venv/pip.log >&2
      echo "install failed: $*" >&2
      exit 1
    fi
  }
  # uv installs the same requirements in seconds where pip takes about a minute of a
  # clean checkout's `make test` (CI starts clean, and the suite's budget is 15 minutes).
  # Its own range is in pyproject.toml ([tool.stepwise] installer); pip stays the
  # fallback when uv cannot be had.
  installer=$(.venv/bin/python -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["tool"]["stepwise"]["installer"])')
  if .venv/bin/python -m pip install -q --disable-pip-version-check "$installer" > .venv/pip.log 2>&1; then
    pip_install() { install .venv/bin/uv pip install -q --python .venv/bin/python "$@"; }
  else
    pip_install() { install .venv/bin/python -m pip install -q --disable-pip-version-check "$@"; }
    pip_install --upgrade pip
  fi
  # Dependencies only, read from pyproject.toml (the one place ranges are pinned); the
  # project itself runs from the checkout, so a second checkout never imports this one.
  .venv/bin/python - "$extra" > .venv/requirements.txt <<'PYEOF'
import sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
deps = list(project["dependencies"])
if sys.argv[1]:
    deps += project["optional-dependencies"][sys.argv[1]]
print("\n".join(deps))
PYEOF
  pip_install -r .venv/requirements.txt
  .venv/bin/python -c "import django, celery, crispy_forms" # fail here if the install did not
  touch "$stamp"
fi
