"""What a clinician owes: drafts, notes due, plans due for review, co-signatures waiting.

Each list runs a fixed number of queries whatever the data size (the staff home shows
the counts on every load, and the queue page is pinned in the tests). "Today" is each
record's own site's day: a clinician may work at two sites in two time zones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from django.db import connection
from django.db.models import Count, Exists, Func, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest

from core import clock
from core.access import get_or_deny, site_ids_for
from core.models import Role, Site, User
from patients.access import patients_visible_to
from patients.models import OPEN_STATUSES, Enrollment, Patient
from scheduling.models import (
    ATTENDED_STATUSES,
    Attendance,
    Holiday,
    HolidayStatus,
    Session,
    SessionStatus,
    SiteSchedule,
)

from ..models import (
    GroupNote,
    PlanVersion,
    ProgressNote,
    RecordSettings,
    RecordStatus,
    ServiceType,
)
from ..services._common import CLINICAL_ROLES
from .common import EpisodePlanDue, plans_due

# A held group session with no signed note is owed for this long. Sessions held before
# the clinical record existed have no note and never will (their old free-text note is
# carried over as a draft group note, which the drafts list shows); older gaps are the
# director's business in the note-timeliness report, not an ever-growing to-do list.
SESSION_LOOKBACK_DAYS = 60
# A plan review shows in the queue this many days before it falls due.
PLAN_DUE_SOON_DAYS = 7
# A queue is worked from the top: each list shows its first QUEUE_SHOWN items (the most
# overdue or the longest waiting first) and says how many more wait. The co-signature
# lists read no more than that and count the rest in the same query, so a supervisor's
# queue reads the same rows whatever the backlog (the bench's director had hundreds
# waiting, and reading them all was most of the page).
QUEUE_SHOWN = 50


# --- whose queue a user may open --------------------------------------------------


def clinicians_visible_to(user: User) -> QuerySet[User]:
    """The clinicians whose queue ``user`` may open: themselves, the people they
    supervise, and for a director every clinician working at one of their sites."""
    staff = user.staff
    if staff is None or not user.is_active or staff.role not in CLINICAL_ROLES:
        return User.objects.none()
    rule = Q(pk=user.pk) | Q(staff_profile__supervisor=user)
    if staff.role == Role.DIRECTOR:
        site_ids = site_ids_for(user)
        colleagues = Q(staff_profile__role__in=CLINICAL_ROLES)
        if site_ids is not None:
            colleagues &= Q(staff_profile__sites__in=site_ids)
        rule |= colleagues
    return (
        User.objects.filter(
            rule,
            is_active=True,
            staff_profile__organization_id=staff.organization_id,
        )
        .select_related("staff_profile")
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def clinician_get_for_user(user: User, pk: int, *, request: HttpRequest | None = None) -> User:
    return get_or_deny(
        user,
        clinicians_visible_to(user),
        action="records.queue_view",
        message="No such clinician.",
        detail={"clinician": pk},
        request=request,
        pk=pk,
    )


# --- the business-day calendar of several sites at once -----------------------------


class DueCalendar:
    """``clocks.note_due_on`` for many (site, day) pairs in two queries: the sites'
    open weekdays and record rules, and their closed holidays in the window, read once."""

    def __init__(
        self, sites: Iterable[Site], start: date, end: date, *, sites_read: bool = False
    ) -> None:
        """``sites_read``: the sites came with their ``schedule`` and ``record_settings``
        (select_related by the caller), so they are not read again."""
        sites = list(sites)
        site_ids = {s.pk for s in sites}
        # The sites' schedules and record rules in one query (both one-to-one).
        rows = (
            sites
            if sites_read
            else Site.objects.filter(pk__in=site_ids).select_related("schedule", "record_settings")
        )
        self.open: dict[int, set[int]] = {}
        self.rules: dict[int, RecordSettings] = {}
        for row in rows:
            schedule: SiteSchedule | None = getattr(row, "schedule", None)
            self.open[row.pk] = (schedule.open_weekdays if schedule else set()) or {0, 1, 2, 3, 4}
            rules: RecordSettings | None = getattr(row, "record_settings", None)
            if rules is not None:
                self.rules[row.pk] = rules
        # Generous: a due date lies at most ``count`` business days past the service.
        self.closed: set[tuple[int, date]] = set(
            Holiday.objects.filter(
                site_id__in=site_ids,
                status=HolidayStatus.CLOSED,
                date__gt=start,
                date__lte=end + timedelta(days=120),
            ).values_list("site_id", "date")
        )

    def note_due_on(self, site: Site, service_date: date, service_type: str) -> date:
        if service_type == ServiceType.CRISIS:
            return service_date + timedelta(days=1)
        rules = self.rules.get(site.pk) or RecordSettings(site=site)
        count = rules.note_due_business_days
        open_days = self.open.get(site.pk) or {0, 1, 2, 3, 4}
        day, found = service_date, 0
        while found < count and day < service_date + timedelta(days=400):
            day += timedelta(days=1)
            if day.weekday() in open_days and (site.pk, day) not in self.closed:
                found += 1
        return day


# --- the queue -----------------------------------------------------------------------


@dataclass(frozen=True)
class OwedSession:
    """A group session the clinician facilitated, held with patients present, and no
    signed group note yet (perhaps a draft)."""

    session: Session
    due_on: date
    draft: GroupNote | None
    today: date
    kind = "session"

    @property
    def overdue(self) -> bool:
        return self.due_on < self.today

    @property
    def due_today(self) -> bool:
        return self.due_on == self.today


@dataclass(frozen=True)
class DueNote:
    note: ProgressNote
    today: date
    kind = "note"

    @property
    def due_on(self) -> date:
        return self.note.due_on

    @property
    def overdue(self) -> bool:
        return self.note.due_on < self.today

    @property
    def due_today(self) -> bool:
        return self.note.due_on == self.today


@dataclass(frozen=True)
class DuePlan:
    item: EpisodePlanDue
    today: date

    @property
    def overdue(self) -> bool:
        return self.item.due.is_overdue(self.today)

    @property
    def due_today(self) -> bool:
        return self.item.due.due_on == self.today

    @property
    def patient(self) -> Patient:
        return self.item.enrollment.patient


@dataclass
class Queue:
    clinician: User
    plan_drafts: list[PlanVersion] = field(default_factory=list)
    note_drafts: list[ProgressNote] = field(default_factory=list)
    group_drafts: list[GroupNote] = field(default_factory=list)
    notes_due: list[DueNote] = field(default_factory=list)
    sessions_due: list[OwedSession] = field(default_factory=list)
    plans_due: list[DuePlan] = field(default_factory=list)
    plan_cosigns: list[PlanVersion] = field(default_factory=list)
    note_cosigns: list[ProgressNote] = field(default_factory=list)
    group_cosigns: list[GroupNote] = field(default_factory=list)
    # Each co-signature list holds its head only; these are the whole backlog's sizes.
    plan_cosigns_total: int = 0
    note_cosigns_total: int = 0
    group_cosigns_total: int = 0
    # The home's summary (``owed_summary``) counts the plan and group drafts unread.
    drafts_counted: int | None = None

    @property
    def drafts_count(self) -> int:
        if self.drafts_counted is not None:
            return self.drafts_counted
        return len(self.plan_drafts) + len(self.note_drafts) + len(self.group_drafts)

    @property
    def notes_overdue_count(self) -> int:
        return sum(1 for n in self.notes_due if n.overdue) + sum(
            1 for s in self.sessions_due if s.overdue
        )

    @property
    def due(self) -> list[DueNote | OwedSession]:
        """Notes and group sessions owed in one list, the longest overdue first."""
        items: list[DueNote | OwedSession] = [*self.notes_due, *self.sessions_due]
        return sorted(items, key=lambda i: (i.due_on, i.kind))

    @property
    def notes_due_count(self) -> int:
        return len(self.notes_due) + len(self.sessions_due)

    @property
    def plans_due_count(self) -> int:
        """Plans due today or overdue (the list also shows those due within a week)."""
        return sum(1 for p in self.plans_due if p.overdue or p.due_today)

    @property
    def plans_overdue_count(self) -> int:
        return sum(1 for p in self.plans_due if p.overdue)

    @property
    def cosigns_count(self) -> int:
        return self.plan_cosigns_total + self.note_cosigns_total + self.group_cosigns_total


def _cosign_scope(clinician: User) -> Q:
    """Whose signed work waits for this clinician's countersignature: their supervisees',
    and for a director, every unlicensed author's at their sites. Never their own."""
    scope = Q(author__staff_profile__supervisor=clinician)
    staff = clinician.staff
    if staff is not None and staff.role == Role.DIRECTOR and staff.licensed:
        scope |= Q(author__staff_profile__organization_id=staff.organization_id)
    return scope


