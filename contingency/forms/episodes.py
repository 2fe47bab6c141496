"""Staff forms of a patient's CM episode: enrol, end, hand out a reward, reconcile it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms

from core import limits
from core.forms import BoundedDateField, InputGuard, text_field

from ..models import Program


class EnrollForm(InputGuard, forms.Form):
    program = forms.ModelChoiceField(
        queryset=Program.objects.none(),
        empty_label=None,
        error_messages={
            "invalid_choice": "Choose an active program of this site.",
            "required": "Choose a program.",
        },
    )
    starts_on = BoundedDateField(
        label="First day that counts",
        error_messages={"invalid": "Enter a date.", "required": "Enter the first day."},
    )
    ends_on = BoundedDateField(
        label="Last day that counts (empty: the program's episode length)",
        required=False,
        error_messages={"invalid": "Enter a date."},
    )

    def __init__(self, *args: Any, programs: list[Program], today: date, **kwargs: Any) -> None:
        kwargs["initial"] = {
            "program": programs[0].pk if programs else None,
            "starts_on": today,
            **(kwargs.get("initial") or {}),
        }
        super().__init__(*args, **kwargs)
        field = self.fields["program"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Program.objects.filter(pk__in=[p.pk for p in programs])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts is not None and ends is not None and ends < starts:
            self.add_error("ends_on", "The last day cannot be before the first.")
        return data


class EndForm(InputGuard, forms.Form):
    reason = text_field(
        limits.SHORT_REASON,
        label="Why the episode ends",
        error_messages={"required": "Say why the episode ends."},
    )


class IssueForm(InputGuard, forms.Form):
    amount = forms.DecimalField(
        label="Amount handed out ($)",
        min_value=Decimal("0.01"),
        max_digits=8,
        decimal_places=2,
        error_messages={
            "invalid": "Enter an amount in dollars.",
            "min_value": "Enter an amount of at least $0.01.",
            "max_digits": "Enter an amount no more than the balance.",
            "max_whole_digits": "Enter an amount no more than the balance.",
            "max_decimal_places": "Enter dollars and cents (two decimal places at most).",
            "required": "Enter the amount handed out.",
        },
    )
    reward_ref = forms.CharField(
        label="Voucher or card id",
        max_length=80,
        error_messages={"required": "Enter the voucher or card id."},
    )
    note = text_field(limits.SHORT_REASON, required=False)

    def __init__(self, *args: Any, balance: Decimal, **kwargs: Any) -> None:
        kwargs["initial"] = {"amount": balance, **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        self.balance = balance

    def clean_amount(self) -> Decimal:
        amount: Decimal = self.cleaned_data["amount"]
        if amount > self.balance:
            raise forms.ValidationError(
                f"The balance is ${self.balance}: hand out no more than that."
            )
        return amount

    def clean_reward_ref(self) -> str:
        ref = str(self.cleaned_data["reward_ref"]).strip()
        if not ref:
            raise forms.ValidationError("Enter the voucher or card id.")
        return ref


class ReconcileForm(InputGuard, forms.Form):
    note = text_field(limits.SHORT_REASON, required=False, rows=1)
