"""Reads for the chart's scores: each instrument's sittings of one patient, oldest first,
with the change since the first sitting in words, and the server-side SVG trend (the
reports' ``core.charts``, with the instrument's bands drawn behind the line).

Generic over ``Instrument.scoring``: an instrument with subscales (BAM) is drawn as one
line per subscale with its flag thresholds (Risk >= 12, Protective <= 12) as reference
lines; one without is drawn as its total over its bands. Every function here runs a fixed
number of queries whatever the number of sittings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Prefetch
from django.http import HttpRequest

from core.access import get_or_deny
from core.charts import Chart, line_chart
from core.formats import format_day
from core.models import Role, User
from patients.access import patients_visible_to
from patients.models import Patient

from .. import scoring
from ..models import Administration, Answer, Instrument

# Scores are clinical content: front desk and collectors see none (records' rule too).
CLINICAL_ROLES = frozenset({Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL})

OPEN = (Administration.Status.DUE, Administration.Status.IN_PROGRESS)
MINUS = "\u2212"

# Line dashes tell the subscales apart without colour (their labels sit at the line's end).
DASHES = ("", "6 4", "2 3", "10 3 2 3")


def signed(delta: int) -> str:
    """+6, -7 written with a true minus sign, 0 as 0."""
    if delta < 0:
        return f"{MINUS}{-delta}"
    return f"+{delta}" if delta > 0 else "0"


def change_text(scoring_data: dict[str, Any], before: int, after: int) -> str:
    """ "Improved (-7)", "Worse (+6)", "No reliable change" by the instrument's reliable
    change; an instrument without one says the plain difference ("Change +2")."""
    if not scoring_data.get("reliable_change"):
        return f"Change {signed(after - before)}"
    verdict = scoring.reliable_change(scoring_data, before, after)
    if verdict == "improved":
        return f"Improved ({signed(after - before)})"
    if verdict == "worsened":
        return f"Worse ({signed(after - before)})"
    return "No reliable change"


def change_kind(scoring_data: dict[str, Any], before: int, after: int) -> str:
    return scoring.reliable_change(scoring_data, before, after)


def mode_text(administration: Administration) -> str:
    if administration.mode == Administration.Mode.WITH_STAFF:
        who = administration.entered_by
        name = (who.get_full_name() or who.username) if who is not None else "staff"
        return f"Entered with patient by {name}"
    return "Patient (portal)"


@dataclass
class Sitting:
    administration: Administration
    day: date  # site-local day of completion
    change: str  # against the first sitting ("" for the first)
    mode: str


@dataclass
class Trend:
    instrument: Instrument  # the newest version among the sittings (its scoring rules)
    sittings: list[Sitting] = field(default_factory=list)  # completed, oldest first
    open: Administration | None = None

    @property
    def first(self) -> Administration | None:
        return self.sittings[0].administration if self.sittings else None

    @property
    def latest(self) -> Administration | None:
        return self.sittings[-1].administration if self.sittings else None

    @property
    def latest_day(self) -> date | None:
        return self.sittings[-1].day if self.sittings else None

    @property
    def change(self) -> str:
        if len(self.sittings) < 2:
            return ""
        return self.sittings[-1].change

    @property
    def has_subscales(self) -> bool:
        return bool(self.instrument.scoring.get("subscales"))

    @property
    def summary(self) -> str:
        """ "PHQ-9 from 18 to 9, improved": the trend chart's accessible title."""
        first, latest = self.first, self.latest
        name = self.instrument.short_name
        if first is None or latest is None:
            return f"{name}: no completed sittings"
        if first.pk == latest.pk:
            return f"{name}: one sitting, {latest.total}"
        verdict = change_kind(self.instrument.scoring, first.total or 0, latest.total or 0)
        words = {"improved": "improved", "worsened": "worse"}.get(verdict, "no reliable change")
        return f"{name} from {first.total} to {latest.total}, {words}"


def trends_for(patient: Patient, *, since: datetime | None = None) -> list[Trend]:
    """Each instrument the patient has sittings of (completed, or open when ``since`` is
    None), by name. One query."""
    qs = Administration.objects.filter(patient=patient).select_related("instrument", "entered_by")
    if since is None:
        qs = qs.filter(status__in=[Administration.Status.COMPLETED, *OPEN])
    else:
        qs = qs.filter(status=Administration.Status.COMPLETED, completed_at__gt=since)
    rows = list(qs)
    rows.sort(key=lambda a: (a.completed_at is None, a.completed_at or a.created_at, a.pk))
    tz = patient.site.tz
    trends: dict[str, Trend] = {}
    for adm in rows:
        trend = trends.get(adm.instrument.code)
        if trend is None:
            trend = trends[adm.instrument.code] = Trend(instrument=adm.instrument)
        elif adm.instrument.pk > trend.instrument.pk:
            trend.instrument = adm.instrument
        if adm.status != Administration.Status.COMPLETED:
            trend.open = adm
            continue
        assert adm.completed_at is not None and adm.total is not None
        first = trend.first
        change = (
            change_text(adm.instrument.scoring, first.total or 0, adm.total)
            if first is not None
            else ""
        )
        trend.sittings.append(
            Sitting(
                administration=adm,
                day=adm.completed_at.astimezone(tz).date(),
                change=change,
                mode=mode_text(adm),
            )
        )
    return sorted(trends.values(), key=lambda t: t.instrument.short_name)


# --- the SVG trend --------------------------------------------------------------------------


@dataclass
class Trace:
    label: str
    points: str
    dash: str
    markers: list[dict[str, Any]]
    end_x: float
    end_y: float