def _sites_filter(site_ids: list[int] | None, lookup: str) -> Q:
    return Q() if site_ids is None else Q(**{f"{lookup}__in": site_ids})


def _today(site: Site, now: datetime) -> date:
    return clock.site_today(site, now)


def _owed_filters(clinician: User) -> tuple[Q, Q]:
    """The clinician's own drafts, and the signed work waiting for their countersignature
    (plans and individual notes)."""
    mine = Q(author=clinician, status=RecordStatus.DRAFT)
    waiting = (
        _cosign_scope(clinician)
        & Q(status=RecordStatus.SIGNED, requires_cosign=True)
        & ~Q(author=clinician)
    )
    return mine, waiting


def _group_owed_filters(clinician: User) -> tuple[Q, Q]:
    """Group notes: the clinician's drafts (or those of sessions they facilitated and
    nobody started), and signed groups with an attendee's copy waiting for them."""
    group_waiting = ProgressNote.objects.filter(
        group_note=OuterRef("pk"), status=RecordStatus.SIGNED, requires_cosign=True
    )
    mine = Q(status=RecordStatus.DRAFT) & (
        Q(author=clinician) | Q(author__isnull=True, session__facilitator=clinician)
    )
    waiting = (
        Q(status=RecordStatus.SIGNED)
        & _cosign_scope(clinician)
        & ~Q(author=clinician)
        & Q(Exists(group_waiting))
    )
    return mine, waiting


