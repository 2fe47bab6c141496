"""The director's CM program form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Fieldset, Layout, Row, Submit
from django import forms

from core.forms import InputGuard
from core.models import Site
from drugtests.models import Analyte

from ..models import Program, RewardKind, Target
from ..services.programs import MAX_MONEY, MAX_PER_RESULT, RESTORE_MOST, WEEKS_RANGE


def _money(label: str, most: Decimal, **kwargs: Any) -> forms.DecimalField:
    message = f"Enter an amount in dollars from $0 to ${most}."
    return forms.DecimalField(
        label=label,
        min_value=Decimal("0"),
        max_value=most,
        max_digits=8,
        decimal_places=2,
        error_messages={
            "invalid": message,
            "min_value": message,
            "max_value": message,
            "max_digits": message,
            "max_decimal_places": "Enter dollars and cents (two decimal places at most).",
            "max_whole_digits": message,
            "required": message,
        },
        **kwargs,
    )


def _count(label: str, least: int, most: int, unit: str) -> forms.IntegerField:
    message = f"Enter a number of {unit} from {least} to {most}."
    return forms.IntegerField(
        label=label,
        min_value=least,
        max_value=most,
        error_messages=dict.fromkeys(("invalid", "min_value", "max_value", "required"), message),
    )


class ProgramForm(InputGuard, forms.Form):
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of your sites."},
    )
    name = forms.CharField(max_length=120, error_messages={"required": "Give the program a name."})
    target = forms.ChoiceField(
        choices=Target.choices,
        error_messages={"invalid_choice": "Choose a target from the list."},
    )
    target_analytes = forms.MultipleChoiceField(
        label="Analytes that decide a test (the others do not count)",
        choices=Analyte.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": "Unknown analyte: %(value)s."},
    )
    start_amount = _money("First reward ($)", MAX_PER_RESULT)
    step_amount = _money("Added for each consecutive qualifying result ($)", MAX_PER_RESULT)
    max_amount = _money("Most one result earns ($)", MAX_PER_RESULT)
    reset_on_positive = forms.BooleanField(label="A positive test resets", required=False)
    reset_on_missed = forms.BooleanField(label="A missed test resets", required=False)
    reset_on_refused = forms.BooleanField(label="A refused test resets", required=False)
    restore_after = _count(
        "After a reset, restore the earlier step after this many qualifying results (0: never)",
        0,
        RESTORE_MOST,
        "results",
    )
    episode_cap = _money("Cap per episode ($)", MAX_MONEY)
    year_cap = _money("Cap per calendar year ($)", MAX_MONEY)
    episode_weeks = _count("Episode length (weeks)", *WEEKS_RANGE, "weeks")
    reward_kind = forms.ChoiceField(
        label="Reward",
        choices=RewardKind.choices,
        help_text="No cash: vouchers, gift cards or prize draws only (SAMHSA).",
        error_messages={"invalid_choice": "Choose a voucher, a gift card or a prize draw."},
    )
    is_active = forms.BooleanField(label="Active (new episodes may start)", required=False)

    def __init__(
        self, *args: Any, sites: list[Site], program: Program | None = None, **kwargs: Any
    ) -> None:
        if program is not None:
            kwargs["initial"] = {
                "site": program.site_id,
                **{name: getattr(program, name) for name in self.base_fields if name != "site"},
                **(kwargs.get("initial") or {}),
            }
        else:
            defaults = Program()
            kwargs["initial"] = {
                "site": sites[0].pk if sites else None,
                "name": "Recovery incentives",
                **{
                    name: getattr(defaults, name)
                    for name in self.base_fields
                    if name not in ("site", "name")
                },
                **(kwargs.get("initial") or {}),
            }
        super().__init__(*args, **kwargs)
        site_field = self.fields["site"]
        assert isinstance(site_field, forms.ModelChoiceField)
        site_field.queryset = Site.objects.filter(pk__in=[s.pk for s in sites]).order_by("name")
        if program is not None:
            # A program stays at its site: its episodes and ledgers are that site's.
            del self.fields["site"]
        self.helper = FormHelper()
        self.helper.layout = Layout(
            *(["site"] if program is None else []),
            "name",
            "target",
            "target_analytes",
            Fieldset(
                "Escalating schedule",
                Row(
                    Column("start_amount", css_class="col-12 col-md-4"),
                    Column("step_amount", css_class="col-12 col-md-4"),
                    Column("max_amount", css_class="col-12 col-md-4"),
                ),
                "reset_on_positive",
                "reset_on_missed",
                "reset_on_refused",
                "restore_after",
            ),
            Fieldset(
                "Caps and episode",
                Row(
                    Column("episode_cap", css_class="col-12 col-md-4"),
                    Column("year_cap", css_class="col-12 col-md-4"),
                    Column("episode_weeks", css_class="col-12 col-md-4"),
                ),
            ),
            "reward_kind",
            "is_active",
            HTML(
                '<p class="form-text" data-testid="amounts-note">A change applies to '
                "results evaluated from now on; rewards already in a ledger keep their "
                "own amounts.</p>"
            ),
        )
        self.helper.add_input(Submit("submit", "Save program"))

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("site", None)
        return data
