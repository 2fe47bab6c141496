"""Message texts: one template per kind and channel under
``templates/notifications/messages/<kind>.<sms|subject|email|in_app>.txt``.

Templates see the whole context (including the patient and the site, whose names may
say "Recovery Center") but must use only neutral facts: the first name, a date or time,
and a link. Every rendered text passes ``privacy.check`` before it may leave. A patient's reminders
are rendered in their preferred language (``language_for``), staff messages in English.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from core.formats import format_day, format_time

from . import channels, privacy
from .models import Channel, Kind

if TYPE_CHECKING:
    from core.models import Site

    from .models import Notification

PARTS = {
    Channel.SMS: ("sms",),
    Channel.EMAIL: ("subject", "email"),
    Channel.IN_APP: ("in_app",),
}
STAFF_KINDS = frozenset({Kind.STAFF_DIGEST, Kind.STAFF_ALERT})


def _fmt_when(value: str | None, tz: ZoneInfo, h24: bool = False) -> str:
    if not value:
        return ""
    instant = datetime.fromisoformat(value)
    return _("on %(day)s at %(time)s") % {
        "day": format_day(instant, year=False, tz=tz),
        "time": format_time(instant, h24=h24, tz=tz),
    }


def _fmt_time(value: str | None, tz: ZoneInfo, h24: bool = False) -> str:
    if not value:
        return _("the end of the day")
    return format_time(datetime.fromisoformat(value), h24=h24, tz=tz)


def _fmt_date(value: str | None) -> str:
    if not value:
        return ""
    return format_day(date.fromisoformat(value), year=False)


def link_for(kind: str) -> str:
    return _links()[kind in STAFF_KINDS]


@lru_cache(maxsize=1)
def _links() -> dict[bool, str]:
    # Two fixed URLs, reversed once per process instead of once per message.
    return {
        True: f"{channels.base_url()}{reverse('home')}",
        False: f"{channels.base_url()}{reverse('notifications:inbox')}",
    }


def context_for(notification: Notification, *, site: Site | None = None) -> dict[str, Any]:
    recipient = notification.recipient
    patient = notification.patient
    if site is None and patient is not None:
        site = patient.site
    tz = site.tz if site is not None else ZoneInfo(settings.DEFAULT_SITE_TIME_ZONE)
    h24 = site.clock_24h if site is not None else False
    payload = notification.payload or {}
    if patient is not None and patient.user_id == recipient.pk:
        first = patient.preferred_name or patient.legal_first_name
    else:  # staff kinds: the staff member's own name, never the patient's
        first = recipient.first_name
    first = first or _("there")
    return {
        **payload,
        "first_name": first,
        "when": _fmt_when(payload.get("at"), tz, h24),
        "deadline": _fmt_time(payload.get("deadline"), tz, h24),
        "due_date": _fmt_date(payload.get("due_date")),
        "day": _fmt_date(payload.get("day")),
        "link": link_for(notification.kind),
        # Available to templates, deliberately: the denylist test proves none of these
        # leak (site names contain "Recovery Center", patients have substances).
        "patient": patient,
        "site": site,
        "recipient": recipient,
    }


# The GSM 03.38 alphabet (basic set and extension): a text written only in it is sent in
# 7-bit segments (153 characters each when joined), any other character makes the whole
# text UCS-2 (67 each). Spanish has ñ, é, ¿ and ¡ in it but not á, í, ó or ú.
GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


def gsm7(text: str) -> str:
    """``text`` with each character outside the GSM alphabet replaced by its unaccented
    letter where that is in it ("día" -> "dia"): a Spanish reminder then fits the same two
    segments as an English one. Anything else (curly quotes in a name) is left as it is."""
    out = []
    for char in text:
        if char not in GSM7:
            base = privacy.fold(char)
            if base and all(c in GSM7 for c in base):
                char = base
        out.append(char)
    return "".join(out)


def render(kind: str, channel: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) for a kind on a channel; subject is empty except for email."""
    rendered = {
        part: render_to_string(f"notifications/messages/{kind}.{part}.txt", context).strip()
        for part in PARTS[Channel(channel)]
    }
    if "sms" in rendered:
        rendered["sms"] = gsm7(rendered["sms"])
    subject = rendered.get("subject", "")
    body = rendered.get("email") or rendered.get("sms") or rendered.get("in_app", "")
    return subject, body


def language_for(notification: Notification) -> str:
    """A patient's own reminders speak their preferred language; staff messages (and a
    patient's notice sent to someone else) stay in the site's working language."""
    patient = notification.patient
    if patient is not None and patient.user_id == notification.recipient_id:
        return patient.preferred_language or settings.LANGUAGE_CODE
    return settings.LANGUAGE_CODE


def render_checked(notification: Notification, *, site: Site | None = None) -> tuple[str, str]:
    # The words, the dates' day and month names and the fallbacks all in one language;
    # the denylist below knows both.
    with translation.override(language_for(notification)):
        subject, body = render(
            notification.kind, notification.channel, context_for(notification, site=site)
        )
    privacy.check(subject)
    privacy.check(body)
    return subject, body