def _due_lists(
    queue: Queue,
    clinician: User,
    visible: QuerySet[Patient],
    site_ids: list[int] | None,
    now: datetime,
) -> None:
    """The notes due (from ``queue.note_drafts``), the group sessions owed and the plans
    due: the lists both the queue and the home's summary count."""
    queue.notes_due = [
        d
        for d in (DueNote(n, _today(n.site, now)) for n in queue.note_drafts)
        if d.due_on <= d.today
    ]
    queue.sessions_due = _sessions_owed(clinician, site_ids=site_ids, now=now)
    caseload = Enrollment.objects.filter(
        patient__primary_counselor=clinician,
        patient__in=visible,
        status__in=OPEN_STATUSES,
    )
    soon = []
    for item in plans_due(caseload):
        today = _today(item.enrollment.site, now)
        if item.due.days_left(today) <= PLAN_DUE_SOON_DAYS:
            soon.append(DuePlan(item, today))
    queue.plans_due = sorted(soon, key=lambda p: (p.item.due.due_on, p.item.enrollment.pk))


def queue_for(clinician: User, *, viewer: User, now: datetime | None = None) -> Queue:
    """Everything ``clinician`` owes, as ``viewer`` may see it (the patients outside the
    viewer's access are left out). At most 9 queries whatever the sizes: one a model for
    its drafts and co-signatures together, the sessions owed and their calendar (two),
    the caseload's plan clock (two), and the viewer's access rule (a counselor's reads
    their sites first)."""
    now = clock.now(now)
    visible = patients_visible_to(viewer)
    # The viewer's sites, read once: group notes and sessions are a site's, not a chart's.
    site_ids = site_ids_for(viewer)
    queue = Queue(clinician=clinician)
    mine, waiting = _owed_filters(clinician)

    versions = list(
        _cosigns_head(PlanVersion.objects.filter(plan__patient__in=visible), mine, waiting)
        .select_related("plan__patient", "plan__enrollment__site", "author")
        .order_by("pk")
    )
    queue.plan_drafts = sorted(
        (v for v in versions if v.status == RecordStatus.DRAFT), key=lambda v: (v.updated_at, v.pk)
    )
    queue.plan_cosigns = _by_signing([v for v in versions if v.status != RecordStatus.DRAFT])
    queue.plan_cosigns_total = _backlog(queue.plan_cosigns)

    notes = list(
        _cosigns_head(
            # An attendee's copy of a group note (the only notes with a group note, by
            # constraint) is co-signed with its group, listed once; it is never a draft
            # (it is written when the group note is signed). "No group note" is what the
            # waiting notes' index (records_note_cosign_waiting) is ordered by first.
            ProgressNote.objects.filter(patient__in=visible, group_note__isnull=True),
            mine,
            waiting,
        )
        .select_related("patient", "site", "author")
        .order_by("pk")
    )
    queue.note_drafts = sorted(
        (n for n in notes if n.status == RecordStatus.DRAFT),
        key=lambda n: (n.due_on, n.service_date, n.pk),
    )
    queue.note_cosigns = _by_signing([n for n in notes if n.status != RecordStatus.DRAFT])
    queue.note_cosigns_total = _backlog(queue.note_cosigns)

    groups = list(
        _cosigns_head(
            GroupNote.objects.filter(_sites_filter(site_ids, "session__site_id")),
            *_group_owed_filters(clinician),
        )
        .select_related("session__site", "session__track", "author")
        .order_by("pk")
    )
    queue.group_drafts = sorted(
        (g for g in groups if g.status == RecordStatus.DRAFT),
        key=lambda g: (g.session.starts_at, g.pk),
    )
    queue.group_cosigns = _by_signing([g for g in groups if g.status != RecordStatus.DRAFT])
    queue.group_cosigns_total = _backlog(queue.group_cosigns)
    _due_lists(queue, clinician, visible, site_ids, now)
    return queue


