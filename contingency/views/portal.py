"""The patient's own rewards page: current step, what the next qualifying result earns,
balance, history and rewards received, in plain words."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext

from core import audit
from core.access import PortalRequest, patient_required

from ..models import CMEnrollment, LedgerEntry, Target
from ..selectors.ledger import episode_state
from ..selectors.screens import describe, patient_episodes, portal_history


@patient_required
def mine(request: PortalRequest) -> HttpResponse:
    patient = request.patient
    episodes = patient_episodes(patient)
    episode = episodes[0] if episodes else None
    context: dict[str, object] = {"patient": patient, "episode": episode}
    if episode is not None:
        entries = portal_history(episode)
        context.update(
            active=episode.status == CMEnrollment.Status.ACTIVE,
            state=episode_state(episode),
            qualifying=(
                gettext("attended session")
                if episode.program.target == Target.ATTENDANCE
                else gettext("negative test")
            ),
            history=[
                {"entry": e, "words": describe(e, patient_view=True)}
                for e in entries
                if e.kind != LedgerEntry.Kind.ISSUED
            ],
            received=[e for e in entries if e.kind == LedgerEntry.Kind.ISSUED],
        )
    audit.record(
        action="contingency.portal_view",
        request=request,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=episode or patient,
    )
    return render(request, "contingency/mine.html", context)
