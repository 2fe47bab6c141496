"""Reads for drug testing: the eligible pool, today's list, the chart timeline, reports."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.functional import cached_property

from core.access import get_or_deny
from core.clock import local_datetime, site_today
from core.models import Site, User
from patients.access import patients_visible_to
from patients.models import (
    OPEN_STATUSES,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    Patient,
    ProgramPhase,
)
from scheduling.models import Holiday, HolidayStatus

from .draws import collection_days_in_period
from .models import (
    AnalyteResult,
    DeadlineKind,
    Draw,
    DrawCorrection,
    DrawPoolEntry,
    Method,
    Outcome,
    Selection,
    Specimen,
    TestAlert,
    TestingPolicy,
    TestResult,
)

Kind = EnrollmentEvent.Kind
HISTORY_KINDS = (Kind.ON_HOLD, Kind.RESUMED, Kind.PHASE, Kind.DISCHARGED)


# A selected patient always has at least this long (inside opening hours) to give the
# specimen: a missed test counts as positive, so it must have been possible to give.
MINIMUM_WINDOW = timedelta(hours=3)
# How far ahead to look for the next clinic day (past weekends and holiday runs).
_LOOKAHEAD_DAYS = 21


def opening_hours(site: Site, day: date) -> tuple[datetime, datetime]:
    return (
        local_datetime(day, site.opens_at, site.tz),
        local_datetime(day, site.closes_at, site.tz),
    )


def _window_length(site: Site, day: date) -> timedelta:
    # A site open for less than the minimum window still gets a window: all of the day.
    opens, closes = opening_hours(site, day)
    return min(MINIMUM_WINDOW, closes - opens)


def deadline_for(policy: TestingPolicy, site: Site, on: date) -> datetime:
    """The policy's deadline on a day, never after the site closes."""
    _, closes = opening_hours(site, on)
    if policy.deadline_kind == DeadlineKind.SESSION:
        return closes
    return min(local_datetime(on, policy.deadline_time, site.tz), closes)


def selection_window(
    policy: TestingPolicy, site: Site, on: date, now: datetime
) -> tuple[datetime, datetime]:
    """(notice, deadline) of a test on ``on`` ordered at ``now``: the notice at the
    order or at opening, whichever is later; the deadline the policy's, but at least the
    minimum window after the notice, and never after closing (so a caller must choose a
    day on which the window still fits: see ``draw_day``)."""
    opens, closes = opening_hours(site, on)
    notice = max(now, opens)
    deadline = min(max(deadline_for(policy, site, on), notice + _window_length(site, on)), closes)
    return notice, deadline


def notice_at(selection: Selection, *, site: Site | None = None) -> datetime:
    """When the patient is told, and from when a specimen counts as this test's: the draw
    or order itself, or, for a test drawn after hours for a later day, the site's opening
    on that day (texts and e-mails also wait out the patient's quiet hours)."""
    site = site or selection.site
    if site_today(site, selection.created_at) >= selection.date:
        return selection.created_at
    opens, _ = opening_hours(site, selection.date)
    return max(selection.created_at, opens)


def window_fits(site: Site, on: date, now: datetime) -> bool:
    opens, closes = opening_hours(site, on)
    return max(now, opens) + _window_length(site, on) <= closes


def collection_weekdays(site: Site) -> frozenset[int]:
    """Weekdays on which any active policy of the site collects."""
    days: set[int] = set()
    for codes in TestingPolicy.objects.filter(site=site, is_active=True).values_list(
        "collection_days", flat=True
    ):
        days.update(int(c) for c in codes)
    return frozenset(days)


def next_clinic_day(site: Site, after: date) -> date:
    """The first day after ``after`` on which the site collects and is not closed for a
    holiday (``scheduling.Holiday``)."""
    weekdays = collection_weekdays(site) or frozenset(range(7))
    last = after + timedelta(days=_LOOKAHEAD_DAYS)
    closed = set(
        Holiday.objects.filter(
            site=site, status=HolidayStatus.CLOSED, date__gt=after, date__lte=last
        ).values_list("date", flat=True)
    )
    day = after + timedelta(days=1)
    while day < last and (day.weekday() not in weekdays or day in closed):
        day += timedelta(days=1)
    return day


