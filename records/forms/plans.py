"""Forms of the treatment plan: a draft's strengths and preferences, one small form per
part (problem, goal, objective, intervention), the clinician's signature, and the
patient's (at the clinic or in the portal)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core import limits
from core.forms import BoundedDateField, InputGuard, text_field
from core.models import User

from ..models import AsamDimension, ObjectiveStatus, ServiceType, SignatureMethod
from ..services.plans import FREQUENCY_MAX


class PlanVersionForm(InputGuard, forms.Form):
    strengths = text_field(
        limits.NOTE, rows=3, required=False, label="Strengths", help_text="What the patient brings."
    )
    preferences = text_field(
        limits.NOTE,
        rows=3,
        required=False,
        label="Preferences",
        help_text="How the patient wants their care (times, language, who takes part).",
    )


class StaffChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.get_username()


class _PartForm(InputGuard, forms.Form):
    """A part's form. A new goal, objective or intervention names the part it hangs
    under (``parents``: the draft's problems, goals or objectives); the service checks
    again that it belongs to the same draft."""

    parent = forms.TypedChoiceField(label="Under", coerce=int, choices=())

    def __init__(
        self, *args: Any, parents: list[tuple[int, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if parents is None:
            del self.fields["parent"]
        else:
            field = self.fields["parent"]
            assert isinstance(field, forms.TypedChoiceField)
            field.choices = parents


class ProblemForm(_PartForm):
    dimension = forms.TypedChoiceField(
        label="ASAM dimension", choices=AsamDimension.choices, coerce=int
    )
    description = text_field(limits.REASON, label="Problem")

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"dimension": d["dimension"], "description": d["description"]}


class GoalForm(_PartForm):
    text = text_field(
        limits.REASON, label="Goal, in the patient's own words", help_text="Quote the patient."
    )

    def service_kwargs(self) -> dict[str, Any]:
        return {"text": self.cleaned_data["text"]}


class ObjectiveForm(_PartForm):
    text = text_field(
        limits.REASON, label="Measurable objective", help_text="What, how often, by when."
    )
    target_date = BoundedDateField(label="Target date")
    status = forms.ChoiceField(
        label="Status", choices=ObjectiveStatus.choices, initial=ObjectiveStatus.ACTIVE
    )

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"text": d["text"], "target_date": d["target_date"], "status": d["status"]}


class InterventionForm(_PartForm):
    service_type = forms.ChoiceField(label="Service", choices=ServiceType.choices)
    frequency = forms.CharField(
        label="Frequency", max_length=FREQUENCY_MAX, help_text="e.g. 3 groups a week"
    )
    responsible = StaffChoiceField(
        label="Responsible", queryset=User.objects.none(), required=False, empty_label="Not named"
    )

    def __init__(self, *args: Any, staff: QuerySet[User] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if staff is not None:
            field = self.fields["responsible"]
            assert isinstance(field, StaffChoiceField)
            field.queryset = staff

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "service_type": d["service_type"],
            "frequency": d["frequency"],
            "responsible": d["responsible"],
        }


PART_FORMS: dict[str, type[_PartForm]] = {
    "problem": ProblemForm,
    "goal": GoalForm,
    "objective": ObjectiveForm,
    "intervention": InterventionForm,
}


class PlanSignForm(InputGuard, forms.Form):
    confirm = forms.BooleanField(
        label="I have reviewed this plan with the patient and sign it. Once signed it cannot "
        "be changed; corrections are addenda.",
    )


class PatientSignForm(InputGuard, forms.Form):
    method = forms.ChoiceField(
        label="How the patient signs",
        widget=forms.RadioSelect,
        choices=[
            (SignatureMethod.PASSWORD, "With their portal password"),
            (SignatureMethod.ONE_TIME_CODE, "With the code just texted to them"),
        ],
        initial=SignatureMethod.PASSWORD,
    )
    password = forms.CharField(
        label="Portal password (typed by the patient)",
        required=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    code = forms.CharField(
        label="One-time code",
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    confirm = forms.BooleanField(
        label="I, the patient, have read this plan, agree to it and sign it.",
    )

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"method": d["method"], "password": d["password"], "code": d["code"]}


class PortalSignForm(InputGuard, forms.Form):
    confirm = forms.BooleanField(label=_("I have read my treatment plan, agree to it and sign it."))
