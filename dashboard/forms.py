"""The alert queue's dismiss post."""

from __future__ import annotations

from django import forms

from core.forms import InputGuard

from .models import AlertDismissal


class DismissForm(InputGuard, forms.Form):
    # The model's lengths: a longer key is no alert's key, and is refused rather than
    # cut to one that might be.
    key = forms.CharField(max_length=AlertDismissal._meta.get_field("key").max_length)
    note = forms.CharField(
        required=False, max_length=AlertDismissal._meta.get_field("note").max_length
    )
