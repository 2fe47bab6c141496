"""Forms: field checks here, rules that need the database in ``services``.

Views run these forms inside ``timezone.override(site.tz)`` so that a date and time
typed by a patient means the site's local time (DST gaps are refused by Django).
"""

from __future__ import annotations

from typing import Any, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.db.models import QuerySet
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import limits
from core.formats import format_when
from core.forms import InputGuard, SiteDateTimeField, text_field
from core.models import Site
from core.phones import PhoneFormField, set_phone_region
from patients.models import Track
from scheduling.models import Session

from .models import AttendanceMode, Fellowship, HomeworkTemplate
from .uploads import ACCEPT_ATTR, ALLOWED_LABEL


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT_ATTR}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _helper(submit: str, *, action: str = "", css: str = "btn-primary") -> FormHelper:
    helper = FormHelper()
    helper.form_tag = True
    helper.form_method = "post"
    if action:
        helper.form_action = action
    helper.add_input(Submit("submit", submit, css_class=css))
    return helper


class MeetingForm(InputGuard, forms.Form):
    held_at = SiteDateTimeField(label=_("Date and time of the meeting"))
    fellowship = forms.ChoiceField(label=_("Fellowship"), choices=Fellowship.choices)
    fellowship_other = forms.CharField(
        label=_("If other, which group"), required=False, max_length=80
    )
    name = forms.CharField(label=_("Meeting name"), max_length=120)
    mode = forms.ChoiceField(
        label=_("How did you attend?"),
        choices=AttendanceMode.choices,
        widget=forms.RadioSelect,
        initial=AttendanceMode.IN_PERSON,
    )
    place = forms.CharField(
        label=_("Where (for in-person meetings)"), required=False, max_length=200
    )
    chair_name = forms.CharField(
        label=_("Chair or secretary's name"), required=False, max_length=120
    )
    notes = text_field(limits.NOTE, label=_("Notes (optional)"), required=False)
    sheet = forms.FileField(
        label=_("Photo or PDF of the signed sheet (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_ATTR}),
        help_text=format_lazy("{}.", _(ALLOWED_LABEL)),
    )

    def __init__(
        self,
        *args: Any,
        site: Site,
        submit: str | None = None,
        action: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # The meeting happened where the patient lives: read the typed time on their
        # site's clock, whoever types it.
        cast(SiteDateTimeField, self.fields["held_at"]).tz = site.tz
        self.helper = _helper(submit or gettext("Log meeting"), action=action)


class MeetingReviewForm(InputGuard, forms.Form):
    decision = forms.ChoiceField(choices=[("verify", "Verify"), ("reject", "Reject")])
    reason = forms.CharField(label="Reason (if rejecting)", required=False, max_length=300)


class SponsorForm(InputGuard, forms.Form):
    name = forms.CharField(label="Sponsor's name", max_length=120)
    phone = PhoneFormField(label="Phone", required=False)
    since = forms.DateField(label="Sponsor since", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, action: str = "", region: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read in the country of the patient's site.
        set_phone_region(self, region or None, "phone")
        self.helper = _helper("Save sponsor", action=action, css="btn-outline-primary")


class StepForm(InputGuard, forms.Form):
    step = forms.TypedChoiceField(
        label="Step being worked", choices=[(n, f"Step {n}") for n in range(1, 13)], coerce=int
    )
    started_on = forms.DateField(label="Started on", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, action: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Save step", action=action, css="btn-outline-primary")


class HomeworkTemplateForm(InputGuard, forms.Form):
    site: forms.ModelChoiceField[Site] = forms.ModelChoiceField(label="Site", queryset=None)
    title = forms.CharField(label="Title", max_length=120)
    instructions = text_field(limits.INSTRUCTIONS, rows=4, label="Instructions")
    worksheet = forms.FileField(
        label="Worksheet (optional)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_ATTR}),
        help_text=format_lazy("{}.", _(ALLOWED_LABEL)),
    )

    def __init__(self, *args: Any, sites: QuerySet[Site], action: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Site]", self.fields["site"]).queryset = sites
        self.helper = _helper("Add to library", action=action)


class AssignForm(InputGuard, forms.Form):
    template: forms.ModelChoiceField[HomeworkTemplate] = forms.ModelChoiceField(
        label="Homework", queryset=HomeworkTemplate.objects.none()
    )
    due_date = forms.DateField(label="Due date", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(
        self,
        *args: Any,
        templates: QuerySet[HomeworkTemplate],
        action: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(
            "forms.ModelChoiceField[HomeworkTemplate]", self.fields["template"]
        ).queryset = templates
        self.helper = _helper("Assign", action=action)


class GroupAssignForm(InputGuard, forms.Form):
    template: forms.ModelChoiceField[HomeworkTemplate] = forms.ModelChoiceField(
        label="Homework", queryset=HomeworkTemplate.objects.none()
    )
    track: forms.ModelChoiceField[Track] = forms.ModelChoiceField(
        label="Track roster", queryset=None
    )
    roster_date = forms.DateField(label="Roster on", widget=forms.DateInput(attrs={"type": "date"}))
    due_date = forms.DateField(label="Due date", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(
        self,
        *args: Any,
        templates: QuerySet[HomeworkTemplate],
        tracks: QuerySet[Track],
        action: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(
            "forms.ModelChoiceField[HomeworkTemplate]", self.fields["template"]
        ).queryset = templates
        cast("forms.ModelChoiceField[Track]", self.fields["track"]).queryset = tracks
        self.helper = _helper("Assign to the whole roster", action=action)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        template, track = data.get("template"), data.get("track")
        if template and track and template.site_id != track.site_id:
            self.add_error("track", "Choose a track at the homework's site.")
        return data


class SessionChoiceField(forms.ModelChoiceField[Session]):
    def label_from_instance(self, obj: Session) -> str:
        start = format_when(obj.starts_at, year=False, tz=obj.site.tz)
        return f"{start} · {obj.title} ({obj.site.name})"


class SessionAssignForm(InputGuard, forms.Form):
    template: forms.ModelChoiceField[HomeworkTemplate] = forms.ModelChoiceField(
        label="Homework", queryset=HomeworkTemplate.objects.none()
    )
    session = SessionChoiceField(label="Group session", queryset=None)
    due_date = forms.DateField(label="Due date", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(
        self,
        *args: Any,
        templates: QuerySet[HomeworkTemplate],
        sessions: QuerySet[Session],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(
            "forms.ModelChoiceField[HomeworkTemplate]", self.fields["template"]
        ).queryset = templates
        cast(SessionChoiceField, self.fields["session"]).queryset = sessions

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        template, session = data.get("template"), data.get("session")
        if template and session and template.site_id != session.site_id:
            self.add_error("session", "Choose a session at the homework's site.")
        return data


class SubmissionForm(InputGuard, forms.Form):
    text = text_field(limits.HOMEWORK_ANSWER, rows=5, label=_("Your answer"), required=False)
    # Django's form metaclass moves declared fields off the class, so this does not
    # replace the form's uploaded `files` at run time; mypy sees only the names.
    files = MultipleFileField(  # type: ignore[assignment]
        label=_("Attach files (optional)"),
        required=False,
        help_text=format_lazy("{}.", _(ALLOWED_LABEL)),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not (data.get("text") or "").strip() and not data.get("files"):
            raise forms.ValidationError(gettext("Write your answer or attach a file."))
        return data


class ReviewForm(InputGuard, forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("return", "Return")])
    comment = text_field(limits.NOTE, label="Comment for the patient", required=False)


class RequirementForm(InputGuard, forms.Form):
    meetings_per_week = forms.IntegerField(label="Meetings per week", min_value=0, max_value=21)
    fellowships = forms.MultipleChoiceField(
        label="Which fellowships count (none ticked: all count)",
        choices=Fellowship.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
