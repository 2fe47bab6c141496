"""The Spanish catalogue compiled before these tests (``make test`` compiles it too; a
bare ``pytest tests/i18n`` must not read a stale or missing .mo)."""

from __future__ import annotations

from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "es" / "LC_MESSAGES"


def ensure_compiled() -> None:
    po, mo = LOCALE / "django.po", LOCALE / "django.mo"
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        from django.core.management import call_command

        call_command("compilemessages", locale=["es"], ignore_patterns=[".venv"], verbosity=0)
        from django.utils.translation import trans_real

        # Catalogues read before the .mo existed are cached per process.
        trans_real._translations = {}
        trans_real._active = trans_real.Local()


@pytest.fixture(scope="session", autouse=True)
def _spanish_catalogue():
    ensure_compiled()