def draw_day(site: Site, now: datetime) -> date:
    """The site-local day a draw run at ``now`` is for: today, unless today's opening
    hours no longer leave a fair window, in which case the next clinic day."""
    today = site_today(site, now)
    # A holiday's own draw still happens, for the record, with an empty pool.
    if window_fits(site, today, now):
        return today
    return next_clinic_day(site, today)


def is_closed(site: Site, day: date) -> bool:
    """Closed for a holiday (a day the director removed from the list is a working day)."""
    return Holiday.objects.filter(site=site, date=day, status=HolidayStatus.CLOSED).exists()


# --- the eligible pool ------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    patient_id: int
    enrollment_id: int
    policy_id: int
    p_num: int
    p_den: int


def active_policies(site: Site) -> tuple[dict[int, TestingPolicy], TestingPolicy | None]:
    by_phase, default = {}, None
    for policy in TestingPolicy.objects.filter(site=site, is_active=True):
        if policy.phase_id is None:
            default = policy
        else:
            by_phase[policy.phase_id] = policy
    return by_phase, default


def policy_for(
    phase_id: int | None, by_phase: dict[int, TestingPolicy], default: TestingPolicy | None
) -> TestingPolicy | None:
    return by_phase.get(phase_id, default) if phase_id is not None else default


def _state_on(
    enrollment_id: int,
    events: list[tuple[str, str]],
    phase_ids: dict[str, int],
    fallback_phase: int | None,
) -> tuple[str, int | None]:
    """Status and phase of an enrollment on a day, replayed from its history."""
    status, phase = EnrollmentStatus.ACTIVE, None
    seen_phase = False
    for kind, to_value in events:
        if kind == Kind.ON_HOLD:
            status = EnrollmentStatus.ON_HOLD
        elif kind == Kind.RESUMED:
            status = EnrollmentStatus.ACTIVE
        elif kind == Kind.PHASE:
            phase, seen_phase = phase_ids.get(to_value, fallback_phase), True
    return status, (phase if seen_phase else None)


def eligible_pool(site: Site, on: date) -> list[Candidate]:
    """Patients with an enrollment at the site that is active (not on hold, not
    discharged) on the site-local day ``on``, with their policy's chance for that day.

    Current values describe today; an enrollment whose history has a hold, resume, phase
    change or discharge after ``on`` is replayed from its history instead, so a draw for
    a past day (the demo, a late run) sees the pool as it was.
    """
    by_phase, default = active_policies(site)
    if not by_phase and default is None:
        return []
    # The clinic is closed: nobody can be asked to come in.
    if is_closed(site, on):
        return []
    rows = list(
        Enrollment.objects.filter(site=site, admission_date__lte=on, patient__is_archived=False)
        .filter(Q(discharge_date__isnull=True) | Q(discharge_date__gte=on))
        .order_by("patient_id", "admission_date", "pk")
        .values_list("pk", "patient_id", "status", "phase_id")
    )
    changed_later = set(
        EnrollmentEvent.objects.filter(
            enrollment__site=site, kind__in=HISTORY_KINDS, effective_date__gt=on
        ).values_list("enrollment_id", flat=True)
    )
    replay = {pk for pk, _, status, _ in rows if pk in changed_later or status == "discharged"}
    history: dict[int, list[tuple[str, str]]] = defaultdict(list)
    phase_ids: dict[str, int] = {}
    if replay:
        for enrollment_id, kind, to_value in (
            EnrollmentEvent.objects.filter(
                enrollment_id__in=replay, kind__in=HISTORY_KINDS, effective_date__lte=on
            )
            .order_by("effective_date", "recorded_at", "pk")
            .values_list("enrollment_id", "kind", "to_value")
        ):
            history[enrollment_id].append((kind, to_value))
        phase_ids = {
            name: pk
            for pk, name in ProgramPhase.objects.filter(site=site).values_list("pk", "name")
        }
    weekday = on.weekday()
    days_cache: dict[int, int] = {}
    pool: dict[int, Candidate] = {}
    for pk, patient_id, status, row_phase_id in rows:
        phase_id: int | None = row_phase_id
        if pk in replay:
            status, phase_id = _state_on(pk, history[pk], phase_ids, phase_id)
        if status != EnrollmentStatus.ACTIVE:
            continue
        policy = policy_for(phase_id, by_phase, default)
        if policy is None or weekday not in policy.weekdays:
            continue
        if policy.pk not in days_cache:
            days_cache[policy.pk] = collection_days_in_period(policy.weekdays, policy.period, on)
        den = days_cache[policy.pk]
        # A readmission on the same day leaves two rows; the later admission wins.
        pool[patient_id] = Candidate(patient_id, pk, policy.pk, min(policy.frequency, den), den)
    return [pool[k] for k in sorted(pool)]


