"""The chart's "Scores" card: each instrument's latest score, band, change since the first
sitting, flags and a small trend, with "Enter with patient" and "Make due now" for every
active instrument. Clinicians only. Two queries whatever the number of sittings: the
patient's sittings (with their instruments and who entered them) and the active
instruments."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from core.access import UserRequest
from core.panels import Panel, register
from patients.models import Patient

from ..selectors.chart import CLINICAL_ROLES, active_instruments, trend_chart, trends_for


@register("chart", order=30)
def chart(request: UserRequest, patient: Patient) -> Panel | None:
    if request.user.role not in CLINICAL_ROLES:
        return None
    trends = trends_for(patient)
    by_code = {trend.instrument.code: trend for trend in trends}
    rows: list[dict[str, Any]] = []
    instruments = active_instruments()
    for instrument in instruments:
        trend = by_code.get(instrument.code)
        rows.append(
            {
                "instrument": instrument,
                "trend": trend,
                "svg": trend_chart(trend, patient.site.tz, small=True) if trend else None,
                "open": trend.open if trend else None,
                "enter_url": reverse("measures:staff_entry", args=[patient.pk, instrument.code]),
            }
        )
    active = {instrument.code for instrument in instruments}
    # A retired instrument's past sittings still show; it takes no new ones.
    rows += [
        {"instrument": t.instrument, "trend": t, "svg": trend_chart(t, patient.site.tz, small=True)}
        for t in trends
        if t.instrument.code not in active
    ]
    return Panel(
        template="measures/panels/chart.html",
        context={
            "patient": patient,
            "rows": rows,
            "scores_url": reverse("measures:patient_scores", args=[patient.pk]),
            "request_url": reverse("measures:request", args=[patient.pk]),
        },
    )
