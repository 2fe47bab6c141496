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
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
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
  .venv/bin/python -m pip install -q --disable-pip-version-check -r .venv/requirements.txt 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import django, celery, crispy_forms" # fail here if the install did not
  touch "$stamp"
fi