# --- access-checked getters -------------------------------------------------


def sites_for(user: User) -> QuerySet[Site]:
    staff = user.staff
    if staff is None:
        return Site.objects.none()
    qs = Site.objects.filter(organization_id=staff.organization_id, is_active=True)
    if staff.sees_all_sites:
        return qs
    return qs.filter(pk__in=staff.sites.values("pk"))


def site_for_user(user: User, site_id: int | str | None) -> Site:
    site = sites_for(user).filter(pk=site_id).first() if site_id else None
    if site is None:
        raise Http404("No such site.")
    return site


def selection_get_for_user(user: User, pk: int) -> Selection:
    return get_or_deny(
        user,
        Selection.objects.select_related("patient", "site", "policy", "draw").filter(
            patient__in=patients_visible_to(user)
        ),
        action="drugtests.selection_view",
        message="No such test.",
        detail={"selection_pk": pk},
        pk=pk,
    )


def draw_get_for_user(user: User, pk: int) -> Draw:
    return get_or_deny(
        user,
        Draw.objects.select_related("site", "created_by").filter(site__in=sites_for(user)),
        action="drugtests.draw_view",
        message="No such draw.",
        detail={"draw_pk": pk},
        pk=pk,
    )


def alert_get_for_user(user: User, pk: int) -> TestAlert:
    return get_or_deny(
        user,
        TestAlert.objects.filter(patient__in=patients_visible_to(user)),
        action="drugtests.alert_view",
        message="No such alert.",
        detail={"alert_pk": pk},
        pk=pk,
    )


# --- what the pages read ------------------------------------------------------


def open_alerts(user: User, site: Site) -> list[TestAlert]:
    """Unresolved alerts of the site about patients the user may see (at most 50)."""
    return list(
        TestAlert.objects.filter(
            site=site,
            resolved_at__isnull=True,
            patient__in=patients_visible_to(user),
        ).select_related("patient")[:50]
    )


def walk_in_patients(user: User) -> QuerySet[Patient]:
    """Who a walk-in specimen may be for: visible patients with an open enrollment."""
    return patients_visible_to(user).filter(enrollments__status__in=OPEN_STATUSES).distinct()


def specimen_of(selection: Selection, *, with_collector: bool = False) -> Specimen | None:
    qs = Specimen.objects.filter(selection=selection)
    if with_collector:
        qs = qs.select_related("collected_by")
    return qs.first()


# A lab not used for this long is no longer the site's usual one (contracts change).
USUAL_LAB_DAYS = 90


def usual_lab(site: Site, *, now: datetime | None = None) -> str:
    """The laboratory whose result was last recorded for a test at ``site`` in the past
    ``USUAL_LAB_DAYS`` days of the site's calendar, or "" (the result form's default)."""
    today = site_today(site, now)
    since = local_datetime(today - timedelta(days=USUAL_LAB_DAYS), time(0), site.tz)
    return (
        TestResult.objects.filter(
            source=Method.LAB, specimen__selection__site=site, entered_at__gte=since
        )
        .exclude(lab_name="")
        .order_by("-entered_at", "-pk")
        .values_list("lab_name", flat=True)
        .first()
    ) or ""


def specimen_results(specimen: Specimen) -> list[TestResult]:
    """Every report on the specimen with its readings, superseded ones included (with
    the reading that replaced them and when it came): the result page shows the history."""
    readings = AnalyteResult.objects.select_related("superseded_by__result")
    return list(
        specimen.results.prefetch_related(Prefetch("analytes", queryset=readings)).select_related(
            "entered_by"
        )
    )


def recent_draws(site: Site) -> QuerySet[Draw]:
    return Draw.objects.filter(site=site).order_by("-seq")[:60]


