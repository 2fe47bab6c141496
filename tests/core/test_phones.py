"""Phone numbers read in a site's country, stored as E.164, written nationally."""

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template

from core.phones import (
    PhoneFormField,
    phone_can_text,
    phone_display,
    phone_e164_or_none,
    phone_normalize,
)


def test_a_us_number_is_stored_as_e164():
    assert phone_normalize("(518) 555-0142", region="US") == "+15185550142"


def test_a_number_already_in_e164_is_kept():
    assert phone_normalize("+1 518-555-0142", region="US") == "+15185550142"


def test_a_blank_number_stays_blank():
    assert phone_normalize("  ", region="US") == ""


@pytest.mark.parametrize("typed", ["call me maybe", "555-0101", "555-010-2233", "+1 (555)"])
def test_text_that_is_not_a_number_is_refused_with_a_message(typed):
    with pytest.raises(ValidationError) as exc:
        phone_normalize(typed, region="US")
    assert "area code" in exc.value.messages[0]


def test_an_extension_is_refused_rather_than_dropped():
    with pytest.raises(ValidationError, match="extension"):
        phone_normalize("518-555-0142 ext. 3", region="US")


def test_a_national_number_is_read_in_the_sites_country():
    assert phone_normalize("020 7946 0958", region="GB") == "+442079460958"


def test_unreadable_old_data_gives_none_instead_of_raising():
    assert phone_e164_or_none("call me maybe") is None


def test_a_number_is_written_nationally_for_its_own_country():
    assert phone_display("+15185550142", "US") == "(518) 555-0142"


def test_a_foreign_number_is_written_internationally():
    assert phone_display("+442079460958", "US") == "+44 20 7946 0958"


@pytest.mark.parametrize(
    ("number", "textable"),
    [
        ("+15185550142", True),  # North America: mobile or landline cannot be told apart
        ("+442079460958", False),  # a London landline
        ("+18005550199", False),  # toll-free
        ("", False),
        ("call me maybe", False),
    ],
)
def test_only_numbers_a_text_can_reach_count_as_textable(number, textable):
    assert phone_can_text(number) is textable


def test_form_field_cleans_to_e164_and_shows_the_national_form():
    field = PhoneFormField(region="US", required=False)
    assert field.clean("518.555.0142") == "+15185550142"
    assert field.prepare_value("+15185550142") == "(518) 555-0142"
    with pytest.raises(ValidationError):
        field.clean("call me maybe")


def test_phone_filter_writes_a_number_for_the_site():
    out = Template("{% load stepwise_phone %}{{ n|phone:'US' }}").render(
        Context({"n": "+15185550142"})
    )
    assert out == "(518) 555-0142"


@pytest.mark.django_db
def test_any_model_form_of_a_phone_field_cleans_to_e164():
    # The admin builds its forms this way: a staff member's or a site's number typed
    # there is checked and stored like every other.
    from django.forms import modelform_factory

    from core.models import StaffProfile

    form_class = modelform_factory(StaffProfile, fields=["phone"])
    form = form_class(data={"phone": "(518) 555-0142"})
    assert form.is_valid() and form.cleaned_data["phone"] == "+15185550142"
    bad = form_class(data={"phone": "call me maybe"})
    assert not bad.is_valid() and "area code" in str(bad.errors["phone"])