def owed_summary(clinician: User, *, viewer: User, now: datetime | None = None) -> Queue:
    """What the staff home's "You owe" line counts, without the rows it does not show:
    the same filters as ``queue_for``, so the same counts, but the plan and group drafts
    and every co-signature list are counted in the database (an aggregate for the plans,
    a count each for the waiting notes, the group drafts and the groups waiting), and only
    the note drafts (whose due dates need each site's day) are read. Building the queue's
    lists (the 50 longest waiting of each kind) cost the home about a third of its time,
    to show four numbers."""
    now = clock.now(now)
    visible = patients_visible_to(viewer)
    site_ids = site_ids_for(viewer)
    queue = Queue(clinician=clinician)
    mine, waiting = _owed_filters(clinician)
    drafts = Count("pk", filter=Q(status=RecordStatus.DRAFT))
    signed = Count("pk", filter=Q(status=RecordStatus.SIGNED))

    plans = PlanVersion.objects.filter(mine | waiting, plan__patient__in=visible).aggregate(
        drafts=drafts, signed=signed
    )
    queue.plan_cosigns_total = plans["signed"]

    notes = ProgressNote.objects.filter(patient__in=visible, group_note__isnull=True)
    queue.note_drafts = sorted(
        notes.filter(mine).select_related("site"), key=lambda n: (n.due_on, n.service_date, n.pk)
    )
    queue.note_cosigns_total = notes.filter(waiting).count()

    # Two counts, not one aggregate over either filter: that one (an OR across the author's
    # profile, the session's facilitator and the attendee copies waiting) read every group
    # note of the sites, 20-32 ms at 5,000 patients against 5-10 for the two.
    groups = GroupNote.objects.filter(_sites_filter(site_ids, "session__site_id"))
    group_mine, group_waiting = _group_owed_filters(clinician)
    queue.group_cosigns_total = groups.filter(group_waiting).count()
    group_drafts = groups.filter(group_mine).count()
    queue.drafts_counted = plans["drafts"] + len(queue.note_drafts) + group_drafts
    _due_lists(queue, clinician, visible, site_ids, now)
    return queue


_Signed = TypeVar("_Signed", PlanVersion, ProgressNote, GroupNote)


def _cosigns_head(rows: QuerySet[_Signed], mine: Q, waiting: Q) -> QuerySet[_Signed]:
    """Of ``rows``, the clinician's own drafts (all of them: each is work they owe) and
    the first QUEUE_SHOWN signed rows waiting, the longest waiting first, each row
    carrying the size of the whole backlog (``_backlog``): one query. The head is a
    ``LIMIT`` walked down the waiting rows' partial index in signing order and the size
    a count beside it, so the rows read stay the same however many wait (ranking the
    whole backlog with window functions made a director's queue grow with the clinic:
    cost ratio 3.5 from 500 to 5,000 patients)."""
    drafts = rows.filter(mine).order_by().values("pk")
    head = rows.filter(waiting).order_by("signed_at", "pk").values("pk")[:QUEUE_SHOWN]
    backlog = rows.filter(waiting).order_by().annotate(n=Func("pk", function="COUNT"))
    if connection.features.supports_slicing_ordering_in_compound:
        chosen = Q(pk__in=drafts.union(head, all=True))
    else:
        # SQLite (the demo's database) refuses a LIMIT inside a UNION's parts; with an OR
        # PostgreSQL would read the whole table instead of walking the index.
        chosen = Q(pk__in=drafts) | Q(pk__in=head)
    return rows.model._default_manager.filter(chosen).annotate(
        _waiting_total=Subquery(backlog.values("n"))
    )