def draw_pool(draw: Draw) -> QuerySet[DrawPoolEntry]:
    return draw.pool.select_related("patient", "policy").order_by("patient_id")


def draw_corrections(draw: Draw) -> QuerySet[DrawCorrection]:
    return draw.corrections.select_related("selection")


# --- today's list -------------------------------------------------------------


DAY_LIST_PAGE_SIZE = 50
# A day's list at one site never needs more pages than this (50 x 200 = 10,000 tests);
# the filter form refuses a larger number before it reaches the database.
DAY_LIST_MAX_PAGE = 200


class _CountedPaginator(Paginator[Selection]):
    """A paginator told its total: the day's counts by status are already read (one
    aggregate query), so the page costs one more query rather than a COUNT and a page."""

    def __init__(self, object_list: QuerySet[Selection], per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


@dataclass
class TodayList:
    site: Site
    on: date
    page: Page[Selection]
    counts: dict[str, int] = field(default_factory=dict)
    draw: Draw | None = None
    status: str = ""

    @property
    def status_options(self) -> list[tuple[str, str, int]]:
        """(status, label, the day's count) for the filter."""
        return [(v, str(label), self.counts.get(v, 0)) for v, label in Selection.Status.choices]

    @property
    def rows(self) -> list[Selection]:
        """The page's selections (read once: the page caches its slice)."""
        if not isinstance(self.page.object_list, list):
            self.page.object_list = list(self.page.object_list)
        return self.page.object_list


def today_list(
    user: User,
    site: Site,
    now: datetime | None = None,
    *,
    status: str = "",
    page: int = 1,
    per_page: int | None = None,
) -> TodayList:
    """One page of the day's tests at ``site`` the user may see, optionally of one
    status, with the whole day's counts by status. Three queries whatever the size of the
    day (counts, page, draw), plus what ``patients_visible_to`` reads up front for a
    counselor. A page past the last raises ``InvalidPage`` (the view answers 404)."""
    on = site_today(site, now)
    day = Selection.objects.filter(site=site, date=on, patient__in=patients_visible_to(user))
    # Every status counted in one aggregate row (a status without tests counts 0).
    counts: dict[str, int] = day.aggregate(
        **{value: Count("pk", filter=Q(status=value)) for value in Selection.Status.values}
    )
    counts["selected"] = sum(counts.values())
    if status:
        day = day.filter(status=status)
    rows = day.select_related("patient", "policy", "specimen").order_by(
        "status", "patient__legal_last_name", "pk"
    )
    total = counts[status] if status else counts["selected"]
    paged = _CountedPaginator(rows, per_page or DAY_LIST_PAGE_SIZE, count=total).page(page)
    draw = Draw.objects.filter(site=site, date=on).first()
    return TodayList(site=site, on=on, page=paged, counts=counts, draw=draw, status=status)


def labels_to_print(user: User, site: Site, now: datetime | None = None) -> list[Selection]:
    """Today's tests still to collect at ``site``, for the morning's labels (one query)."""
    return list(
        Selection.objects.filter(
            site=site,
            date=site_today(site, now),
            status=Selection.Status.PENDING,
            patient__in=patients_visible_to(user),
        )
        .select_related("patient", "policy", "site")
        .order_by("patient__legal_last_name", "patient__legal_first_name", "pk")
    )


def counts_for_sites(sites: list[Site], now: datetime) -> dict[str, int]:
    """Today's counts per status over several sites, in one query (staff home panel)."""
    q = Q(pk__in=[])
    for s in sites:
        q |= Q(site_id=s.pk, date=timezone.localdate(now, s.tz))
    out = dict.fromkeys(Selection.Status.values, 0)
    for row in Selection.objects.filter(q).values("status").annotate(n=Count("pk")):
        out[row["status"]] = row["n"]
    out["selected"] = sum(out.values())
    return out


def counts_positive(selection: Selection, policy: TestingPolicy) -> bool:
    """Compliance: a positive, and (per policy) a missed, refused or invalid test."""
    if selection.outcome == Outcome.POSITIVE:
        return True
    return policy.missed_counts_positive and selection.outcome in (
        Outcome.MISSED,
        Outcome.REFUSED,
        Outcome.INVALID,
    )
