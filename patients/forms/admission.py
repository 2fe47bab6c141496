"""Forms of the staff screens. Services re-check every rule; forms give the early,
field-level message and limit choices to the patient's site."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from core.clock import site_today
from core.models import User

from ..models import (
    INJECTABLE_MEDICATIONS,
    Consent,
    DischargeType,
    Enrollment,
    Frequency,
    Medication,
    Patient,
    ProgramLevel,
    ProgramPhase,
    ReferralSource,
    Track,
)
from ..selectors import CaseloadStatus, counselors_at, patients_visible_to, sites_for
from ..services.patient import PATIENT_EDITABLE_FIELDS, validate_date_of_birth
from ..services.scheduled_changes import CANCEL_REASON_MAX


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TrackChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Track) -> str:
        return f"{obj.name} ({ProgramLevel(obj.level).short} {obj.level})"


class CounselorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return str(obj)


def _helper(submit: str, *, css_class: str = "btn-primary") -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("submit", submit, css_class=css_class))
    return helper


DEMOGRAPHIC_FIELDS = [
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "gender_identity",
    "phone",
    "email",
    "preferred_contact",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
    "primary_substance",
    "secondary_substance",
    "naloxone_kit_given_on",
    "safety_notes",
]
assert set(DEMOGRAPHIC_FIELDS) == PATIENT_EDITABLE_FIELDS

DEMOGRAPHIC_WIDGETS = {
    "date_of_birth": DateInput(),
    "naloxone_kit_given_on": DateInput(),
    "safety_notes": forms.Textarea(attrs={"rows": 2}),
}


def _demographics_layout() -> list:
    return [
        Fieldset(
            "Patient",
            Row(
                Column("legal_first_name", css_class="col-md-4"),
                Column("legal_last_name", css_class="col-md-4"),
                Column("preferred_name", css_class="col-md-4"),
            ),
            Row(
                Column("date_of_birth", css_class="col-md-4"),
                Column("sex", css_class="col-md-4"),
                Column("gender_identity", css_class="col-md-4"),
            ),
            Row(
                Column("phone", css_class="col-md-4"),
                Column("email", css_class="col-md-4"),
                Column("preferred_contact", css_class="col-md-4"),
            ),
            Row(
                Column("emergency_contact_name", css_class="col-md-4"),
                Column("emergency_contact_relationship", css_class="col-md-4"),
                Column("emergency_contact_phone", css_class="col-md-4"),
            ),
            Row(
                Column("primary_substance", css_class="col-md-6"),
                Column("secondary_substance", css_class="col-md-6"),
            ),
            Row(
                Column("naloxone_kit_given_on", css_class="col-md-4"),
                Column("safety_notes", css_class="col-md-8"),
            ),
        )
    ]


class IntakeForm(forms.ModelForm):
    """Patient and first enrollment in one step; choices limited to the chosen site."""

    site = forms.ModelChoiceField(queryset=None, empty_label=None)
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

    def __init__(self, *args, user: User, site_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        sites = sites_for(user)
        self.fields["site"].queryset = sites
        # The site comes from the posted form, else the page's ?site=, else the only one.
        chosen = self.data.get("site") if self.is_bound else site_id
        site = None
        if chosen:
            site = sites.filter(pk=chosen).first() if str(chosen).isdigit() else None
        if site is None and not self.is_bound:
            site = sites.first() if sites.count() == 1 else None
        self.site = site
        if site is not None:
            self.fields["site"].initial = site.pk
            self.fields["track"].queryset = Track.objects.filter(site=site, is_active=True)
            self.fields["phase"].queryset = ProgramPhase.objects.filter(site=site, is_active=True)
            self.fields["counselor"].queryset = counselors_at([site.pk])
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

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        if self.site is not None:
            try:
                validate_date_of_birth(born, site_today(self.site))
            except ValidationError as exc:
                raise ValidationError(exc.message_dict["date_of_birth"]) from exc
        return born

    def clean_mrn(self):
        return self.cleaned_data["mrn"].strip().upper()

    def clean(self):
        data = super().clean()
        track, level = data.get("track"), data.get("level")
        if track is not None and level and track.level != level:
            self.add_error(
                "track", f"{track.name} serves {ProgramLevel(track.level).label}, not this level."
            )
        start, end = data.get("admission_date"), data.get("expected_end_date")
        if start and end and end < start:
            self.add_error("expected_end_date", "The expected end is before admission.")
        self._check_duplicate(data)
        return data

    def _check_duplicate(self, data) -> None:
        """Two charts for one person split their history: ask before registering the same
        legal name and date of birth twice. The MRN is named only to those who may see it."""
        if data.get("not_a_duplicate") or self.site is None:
            return
        first, last = data.get("legal_first_name"), data.get("legal_last_name")
        born = data.get("date_of_birth")
        if not (first and last and born):
            return
        same = Patient.objects.filter(
            organization_id=self.site.organization_id,
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

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("not_a_duplicate", None)
        return data


class DemographicsForm(forms.ModelForm):
    # The record's updated_at when the form was rendered (refuses a concurrent edit).
    loaded_at = forms.CharField(widget=forms.HiddenInput)

    class Meta:
        model = Patient
        fields = DEMOGRAPHIC_FIELDS
        widgets = DEMOGRAPHIC_WIDGETS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["loaded_at"].initial = self.instance.updated_at.isoformat()
        self.helper = _helper("Save")
        self.helper.layout = Layout(*_demographics_layout(), "loaded_at")

    def clean_loaded_at(self):
        value = parse_datetime(self.cleaned_data["loaded_at"])
        if value is None:
            raise ValidationError("Reload the page and try again.")
        return value

    def service_kwargs(self) -> dict:
        data = {f: self.cleaned_data[f] for f in DEMOGRAPHIC_FIELDS}
        data["expected_updated_at"] = self.cleaned_data["loaded_at"]
        return data

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        try:
            validate_date_of_birth(born, site_today(self.instance.site))
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["date_of_birth"]) from exc
        return born

    def validate_constraints(self):
        # The service saves; nothing here touches the database's constraints.
        return None


# --- enrollment changes ------------------------------------------------------


class EnrollmentChangeForm(forms.Form):
    """Posts the version it was rendered with, so a concurrent edit is refused."""

    submit_label = "Save"
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, enrollment: Enrollment, **kwargs):
        super().__init__(*args, **kwargs)
        self.enrollment = enrollment
        self.fields["version"].initial = enrollment.version
        today = site_today(enrollment.site)
        for name in ("effective_date", "discharge_date"):
            if name in self.fields:
                self.fields[name].initial = today
        self.setup()
        self.helper = _helper(self.submit_label)

    def setup(self) -> None:
        pass

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data["expected_version"] = data.pop("version")
        return data


class PhaseForm(EnrollmentChangeForm):
    submit_label = "Change phase"
    phase = forms.ModelChoiceField(queryset=ProgramPhase.objects.none(), empty_label=None)
    effective_date = forms.DateField(widget=DateInput())
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def setup(self):
        self.fields["phase"].queryset = ProgramPhase.objects.filter(
            site_id=self.enrollment.site_id, is_active=True
        ).exclude(pk=self.enrollment.phase_id or 0)


class TrackForm(EnrollmentChangeForm):
    submit_label = "Change track"
    track = forms.ModelChoiceField(
        queryset=Track.objects.none(), required=False, empty_label="No track"
    )
    effective_date = forms.DateField(
        widget=DateInput(), help_text="First day on the new track; earlier rosters stay."
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def setup(self):
        self.fields["track"].queryset = Track.objects.filter(
            site_id=self.enrollment.site_id, is_active=True, level=self.enrollment.level
        ).exclude(pk=self.enrollment.track_id or 0)


class LevelForm(EnrollmentChangeForm):
    submit_label = "Change level of care"
    level = forms.ChoiceField(label="New level of care", choices=ProgramLevel.choices)
    track = TrackChoiceField(
        queryset=Track.objects.none(),
        required=False,
        empty_label="Keep the current track if it serves the new level",
    )
    effective_date = forms.DateField(widget=DateInput())
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    def setup(self):
        self.fields["level"].choices = [
            c for c in ProgramLevel.choices if c[0] != self.enrollment.level
        ]
        self.fields["track"].queryset = Track.objects.filter(
            site_id=self.enrollment.site_id, is_active=True
        )


class CounselorForm(EnrollmentChangeForm):
    submit_label = "Change counselor"
    counselor = CounselorChoiceField(label="Primary counselor", queryset=User.objects.none())
    effective_date = forms.DateField(widget=DateInput())
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def setup(self):
        self.fields["counselor"].queryset = counselors_at([self.enrollment.site_id])


class HoldForm(EnrollmentChangeForm):
    submit_label = "Put on hold"
    effective_date = forms.DateField(
        widget=DateInput(), help_text="First day off the track roster."
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class ResumeForm(EnrollmentChangeForm):
    submit_label = "Resume"
    effective_date = forms.DateField(widget=DateInput(), help_text="First day back.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class DischargeForm(EnrollmentChangeForm):
    submit_label = "Discharge"
    discharge_date = forms.DateField(widget=DateInput())
    discharge_type = forms.ChoiceField(
        choices=[("", "---------"), *DischargeType.choices], label="Type of discharge"
    )
    aftercare_plan = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def setup(self):
        self.fields["aftercare_plan"].help_text = "Required unless the patient died."

    def clean(self):
        data = super().clean()
        if (
            data.get("discharge_type")
            and data["discharge_type"] != DischargeType.DECEASED
            and not data.get("aftercare_plan", "").strip()
        ):
            self.add_error("aftercare_plan", "Every discharge needs an aftercare plan.")
        return data


class ReadmitForm(forms.Form):
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

    def __init__(self, *args, patient: Patient, **kwargs):
        super().__init__(*args, **kwargs)
        site_id = patient.site_id
        self.fields["track"].queryset = Track.objects.filter(site_id=site_id, is_active=True)
        self.fields["phase"].queryset = ProgramPhase.objects.filter(site_id=site_id, is_active=True)
        self.fields["counselor"].queryset = counselors_at([site_id])
        self.fields["counselor"].initial = patient.primary_counselor_id
        self.fields["admission_date"].initial = site_today(patient.site)
        self.helper = _helper("Re-admit")

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class ScheduledChangeCancelForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=CANCEL_REASON_MAX,
        help_text="Kept with the change, who cancelled it and when.",
    )

    def __init__(self, *args, change, **kwargs):
        super().__init__(*args, **kwargs)
        self.change = change
        self.helper = _helper("Cancel the change", css_class="btn-danger")

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


# --- medications and consents ----------------------------------------------------


class MedicationForm(forms.Form):
    medication = forms.ChoiceField(choices=[("", "---------"), *Medication.choices])
    other_name = forms.CharField(label="Medication name (if other)", max_length=80, required=False)
    dose = forms.CharField(max_length=40, help_text="e.g. 16 mg, 300 mg, 380 mg")
    frequency = forms.ChoiceField(choices=Frequency.choices)
    prescriber = forms.CharField(max_length=120)
    start_date = forms.DateField(widget=DateInput())
    next_injection_due = forms.DateField(
        required=False, widget=DateInput(), help_text="Injected or implanted medications only."
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, patient: Patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start_date"].initial = site_today(patient.site)
        self.helper = _helper("Add medication")

    def clean(self):
        data = super().clean()
        start, due = data.get("start_date"), data.get("next_injection_due")
        if start and due and due < start:
            self.add_error(
                "next_injection_due", "The next injection cannot be due before the order starts."
            )
        if due and data.get("medication") and data["medication"] not in INJECTABLE_MEDICATIONS:
            self.add_error(
                "next_injection_due",
                "Only injected or implanted medications have an injection due.",
            )
        if data.get("medication") == Medication.OTHER and not data.get("other_name", "").strip():
            self.add_error("other_name", "Name the medication.")
        return data

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class MedicationStopForm(forms.Form):
    stop_date = forms.DateField(widget=DateInput())
    reason = forms.CharField(max_length=200)

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stop_date"].initial = site_today(order.patient.site)
        self.helper = _helper("Stop medication", css_class="btn-danger")

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class InjectionDueForm(forms.Form):
    next_injection_due = forms.DateField(widget=DateInput())

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["next_injection_due"].initial = order.next_injection_due
        self.helper = _helper("Save")

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class ConsentForm(forms.ModelForm):
    class Meta:
        model = Consent
        fields = ["recipient", "purpose", "information_disclosed", "signed_on", "expires_on"]
        widgets = {
            "signed_on": DateInput(),
            "expires_on": DateInput(),
            "information_disclosed": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, patient: Patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signed_on"].initial = site_today(patient.site)
        self.helper = _helper("Record consent")

    def clean(self):
        data = super().clean()
        signed, expires = data.get("signed_on"), data.get("expires_on")
        if signed and expires and expires < signed:
            self.add_error("expires_on", "The consent cannot expire before it was signed.")
        return data

    def validate_constraints(self):
        return None  # checked above and by the service, which saves

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class ConsentRevokeForm(forms.Form):
    revoked_on = forms.DateField(widget=DateInput())

    def __init__(self, *args, consent, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["revoked_on"].initial = site_today(consent.patient.site)
        self.helper = _helper("Revoke consent", css_class="btn-danger")

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


# --- caseload ----------------------------------------------------------------


class SiteLabelledChoiceField(forms.ModelChoiceField):
    """Phases and tracks are per site; name the site when the user works at several."""

    def __init__(self, *args, show_site: bool = False, **kwargs):
        self.show_site = show_site
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj) -> str:
        return f"{obj.site.name} · {obj.name}" if self.show_site else obj.name


class CaseloadFilterForm(forms.Form):
    q = forms.CharField(label="Name or MRN", required=False)
    site = forms.ModelChoiceField(queryset=None, required=False, empty_label="All sites")
    track = SiteLabelledChoiceField(
        queryset=Track.objects.none(), required=False, empty_label="All tracks"
    )
    level = forms.ChoiceField(
        label="Level", choices=[("", "All levels"), *ProgramLevel.choices], required=False
    )
    phase = SiteLabelledChoiceField(
        queryset=ProgramPhase.objects.none(), required=False, empty_label="All phases"
    )
    counselor = CounselorChoiceField(
        queryset=User.objects.none(), required=False, empty_label="All counselors"
    )
    status = forms.ChoiceField(choices=CaseloadStatus.choices, required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        sites = list(sites_for(user))
        site_ids = [s.pk for s in sites]
        several = len(sites) > 1
        self.fields["site"].queryset = sites_for(user)
        # The track and counselor drop-downs offer what this user's patients have: a
        # counselor picks among their own groups and colleagues, not among every group
        # and counselor of the site (which grow with the clinic). One query finds both;
        # the lists of ids keep the option queries trivial to plan.
        # Every episode, not only open ones: the status filter also lists discharged
        # patients, whose groups must stay choosable.
        pairs = (
            Enrollment.objects.filter(
                patient__in=patients_visible_to(user), patient__is_archived=False
            )
            .values_list("track_id", "patient__primary_counselor_id")
            .distinct()
        )
        track_ids, counselor_ids = set(), set()
        for track_id, counselor_id in pairs:
            track_ids.add(track_id)
            counselor_ids.add(counselor_id)
        self.fields["track"].queryset = Track.objects.filter(pk__in=track_ids).select_related(
            "site"
        )
        self.fields["track"].show_site = several
        self.fields["phase"].queryset = ProgramPhase.objects.filter(
            site_id__in=site_ids
        ).select_related("site")
        self.fields["phase"].show_site = several
        self.fields["counselor"].queryset = User.objects.filter(pk__in=counselor_ids).order_by(
            "last_name", "first_name", "username"
        )
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "filters"
        self.helper.disable_csrf = True
        # htmx: filter as you type or choose, swapping only the results (the server
        # renders the whole page and htmx keeps the results part); without JavaScript
        # the form is an ordinary GET.
        self.helper.attrs = {
            "hx-get": reverse("patients:caseload"),
            "hx-trigger": "change, submit, input changed delay:400ms from:#id_q",
            "hx-target": "#caseload-results",
            "hx-select": "#caseload-results",
            "hx-swap": "outerHTML",
            "hx-push-url": "true",
        }
        self.helper.layout = Layout(
            Row(
                Column("q", css_class="col-12 col-md-4 col-xl-3"),
                Column("site", css_class="col-6 col-md-4 col-xl-2"),
                Column("track", css_class="col-6 col-md-4 col-xl-2"),
                Column("level", css_class="col-6 col-md-4 col-xl-1"),
                Column("phase", css_class="col-6 col-md-4 col-xl-1"),
                Column("counselor", css_class="col-6 col-md-4 col-xl-2"),
                Column("status", css_class="col-6 col-md-4 col-xl-1"),
            ),
        )
        self.helper.add_input(Submit("", "Search", css_class="btn-primary"))

    def filters(self) -> dict:
        # A stale or hand-edited value (e.g. a track id from another site) is dropped and
        # shown as an error; the other filters still apply.
        self.is_valid()
        valid = getattr(self, "cleaned_data", {})
        data = {k: v for k, v in valid.items() if v not in (None, "")}
        data.setdefault("status", CaseloadStatus.OPEN)
        return data