@dataclass
class TrendChart:
    chart: Chart  # axes and ticks (core.charts)
    dom_id: str
    title: str
    description: str
    traces: list[Trace] = field(default_factory=list)
    bands: list[dict[str, Any]] = field(default_factory=list)  # y, h, label, shade
    references: list[dict[str, Any]] = field(default_factory=list)  # y, label
    small: bool = False


def _ceiling(values: list[float]) -> float:
    # Quarters of the axis fall on whole numbers.
    return float(max(4, math.ceil(max(values) / 4) * 4))


def _y(chart: Chart, top: float, value: float) -> float:
    span = chart.plot_bottom - chart.plot_top
    return round(chart.plot_bottom - (min(value, top) / top) * span, 1)


def trend_chart(trend: Trend, tz: ZoneInfo, *, small: bool = False) -> TrendChart | None:
    """The sittings as a line over the instrument's bands, or one line per subscale with
    the subscales' flag thresholds; None without a completed sitting."""
    if not trend.sittings:
        return None
    scoring_data = trend.instrument.scoring
    labels = [format_day(s.day, year=False) for s in trend.sittings]
    first_day = trend.sittings[0].day
    xs = [float((s.day - first_day).days) for s in trend.sittings]
    subscales: dict[str, Any] = scoring_data.get("subscales") or {}
    series: list[tuple[str, list[float]]]
    references: list[tuple[str, float]] = []
    if subscales:
        series = [
            (
                str(sub.get("label", key)),
                [float(s.administration.subscales.get(key, 0)) for s in trend.sittings],
            )
            for key, sub in subscales.items()
        ]
        for sub in subscales.values():
            for flag in sub.get("flags", []):
                if flag.get("op") in (">=", "<=", ">", "<") and float(flag["value"]) > 0:
                    references.append((str(flag["label"]), float(flag["value"])))
        everything = [v for _, values in series for v in values] + [v for _, v in references]
        top = _ceiling(everything)
    else:
        series = [
            ("Total", [float(s.administration.total or 0) for s in trend.sittings]),
        ]
        top = _ceiling([float(scoring_data.get("max_total") or 0), *series[0][1]])
    name = trend.instrument.short_name
    base: Chart | None = None
    traces: list[Trace] = []
    for index, (label, values) in enumerate(series):
        drawn = line_chart(
            f"{name} {label}" if subscales else name,
            "score",
            list(zip(labels, values, strict=True)),
            top=top,
            x_values=xs,
        )
        base = base or drawn
        last = drawn.markers[-1]
        traces.append(
            Trace(
                label=label if subscales else "",
                points=drawn.points,
                dash=DASHES[index % len(DASHES)],
                markers=drawn.markers,
                end_x=last["x"],
                end_y=last["y"],
            )
        )
    assert base is not None
    bands = []
    if not subscales:
        for index, band in enumerate(scoring_data.get("bands", [])):
            low = _y(base, top, float(band["min"]))
            high = _y(base, top, float(band["max"]) + 1)
            bands.append(
                {
                    "x": base.plot_left,
                    "w": base.plot_right - base.plot_left,
                    "y": high,
                    "h": round(low - high, 1),
                    "label": str(band["label"]),
                    "shade": "#f1f3f5" if index % 2 else "#ffffff",
                }
            )
    described = "; ".join(
        f"{format_day(s.day)}: {s.administration.total}"
        + (f" ({s.administration.band})" if s.administration.band else "")
        + (
            " "
            + ", ".join(
                f"{str(sub.get('label', key))} {s.administration.subscales.get(key, 0)}"
                for key, sub in subscales.items()
            )
            if subscales
            else ""
        )
        for s in trend.sittings
    )
    return TrendChart(
        chart=base,
        dom_id=f"trend-{trend.instrument.code}-{'s' if small else 'l'}",
        title=trend.summary,
        description=described,
        traces=traces,
        bands=bands,
        references=[{"y": _y(base, top, v), "label": label} for label, v in references],
        small=small,
    )


# --- one sitting --------------------------------------------------------------------------


def administration_get_for_user(
    user: User, pk: int, *, request: HttpRequest | None = None
) -> Administration:
    """A sitting of a patient the user may see, with its answers and their questions; or
    404 with an audit row. Three queries after the access rule's."""
    visible = patients_visible_to(user)
    return get_or_deny(
        user,
        Administration.objects.filter(patient__in=visible)
        .select_related("instrument", "patient__site", "entered_by")
        .prefetch_related(
            Prefetch("answers", queryset=Answer.objects.select_related("item")),
        ),
        action="measures.administration_view",
        message="No such check-in.",
        request=request,
        pk=pk,
    )


@dataclass
class AnswerRow:
    number: int
    link_id: str
    question: str
    option: str
    value: int | None


def answer_rows(administration: Administration) -> list[AnswerRow]:
    """Each answer with its question and chosen option's text (from the prefetch)."""
    rows = []
    language = administration.language
    for answer in administration.answers.all():
        item = answer.item
        option = item.option(answer.value)
        text = ""
        if option is not None:
            text = str(option.get(language) or option.get("en") or "")
        rows.append(
            AnswerRow(
                number=item.number,
                link_id=item.link_id,
                question=item.text(language),
                option=text,
                value=answer.value,
            )
        )
    return sorted(rows, key=lambda r: r.number)


def active_instruments() -> list[Instrument]:
    """The newest active version of each instrument, by name (one query)."""
    newest: dict[str, Instrument] = {}
    for instrument in Instrument.objects.filter(is_active=True).order_by("pk"):
        newest[instrument.code] = instrument
    return sorted(newest.values(), key=lambda i: i.short_name)
