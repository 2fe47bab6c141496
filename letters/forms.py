"""The letter, batch and letterhead forms. The letter form offers only the sections the
consent covers; the service refuses any other section again."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.db.models import QuerySet

from core import limits
from core.forms import BoundedDateField, InputGuard, text_field
from core.models import Site, User
from core.phones import PhoneFormField
from patients.models import Consent, ConsentSection, sections_in_order

from .services import MAX_PERIOD_DAYS

DEFAULT_PERIOD_DAYS = 28


def _helper(submit: str) -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("submit", submit))
    return helper


class _PeriodForm(InputGuard, forms.Form):
    period_start = BoundedDateField(label="From")
    period_end = BoundedDateField(label="To (inclusive)")
    today: date

    def _period_initial(self, today: date) -> None:
        self.today = today
        self.fields["period_start"].initial = today - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
        self.fields["period_end"].initial = today
        self.fields["period_end"].widget.attrs["max"] = today.isoformat()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start and end:
            if end < start:
                self.add_error("period_end", "The period cannot end before it starts.")
            elif end > self.today:
                self.add_error("period_end", "End the period today or earlier.")
            elif (end - start).days + 1 > MAX_PERIOD_DAYS:
                self.add_error("period_start", f"A letter covers at most {MAX_PERIOD_DAYS} days.")
        return data


class LetterForm(_PeriodForm):
    sections = forms.MultipleChoiceField(
        label="Sections to include",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one section the consent covers.",
            "invalid_choice": "The consent does not cover %(value)s: it cannot be included.",
        },
    )

    def __init__(self, *args: Any, consent: Consent, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.consent = consent
        covered = sections_in_order(consent.sections)
        field = cast(forms.MultipleChoiceField, self.fields["sections"])
        field.choices = [(s, ConsentSection(s).label) for s in covered]
        field.initial = covered
        self._period_initial(today)
        self.helper = _helper("Make the letter")

    def clean_sections(self) -> list[str]:
        chosen: list[str] = self.cleaned_data["sections"]
        if not self.consent.covers(chosen):
            raise forms.ValidationError("The consent does not cover every section chosen.")
        return chosen

    def service_kwargs(self) -> dict[str, Any]:
        return {k: self.cleaned_data[k] for k in ("sections", "period_start", "period_end")}


class BatchForm(_PeriodForm):
    counselor = forms.ModelChoiceField(queryset=User.objects.none(), label="Caseload of")
    recipient = forms.ChoiceField(
        label="Recipient",
        help_text="Recipients named in a current consent of a patient of these caseloads.",
        error_messages={"invalid_choice": "No current consent names that recipient."},
    )
    sections = forms.MultipleChoiceField(
        label="Sections to include",
        choices=ConsentSection.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="A patient whose consent does not cover all of them gets no letter and is "
        "listed as skipped.",
        error_messages={"required": "Choose at least one section."},
    )

    def __init__(
        self,
        *args: Any,
        counselors: QuerySet[User],
        recipients: list[str],
        user: User,
        today: date,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        counselor = cast("forms.ModelChoiceField[User]", self.fields["counselor"])
        counselor.queryset = counselors
        counselor.initial = user.pk
        recipient = cast(forms.ChoiceField, self.fields["recipient"])
        recipient.choices = [("", "Choose a recipient"), *((r, r) for r in recipients)]
        self._period_initial(today)
        self.helper = _helper("Make the letters")

    def service_kwargs(self) -> dict[str, Any]:
        return {
            k: self.cleaned_data[k]
            for k in ("counselor", "recipient", "sections", "period_start", "period_end")
        }


class LetterheadForm(InputGuard, forms.Form):
    letterhead_name = forms.CharField(
        label="Name printed on letters",
        max_length=200,
        help_text="Keep it neutral (e.g. \u201cRiverside Health Associates\u201d): the envelope "
        "and the letter may be seen by people the patient has not told.",
    )
    address = text_field(limits.ADDRESS, rows=3, label="Postal address", required=False)
    phone = PhoneFormField(label="Phone", required=False)
    names_treatment = forms.BooleanField(
        label="The letterhead may name our services",
        required=False,
        help_text="Tick only if the site chooses a name that says what it treats.",
    )

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        kwargs["initial"] = {
            "letterhead_name": site.letterhead_name,
            "address": site.address,
            "phone": site.phone,
            "names_treatment": site.letterhead_names_treatment,
            **(kwargs.get("initial") or {}),
        }
        super().__init__(*args, **kwargs)
        phone = self.fields["phone"]
        assert isinstance(phone, PhoneFormField)
        phone.region = site.country
        self.helper = _helper("Save the letterhead")

    def service_kwargs(self) -> dict[str, Any]:
        return {
            k: self.cleaned_data[k]
            for k in ("letterhead_name", "address", "phone", "names_treatment")
        }
