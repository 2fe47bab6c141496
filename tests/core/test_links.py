"""core.links.url_maker: one reversal per route, the same links as reverse()."""

import pytest
from django.urls import NoReverseMatch, reverse

from core.links import url_maker


def test_url_maker_gives_what_reverse_gives_for_each_pk():
    make = url_maker("drugtests:collect")
    assert [make(pk) for pk in (1, 42, 987654320)] == [
        reverse("drugtests:collect", args=[pk]) for pk in (1, 42, 987654320)
    ]


def test_url_maker_keeps_the_fixed_arguments_before_the_pk():
    make = url_maker("scheduling:attendance_mark", 7)
    assert make(12) == reverse("scheduling:attendance_mark", args=[7, 12])


def test_url_maker_of_a_missing_route_gives_blank_links_when_allowed():
    assert url_maker("records:no_such_page", missing_ok=True)(5) == ""


def test_url_maker_of_a_missing_route_raises_otherwise():
    with pytest.raises(NoReverseMatch):
        url_maker("records:no_such_page")