def _backlog(head: list[_Signed]) -> int:
    return int(getattr(head[0], "_waiting_total", len(head))) if head else 0


def _by_signing(rows: list[_Signed]) -> list[_Signed]:
    """Oldest signature first: the longest wait is the first to co-sign."""
    return sorted(rows, key=lambda r: (r.signed_at or datetime.min.replace(tzinfo=UTC), r.pk))


def group_notes_awaiting_cosign() -> QuerySet[GroupNote]:
    """Signed group notes with an attendee note still waiting for its co-signature."""
    waiting = ProgressNote.objects.filter(
        group_note=OuterRef("pk"), status=RecordStatus.SIGNED, requires_cosign=True
    )
    return GroupNote.objects.filter(status=RecordStatus.SIGNED).filter(Exists(waiting))


def _sessions_owed(
    clinician: User, *, site_ids: list[int] | None, now: datetime
) -> list[OwedSession]:
    """Held group sessions the clinician facilitated, with an attendee present, and no
    signed group note: two queries (the sessions with their draft and their sites'
    calendars, the holidays)."""
    present = Attendance.objects.filter(session=OuterRef("pk"), status__in=ATTENDED_STATUSES)
    signed = GroupNote.objects.filter(session=OuterRef("pk"), signed_at__isnull=False)
    sessions = list(
        Session.objects.filter(
            facilitator=clinician,
            track__isnull=False,
            status=SessionStatus.SCHEDULED,
            ends_at__lte=now,
            starts_at__gte=now - timedelta(days=SESSION_LOOKBACK_DAYS),
        )
        .filter(_sites_filter(site_ids, "site_id"))
        .filter(Exists(present))
        .exclude(Exists(signed))
        # The sites' calendars ride along (one-to-one): the calendar reads only holidays.
        .select_related("site__schedule", "site__record_settings", "track", "clinical_note")
        .order_by("starts_at", "pk")
    )
    if not sessions:
        return []
    sites = {s.site_id: s.site for s in sessions}.values()
    calendar = DueCalendar(sites, sessions[0].local_date, sessions[-1].local_date, sites_read=True)
    owed = []
    for s in sessions:
        draft = getattr(s, "clinical_note", None)
        service_type = draft.service_type if draft is not None else ServiceType.GROUP_COUNSELING
        due_on = calendar.note_due_on(s.site, s.local_date, service_type)
        today = _today(s.site, now)
        if due_on <= today:
            owed.append(OwedSession(session=s, due_on=due_on, draft=draft, today=today))
    return sorted(owed, key=lambda o: (o.due_on, o.session.starts_at, o.session.pk))


# --- access-checking getters for the co-sign routes -----------------------------------


def note_get_for_cosign(user: User, pk: int, *, request: HttpRequest | None = None) -> ProgressNote:
    return get_or_deny(
        user,
        ProgressNote.objects.filter(patient__in=patients_visible_to(user)).select_related(
            "patient", "site"
        ),
        action="records.note_view",
        message="No such note.",
        detail={"note": pk},
        request=request,
        pk=pk,
    )


def plan_version_get_for_cosign(
    user: User, pk: int, *, request: HttpRequest | None = None
) -> PlanVersion:
    return get_or_deny(
        user,
        PlanVersion.objects.filter(plan__patient__in=patients_visible_to(user)).select_related(
            "plan__patient", "plan__enrollment"
        ),
        action="records.plan_view",
        message="No such plan.",
        detail={"plan_version": pk},
        request=request,
        pk=pk,
    )


def group_note_get_for_cosign(
    user: User, pk: int, *, request: HttpRequest | None = None
) -> GroupNote:
    """A group note of a session at one of the user's sites (its attendees' charts are
    checked one by one when it is co-signed)."""
    staff = user.staff
    queryset = GroupNote.objects.none()
    if staff is not None and user.is_active:
        queryset = GroupNote.objects.filter(
            _sites_filter(site_ids_for(user), "session__site_id"),
            session__site__organization_id=staff.organization_id,
        ).select_related("session__site", "session__track")
    return get_or_deny(
        user,
        queryset,
        action="records.group_note_view",
        message="No such group note.",
        detail={"group_note": pk},
        request=request,
        pk=pk,
    )
