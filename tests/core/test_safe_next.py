"""Every ``next`` goes through ``core.formviews.safe_next_url``: whatever is posted, the
answer is a redirect to this site, never a 500 (issue #16: values such as ``-1`` or an
emoji passed the host check and then made ``redirect()`` look them up as URL names)."""

import pytest
from django.shortcuts import redirect
from django.test import RequestFactory

from core.formviews import safe_next_url

DEFAULT = "/home/"

HOSTILE = [
    "-1",
    "999999",
    "2026-02-30",
    "\U0001f600",
    "patients:chart",
    "javascript:alert(1)",
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\x00",
    "",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_next_falls_back_to_the_default(value):
    request = RequestFactory().post("/x/", {"next": value})
    assert safe_next_url(request, DEFAULT) == DEFAULT


@pytest.mark.parametrize("value", HOSTILE)
def test_redirecting_to_a_hostile_next_never_raises(value):
    request = RequestFactory().post("/x/", {"next": value})
    assert redirect(safe_next_url(request, DEFAULT))["Location"] == DEFAULT


@pytest.mark.parametrize("value", ["/patients/12/", "/recovery/queue/?page=2"])
def test_a_path_on_this_site_is_kept(value):
    request = RequestFactory().post("/x/", {"next": value})
    assert safe_next_url(request, DEFAULT) == value


def test_next_in_the_query_string_counts_too():
    request = RequestFactory().get("/x/", {"next": "/patients/12/"})
    assert safe_next_url(request, DEFAULT) == "/patients/12/"
