"""Intake (a new patient and their first enrollment) and re-admission."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.core.exceptions import ValidationError

from core.clock import site_today
from core.forms import InputGuard
from core.models import Site, User
from core.phones import set_phone_region

from ..models import Language, Patient, ProgramLevel, ProgramPhase, ReferralSource, Track
from ..selectors import counselors_at, patients_visible_to, sites_for
from ..services.patient import PHONE_FIELDS, validate_date_of_birth
from ._common import CounselorChoiceField, DateInput, TrackChoiceField, _helper
from .patient import (
    DEMOGRAPHIC_FIELDS,
    DEMOGRAPHIC_WIDGETS,
    _demographics_layout,
    check_sms_contact,
    language_or_keep,
)


class IntakeForm(InputGuard, forms.ModelForm[Patient]):
    """Patient and first enrollment in one step; choices limited to the chosen site."""

    site: forms.ModelChoiceField[Site] = forms.ModelChoiceField(queryset=None, empty_label=None)
    mrn = forms.CharField(
        label="MRN",
        max_length=20,
        required=False,
        help_text="Leave blank to generate the next medical record number.",
    )
    level = forms.ChoiceField(
        label="Level of care", choices=ProgramLevel.choices, initial=ProgramLevel.IOP
    )
    track = TrackChoiceField(queryset=Track.objects.none(), required=False)
    phase = forms.ModelChoiceField(queryset=ProgramPhase.objects.none(), required=False)
    counselor = CounselorChoiceField(
        label="Primary counselor", queryset=User.objects.none(), required=False
    )
    admission_date = forms.DateField(widget=DateInput())
    expected_end_date = forms.DateField(required=False, widget=DateInput())
    referral_source = forms.ChoiceField(choices=ReferralSource.choices)
    referral_note = forms.CharField(max_length=200, required=False)
    not_a_duplicate = forms.BooleanField(
        label="This is a different person (not the patient already registered)",
        required=False,
    )

    class Meta:
        model = Patient
        fields = DEMOGRAPHIC_FIELDS
        widgets = DEMOGRAPHIC_WIDGETS

    def __init__(
        self, *args: Any, user: User, site_id: str | int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["preferred_language"].required = False
        sites = sites_for(user)
        cast("forms.ModelChoiceField[Site]", self.fields["site"]).queryset = sites
        # The site comes from the posted form, else the page's ?site=, else the only one.
        chosen = self.data.get("site") if self.is_bound else site_id
        site: Site | None = None
        if chosen:
            site = sites.filter(pk=chosen).first() if str(chosen).isdigit() else None
        if site is None and not self.is_bound:
            site = sites.first() if sites.count() == 1 else None
        # Not `self.site`: that name is the declared field's.
        self.chosen_site = site
        set_phone_region(self, site.country if site else None, *PHONE_FIELDS)
        if site is not None:
            self.fields["site"].initial = site.pk
            cast(TrackChoiceField, self.fields["track"]).queryset = Track.objects.filter(
                site=site, is_active=True
            )
            cast(
                "forms.ModelChoiceField[ProgramPhase]", self.fields["phase"]
            ).queryset = ProgramPhase.objects.filter(site=site, is_active=True)
            cast(CounselorChoiceField, self.fields["counselor"]).queryset = counselors_at([site.pk])
            self.fields["admission_date"].initial = site_today(site)
        else:
            for name in ("track", "phase", "counselor"):
                self.fields[name].help_text = "Choose the site first."
        # Changing the site reloads the page with that site's tracks (static/js/patients.js).
        self.fields["site"].widget.attrs["data-reload-param"] = "site"
        self.helper = _helper("Admit patient")
        self.helper.layout = Layout(
            Fieldset("Site", "site"),
            *_demographics_layout(),
            Fieldset(
                "Enrollment",
                Row(
                    Column("level", css_class="col-md-4"),
                    Column("track", css_class="col-md-4"),
                    Column("phase", css_class="col-md-4"),
                ),
                Row(
                    Column("counselor", css_class="col-md-4"),
                    Column("admission_date", css_class="col-md-4"),
                    Column("expected_end_date", css_class="col-md-4"),
                ),
                Row(
                    Column("referral_source", css_class="col-md-4"),
                    Column("referral_note", css_class="col-md-8"),
                ),
                "mrn",
            ),
            "not_a_duplicate",
        )

    def clean_date_of_birth(self) -> date:
        born: date = self.cleaned_data["date_of_birth"]
        if self.chosen_site is not None:
            try:
                validate_date_of_birth(born, site_today(self.chosen_site))
            except ValidationError as exc:
                raise ValidationError(exc.message_dict["date_of_birth"]) from exc
        return born

    def clean_preferred_language(self) -> str:
        return language_or_keep(self, Language.EN)

    def clean_mrn(self) -> str:
        mrn: str = self.cleaned_data["mrn"]
        return mrn.strip().upper()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        track, level = data.get("track"), data.get("level")
        if track is not None and level and track.level != level:
            self.add_error(
                "track", f"{track.name} serves {ProgramLevel(track.level).label}, not this level."
            )
        start, end = data.get("admission_date"), data.get("expected_end_date")
        if start and end and end < start:
            self.add_error("expected_end_date", "The expected end is before admission.")
        check_sms_contact(self)
        self._check_duplicate(data)
        return data

    def _check_duplicate(self, data: dict[str, Any]) -> None:
        """Two charts for one person split their history: ask before registering the same
        legal name and date of birth twice. The MRN is named only to those who may see it."""
        if data.get("not_a_duplicate") or self.chosen_site is None:
            return
        first, last = data.get("legal_first_name"), data.get("legal_last_name")
        born = data.get("date_of_birth")
        if not (first and last and born):
            return
        same = Patient.objects.filter(
            organization_id=self.chosen_site.organization_id,
            legal_first_name__iexact=first.strip(),
            legal_last_name__iexact=last.strip(),
            date_of_birth=born,
        )
        match = same.first()
        if match is None:
            return
        visible = patients_visible_to(self.user).filter(pk=match.pk).exists()
        where = f" (MRN {match.mrn})" if visible else ""
        self.add_error(
            "not_a_duplicate",
            f"A patient with this name and date of birth is already registered{where}. "
            "Re-admit them from their chart, or tick this box if this is someone else.",
        )

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("not_a_duplicate", None)
        return data


class ReadmitForm(InputGuard, forms.Form):
    level = forms.ChoiceField(
        label="Level of care", choices=ProgramLevel.choices, initial=ProgramLevel.IOP
    )
    track = TrackChoiceField(queryset=Track.objects.none(), required=False)
    phase = forms.ModelChoiceField(queryset=ProgramPhase.objects.none(), required=False)
    counselor = CounselorChoiceField(
        label="Primary counselor", queryset=User.objects.none(), required=False
    )
    admission_date = forms.DateField(widget=DateInput())
    expected_end_date = forms.DateField(required=False, widget=DateInput())
    referral_source = forms.ChoiceField(choices=ReferralSource.choices)
    referral_note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        site_id = patient.site_id
        cast(TrackChoiceField, self.fields["track"]).queryset = Track.objects.filter(
            site_id=site_id, is_active=True
        )
        cast(
            "forms.ModelChoiceField[ProgramPhase]", self.fields["phase"]
        ).queryset = ProgramPhase.objects.filter(site_id=site_id, is_active=True)
        cast(CounselorChoiceField, self.fields["counselor"]).queryset = counselors_at([site_id])
        self.fields["counselor"].initial = patient.primary_counselor_id
        self.fields["admission_date"].initial = site_today(patient.site)
        self.helper = _helper("Re-admit")

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)
