"""Each instrument's JSON is well formed, and the migrations load every one of them."""

from __future__ import annotations

import pytest

from measures import instrument_data
from measures.models import Instrument

CODES = ["bam", "gad7", "phq9"]


@pytest.mark.parametrize("code", CODES)
def test_every_option_value_is_unique_within_its_item(code):
    for item in instrument_data.read(code)["items"]:
        values = [option["value"] for option in item["options"]]
        assert len(values) == len(set(values)), item["link_id"]
        assert all(isinstance(v, int) for v in values), item["link_id"]


@pytest.mark.parametrize("code", CODES)
def test_every_option_has_a_code_and_both_texts(code):
    for item in instrument_data.read(code)["items"]:
        assert item["en"] and item["es"], item["link_id"]
        for option in item["options"]:
            assert option["code"] and option["en"] and option["es"], (item["link_id"], option)


@pytest.mark.parametrize("code", CODES)
def test_items_have_unique_numbers_and_link_ids(code):
    items = instrument_data.read(code)["items"]
    assert len({i["number"] for i in items}) == len(items)
    assert len({i["link_id"] for i in items}) == len(items)


@pytest.mark.parametrize("code", CODES)
def test_every_scored_item_exists_and_is_required(code):
    data = instrument_data.read(code)
    items = {i["number"]: i for i in data["items"]}
    scoring = data["scoring"]
    scored = set(scoring["total"])
    for sub in scoring.get("subscales", {}).values():
        scored |= set(sub["items"])
    scored |= {int(f["item"]) for f in scoring.get("flags", [])}
    scored |= set(scoring.get("safety_items", []))
    for number in scored:
        assert number in items, number
        # A skipped item would silently score 0.
        assert items[number].get("required", True), number


@pytest.mark.parametrize("code", CODES)
def test_max_total_is_the_sum_of_the_items_highest_options(code):
    data = instrument_data.read(code)
    items = {i["number"]: i for i in data["items"]}
    top = sum(max(o["value"] for o in items[n]["options"]) for n in data["scoring"]["total"])
    assert data["scoring"]["max_total"] == top


@pytest.mark.parametrize("code", CODES)
def test_bands_cover_zero_to_max_total_without_gaps_or_overlaps(code):
    scoring = instrument_data.read(code)["scoring"]
    bands = sorted(scoring["bands"], key=lambda b: b["min"])
    assert bands[0]["min"] == 0
    assert bands[-1]["max"] == scoring["max_total"]
    for before, after in zip(bands, bands[1:], strict=False):
        assert after["min"] == before["max"] + 1


def test_bam_display_order_lists_every_item_once():
    data = instrument_data.read("bam")
    assert sorted(data["scoring"]["display_order"]) == sorted(i["number"] for i in data["items"])


def test_bam_keeps_the_published_item_numbers_and_7a_to_7g_unscored():
    data = instrument_data.read("bam")
    by_link = {i["link_id"]: i for i in data["items"]}
    assert [by_link[str(n)]["number"] for n in range(1, 18) if n != 7] == [
        n for n in range(1, 18) if n != 7
    ]
    assert [by_link[f"7{c}"]["number"] for c in "abcdefg"] == list(range(71, 78))
    assert not any(by_link[f"7{c}"]["required"] for c in "abcdefg")


def test_bam_day_count_items_use_the_va_day_ranges():
    data = instrument_data.read("bam")
    by_link = {i["link_id"]: i for i in data["items"]}
    day_items = ["2", "3", "4", "5", "6", "10", "11", "13", "16"] + [f"7{c}" for c in "abcdefg"]
    for link in day_items:
        labels = [(o["value"], o["en"]) for o in by_link[link]["options"]]
        assert labels == [
            (0, "0 days"),
            (1, "1-3 days"),
            (2, "4-8 days"),
            (3, "9-15 days"),
            (4, "16-30 days"),
        ], link


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "items"), [("bam", 23), ("gad7", 7), ("phq9", 10)])
def test_migrations_load_each_instrument_with_its_items(code, items):
    instrument = Instrument.objects.get(code=code, version="1")
    assert instrument.items.count() == items
    assert instrument.scoring == instrument_data.read(code)["scoring"]
