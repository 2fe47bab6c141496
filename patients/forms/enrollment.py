"""Changes to an open enrollment; each posts the version it was rendered with."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from core import limits
from core.clock import site_today
from core.forms import InputGuard, text_field
from core.models import User

from ..models import DischargeType, Enrollment, ProgramLevel, ProgramPhase, Track
from ..selectors import counselors_at
from ._common import CounselorChoiceField, DateInput, TrackChoiceField, _helper


class EnrollmentChangeForm(InputGuard, forms.Form):
    """Posts the version it was rendered with, so a concurrent edit is refused."""

    submit_label = "Save"
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, enrollment: Enrollment, **kwargs: Any) -> None:
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

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["expected_version"] = data.pop("version")
        return data


class PhaseForm(EnrollmentChangeForm):
    submit_label = "Change phase"
    phase = forms.ModelChoiceField(queryset=ProgramPhase.objects.none(), empty_label=None)
    effective_date = forms.DateField(widget=DateInput())
    reason = text_field(limits.REASON, required=False)

    def setup(self) -> None:
        cast(
            "forms.ModelChoiceField[ProgramPhase]", self.fields["phase"]
        ).queryset = ProgramPhase.objects.filter(
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
    reason = text_field(limits.REASON, required=False)

    def setup(self) -> None:
        cast("forms.ModelChoiceField[Track]", self.fields["track"]).queryset = Track.objects.filter(
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
    reason = text_field(limits.REASON)

    def setup(self) -> None:
        cast(forms.ChoiceField, self.fields["level"]).choices = [
            c for c in ProgramLevel.choices if c[0] != self.enrollment.level
        ]
        cast(TrackChoiceField, self.fields["track"]).queryset = Track.objects.filter(
            site_id=self.enrollment.site_id, is_active=True
        )


class CounselorForm(EnrollmentChangeForm):
    submit_label = "Change counselor"
    counselor = CounselorChoiceField(label="Primary counselor", queryset=User.objects.none())
    effective_date = forms.DateField(widget=DateInput())
    reason = text_field(limits.REASON, required=False)

    def setup(self) -> None:
        cast(CounselorChoiceField, self.fields["counselor"]).queryset = counselors_at(
            [self.enrollment.site_id]
        )


class HoldForm(EnrollmentChangeForm):
    submit_label = "Put on hold"
    effective_date = forms.DateField(
        widget=DateInput(), help_text="First day off the track roster."
    )
    reason = text_field(limits.REASON)


class ResumeForm(EnrollmentChangeForm):
    submit_label = "Resume"
    effective_date = forms.DateField(widget=DateInput(), help_text="First day back.")
    reason = text_field(limits.REASON, required=False)


class DischargeForm(EnrollmentChangeForm):
    submit_label = "Discharge"
    discharge_date = forms.DateField(widget=DateInput())
    discharge_type = forms.ChoiceField(
        choices=[("", "---------"), *DischargeType.choices], label="Type of discharge"
    )
    aftercare_plan = text_field(limits.NOTE, rows=3, required=False)
    note = text_field(limits.NOTE, required=False)

    def setup(self) -> None:
        self.fields["aftercare_plan"].help_text = "Required unless the patient died."

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if (
            data.get("discharge_type")
            and data["discharge_type"] != DischargeType.DECEASED
            and not data.get("aftercare_plan", "").strip()
        ):
            self.add_error("aftercare_plan", "Every discharge needs an aftercare plan.")
        return data
