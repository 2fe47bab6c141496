"""The attendance screen writes an unbound row's inputs itself (not through the form's
widget templates, #20): they must be the inputs AttendanceForm would render."""

from datetime import timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from scheduling.forms import AttendanceForm
from scheduling.models import Session, SiteSchedule
from scheduling.services.attendance import attendance_record

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
FIELDS = ("status", "arrived", "left", "note", "reason")


class _Inputs(HTMLParser):
    """Each form control's attributes and text (a select: its options, the selected one
    marked), by name."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, dict[str, object]] = {}
        self._open: str | None = None
        self._label: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "select", "textarea") and attrs.get("name"):
            self.found[attrs["name"]] = {"tag": tag, **attrs, "text": "", "options": []}
            self._open = attrs["name"] if tag != "input" else None
        elif tag == "option" and self._open:
            self.found[self._open]["options"].append((attrs["value"], "selected" in attrs))
        elif tag == "div" and "char-counter" in (attrs.get("class") or ""):
            self.found[attrs["id"]] = {"tag": tag, **attrs}
        elif tag == "label" and attrs.get("for"):
            self._label = attrs["for"]
            self.found["label:" + attrs["for"]] = {"text": ""}

    def handle_endtag(self, tag):
        if tag in ("select", "textarea"):
            self._open = None
        if tag == "label":
            self._label = None

    def handle_data(self, data):
        if self._label:
            self.found["label:" + self._label]["text"] += data
        if self._open and self.found[self._open]["tag"] == "textarea":
            self.found[self._open]["text"] += data.strip()


def _parse(html: str) -> dict[str, dict[str, object]]:
    parser = _Inputs()
    parser.feed(html)
    return parser.found


def _session(track, make_session, *, days_ago: int) -> Session:
    start = (timezone.now() - timedelta(days=days_ago, hours=1)).astimezone(NY)
    session = make_session(track, start.date())
    Session.objects.filter(pk=session.pk).update(
        starts_at=start, ends_at=start + timedelta(hours=3), local_date=start.date()
    )
    session.refresh_from_db()
    return session


def _form_inputs(session, patient, needs_reason: bool, row=None) -> dict[str, dict[str, object]]:
    tz = session.site.tz
    initial = {}
    if row is not None:
        initial = {
            "status": row.status,
            "arrived": row.arrived_at.astimezone(tz).time() if row.arrived_at else None,
            "left": row.left_at.astimezone(tz).time() if row.left_at else None,
            "note": row.note,
        }
    form = AttendanceForm(
        prefix=f"p{patient.pk}", initial=initial, session=session, needs_reason=needs_reason
    )
    return _parse(
        "".join(
            # As scheduling/_attendance_field.html labels a field the form renders.
            f'<label for="{form[name].id_for_label}">{form[name].label}'
            + (" (required)" if form.fields[name].required else "")
            + f"</label>{form[name]}"
            for name in FIELDS
            if not form[name].is_hidden
        )
        + "".join(str(form[name]) for name in FIELDS if form[name].is_hidden)
    )


def _page_inputs(client, session, patient) -> dict[str, dict[str, object]]:
    html = client.get(reverse("scheduling:attendance", args=[session.pk])).content.decode()
    mine = f"p{patient.pk}-"
    return {
        k: v
        for k, v in _parse(html).items()
        if k.startswith((mine, "id_" + mine, "label:id_" + mine))
    }


def test_a_marked_rows_inputs_are_the_forms(client, counselor, make_patient, track, make_session):
    session = _session(track, make_session, days_ago=0)
    p = make_patient(track=track)
    row = attendance_record(
        actor=None,
        session=session,
        patient=p,
        status="late",
        arrived_at=session.starts_at + timedelta(minutes=20),
        note="Quiet <today> & tired",
    )
    client.force_login(counselor)
    assert _page_inputs(client, session, p) == _form_inputs(session, p, False, row)


def test_an_old_sessions_unmarked_row_asks_for_the_reason_as_the_form_does(
    client, counselor, make_patient, track, make_session, site
):
    days = SiteSchedule.for_site(site).attendance_edit_days + 2
    session = _session(track, make_session, days_ago=days)
    p = make_patient(track=track)
    client.force_login(counselor)
    page = _page_inputs(client, session, p)
    assert page[f"p{p.pk}-reason"]["type"] == "text"
    assert page == _form_inputs(session, p, True)
