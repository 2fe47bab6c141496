"""The published instruments, kept as JSON beside the code (``measures/instruments``)
and loaded into ``Instrument`` rows by migrations: a new instrument or version is a new
JSON file and a migration that loads it, no view changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "instruments"


def read(code: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA_DIR / f"{code}.json").read_text(encoding="utf-8"))
    return data


def load(instrument_model: Any, item_model: Any, code: str) -> bool:
    """Create the instrument version in the JSON file if it is missing; True if created.

    Takes the model classes so a migration can pass its historical models."""
    data = read(code)
    if instrument_model.objects.filter(code=data["code"], version=data["version"]).exists():
        return False
    instrument = instrument_model.objects.create(
        code=data["code"],
        version=data["version"],
        name=data["name"],
        short_name=data["short_name"],
        intro_en=data["intro_en"],
        intro_es=data["intro_es"],
        loinc_panel=data.get("loinc_panel", ""),
        loinc_total=data.get("loinc_total", ""),
        scoring=data["scoring"],
        copyright=data.get("copyright", ""),
    )
    item_model.objects.bulk_create(
        [
            item_model(
                instrument=instrument,
                number=item["number"],
                link_id=item["link_id"],
                text_en=item["en"],
                text_es=item["es"],
                loinc=item.get("loinc", ""),
                options=item["options"],
                required=item.get("required", True),
            )
            for item in data["items"]
        ]
    )
    return True


def load_all_missing(**kwargs: Any) -> None:
    """A ``post_migrate`` receiver: every instrument file's version that has no row yet.

    The migrations load them once; a test framework's flush (TransactionTestCase) empties
    every table and then sends ``post_migrate`` as ``migrate`` does, so this puts them back
    (as Django's contenttypes and permissions are recreated). Idempotent."""
    from .models import Instrument, InstrumentItem

    for path in sorted(DATA_DIR.glob("*.json")):
        load(Instrument, InstrumentItem, path.stem)
