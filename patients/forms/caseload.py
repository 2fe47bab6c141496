"""The caseload's filters."""

from __future__ import annotations

from typing import Any, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.urls import reverse

from core.forms import InputGuard
from core.models import Site, User

from ..models import Enrollment, ProgramLevel, ProgramPhase, Track
from ..selectors import CaseloadStatus, patients_visible_to, sites_for
from ._common import CounselorChoiceField


class SiteLabelledChoiceField(forms.ModelChoiceField[Track | ProgramPhase]):
    """Phases and tracks are per site; name the site when the user works at several."""

    def __init__(self, *args: Any, show_site: bool = False, **kwargs: Any) -> None:
        self.show_site = show_site
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Track | ProgramPhase) -> str:
        return f"{obj.site.name} · {obj.name}" if self.show_site else obj.name


class CaseloadFilterForm(InputGuard, forms.Form):
    q = forms.CharField(label="Name or MRN", required=False)
    site: forms.ModelChoiceField[Site] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="All sites"
    )
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

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sites = list(sites_for(user))
        site_ids = [s.pk for s in sites]
        several = len(sites) > 1
        cast("forms.ModelChoiceField[Site]", self.fields["site"]).queryset = sites_for(user)
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
        track_ids: set[int | None] = set()
        counselor_ids: set[int | None] = set()
        for track_id, counselor_id in pairs:
            track_ids.add(track_id)
            counselor_ids.add(counselor_id)
        track = cast(SiteLabelledChoiceField, self.fields["track"])
        track.queryset = Track.objects.filter(pk__in=track_ids).select_related("site")
        track.show_site = several
        phase = cast(SiteLabelledChoiceField, self.fields["phase"])
        phase.queryset = ProgramPhase.objects.filter(site_id__in=site_ids).select_related("site")
        phase.show_site = several
        cast(CounselorChoiceField, self.fields["counselor"]).queryset = User.objects.filter(
            pk__in=counselor_ids
        ).order_by("last_name", "first_name", "username")
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

    def filters(self) -> dict[str, Any]:
        # A stale or hand-edited value (e.g. a track id from another site) is dropped and
        # shown as an error; the other filters still apply.
        self.is_valid()
        valid = getattr(self, "cleaned_data", {})
        data = {k: v for k, v in valid.items() if v not in (None, "")}
        data.setdefault("status", CaseloadStatus.OPEN)
        return data
