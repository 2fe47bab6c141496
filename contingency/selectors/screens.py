"""Reads of the CM screens: what a staff user may open, the CM dashboard, the portal's
history. Each runs a fixed number of queries whatever the number of episodes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from core import clock
from core.formats import format_day
from core.models import Role, Site, User
from drugtests.models import Analyte
from patients.access import patients_visible_to
from patients.models import Patient
from scheduling.selectors.access import sites_for

from ..models import STIMULANTS, CMEnrollment, LedgerEntry, Program

# Who works with rewards: the clinicians and the front desk that hands cards out.
CM_ROLES = (Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK)
ZERO = Decimal("0.00")
ENDING_WITHIN_DAYS = 14


def programs_for(user: User) -> QuerySet[Program]:
    """Programs of the sites the user works at (every site of the organisation for a
    director)."""
    return Program.objects.filter(site__in=sites_for(user)).select_related("site")


def active_programs(site: Site) -> list[Program]:
    return list(Program.objects.filter(site=site, is_active=True).order_by("name", "pk"))


def episodes_visible_to(user: User) -> QuerySet[CMEnrollment]:
    """Episodes of the patients the user may see (``patients_visible_to``)."""
    return CMEnrollment.objects.filter(patient__in=patients_visible_to(user)).select_related(
        "patient__site", "program__site", "enrolled_by"
    )


def entries_visible_to(user: User) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(patient__in=patients_visible_to(user)).select_related(
        "enrollment__program", "enrollment__patient__site", "patient"
    )


def _latest(column: str) -> Subquery:
    return Subquery(
        LedgerEntry.objects.filter(enrollment=OuterRef("pk")).order_by("-seq").values(column)[:1]
    )


def with_state(episodes: QuerySet[CMEnrollment]) -> QuerySet[CMEnrollment]:
    """Episodes with their last ledger line's state as attributes (None before the first
    line): ``last_balance``, ``last_next_step``, ``last_episode_total``,
    ``last_year_total``, ``last_year``. One query for any number of episodes."""
    return episodes.annotate(
        last_balance=_latest("balance"),
        last_next_step=_latest("next_step"),
        last_episode_total=_latest("episode_total"),
        last_year_total=_latest("year_total"),
        last_year=_latest("year"),
    )


@dataclass
class EpisodeRow:
    episode: CMEnrollment
    balance: Decimal
    step: int
    episode_total: Decimal
    year_total: Decimal
    days_left: int


def _row(episode: CMEnrollment, today: date) -> EpisodeRow:
    this_year = getattr(episode, "last_year", None) == today.year
    return EpisodeRow(
        episode=episode,
        balance=getattr(episode, "last_balance", None) or ZERO,
        step=getattr(episode, "last_next_step", None) or 1,
        episode_total=getattr(episode, "last_episode_total", None) or ZERO,
        year_total=(getattr(episode, "last_year_total", None) or ZERO) if this_year else ZERO,
        days_left=(episode.ends_on - today).days,
    )


def unreconciled_for(entries: QuerySet[LedgerEntry]) -> QuerySet[LedgerEntry]:
    """Rewards handed out and not yet reconciled, oldest first."""
    reconciled = LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.RECONCILED, related=OuterRef("pk")
    )
    return (
        entries.filter(kind=LedgerEntry.Kind.ISSUED)
        .exclude(Exists(reconciled))
        .select_related("created_by")
        .order_by("occurred_on", "created_at", "pk")
    )


@dataclass
class Dashboard:
    sites: list[Site]
    episodes: list[EpisodeRow] = field(default_factory=list)
    due: list[EpisodeRow] = field(default_factory=list)
    ending: list[EpisodeRow] = field(default_factory=list)
    unreconciled: list[LedgerEntry] = field(default_factory=list)

    @property
    def due_total(self) -> Decimal:
        return sum((r.balance for r in self.due), ZERO)


def dashboard(user: User) -> Dashboard:
    """The CM dashboard of the user's sites, for the patients the user may see: rewards
    due (largest balance first), every active episode, rewards not reconciled (oldest
    first), episodes ending within two weeks. Three queries."""
    sites = list(sites_for(user).order_by("name"))
    episodes = list(
        with_state(
            episodes_visible_to(user).filter(
                status=CMEnrollment.Status.ACTIVE, program__site__in=[s.pk for s in sites]
            )
        ).order_by("patient__legal_last_name", "patient__legal_first_name", "pk")
    )
    rows = [_row(e, clock.site_today(e.patient.site)) for e in episodes]
    unreconciled = list(
        unreconciled_for(entries_visible_to(user).filter(enrollment__program__site__in=sites))
    )
    return Dashboard(
        sites=sites,
        episodes=rows,
        due=sorted((r for r in rows if r.balance > 0), key=lambda r: (-r.balance, r.episode.pk)),
        ending=sorted(
            (r for r in rows if r.days_left <= ENDING_WITHIN_DAYS),
            key=lambda r: (r.episode.ends_on, r.episode.pk),
        ),
        unreconciled=unreconciled,
    )


def patient_episodes(patient: Patient) -> list[CMEnrollment]:
    """A patient's episodes, the active one first, with their last line's state."""
    return sorted(
        with_state(
            CMEnrollment.objects.filter(patient=patient).select_related(
                "program__site", "enrolled_by"
            )
        ),
        key=lambda e: (e.status != CMEnrollment.Status.ACTIVE, -e.starts_on.toordinal(), -e.pk),
    )


def portal_history(episode: CMEnrollment) -> list[LedgerEntry]:
    """What the patient reads of their ledger: results that earned (or did not) and
    rewards handed out, newest first (reconciliations are the clinic's bookkeeping)."""
    return list(
        LedgerEntry.objects.filter(enrollment=episode)
        .exclude(kind=LedgerEntry.Kind.RECONCILED)
        .order_by("-seq")
    )


def fortnight(today: date) -> date:
    return today + timedelta(days=ENDING_WITHIN_DAYS)


def analytes_label(analytes: list[str]) -> str:
    """ "stimulants" for the default set, else the analytes' names."""
    if set(analytes) == {str(a) for a in STIMULANTS}:
        return "stimulants"
    names = dict(Analyte.choices)
    return ", ".join(str(names.get(a, a)).split(" (")[0].lower() for a in analytes)


def _money(value: Decimal) -> str:
    return f"${abs(value):,.2f}"


_RESULT_WORDS: dict[str, StrOrPromise] = {
    LedgerEntry.Reason.NEGATIVE: gettext_lazy("Negative test"),
    LedgerEntry.Reason.CAPPED: gettext_lazy("Qualifying result"),
    LedgerEntry.Reason.POSITIVE: gettext_lazy("Positive test"),
    LedgerEntry.Reason.MISSED: gettext_lazy("Missed test"),
    LedgerEntry.Reason.REFUSED: gettext_lazy("Refused test"),
    LedgerEntry.Reason.INVALID: gettext_lazy("Invalid specimen"),
    LedgerEntry.Reason.ATTENDED: gettext_lazy("Attended session"),
    LedgerEntry.Reason.ABSENT: gettext_lazy("Missed session"),
}


def describe(entry: LedgerEntry, *, analytes: str = "", patient_view: bool = False) -> str:
    """One ledger line in words: "Negative test on Tue Nov 3 (stimulants): step 4,
    earned $14.50". The portal's words (``patient_view``) name no analyte. In the active
    language: the portal shows it to the patient in theirs."""
    day = format_day(entry.occurred_on, year=False)
    result = _RESULT_WORDS.get(entry.reason, entry.get_reason_display())
    what = _("%(result)s on %(day)s") % {"result": result, "day": day}
    if analytes and not patient_view and entry.selection_id is not None:
        what += f" ({analytes})"
    kind = entry.kind
    money = _money(entry.amount) if entry.amount is not None else ""
    if kind == LedgerEntry.Kind.EARNED:
        if entry.amount > 0:
            return _("%(what)s: step %(step)s, earned %(money)s") % {
                "what": what,
                "step": entry.step,
                "money": money,
            }
        return _("%(what)s: step %(step)s, nothing more to earn (cap reached)") % {
            "what": what,
            "step": entry.step,
        }
    if kind == LedgerEntry.Kind.NOT_EARNED:
        if entry.reason == LedgerEntry.Reason.CAPPED:
            return _("%(what)s: nothing more to earn (cap reached)") % {"what": what}
        return _("%(what)s: nothing earned; the next one earns step %(step)s") % {
            "what": what,
            "step": entry.next_step,
        }
    if kind == LedgerEntry.Kind.REVERSAL:
        return _(
            "Corrected on %(day)s: a lab confirmation overturned an earlier result, "
            "%(money)s taken off"
        ) % {"day": day, "money": money}
    if kind == LedgerEntry.Kind.ISSUED:
        return _("Reward handed out on %(day)s: %(money)s") % {"day": day, "money": money}
    return _("Reconciled on %(day)s") % {"day": day}
