"""The site a staff member last chose on a page with a site picker, kept in their session
so the next picker (drug tests, the calendar) opens on it instead of the first site.

Only a site id is stored, and it is only ever handed back if it is among the sites the
caller passes (the ones the user may see now): a site removed from their profile, or an
id planted in the session, is ignored."""

from __future__ import annotations

from collections.abc import Sequence

from django.http import HttpRequest

from .models import Site

SESSION_KEY = "stepwise.site"


def remember(request: HttpRequest, site: Site) -> None:
    if request.session.get(SESSION_KEY) != site.pk:
        request.session[SESSION_KEY] = site.pk


def recall(request: HttpRequest, sites: Sequence[Site]) -> Site | None:
    """The remembered site if it is still one of ``sites``, else None."""
    wanted = request.session.get(SESSION_KEY)
    if not isinstance(wanted, int):
        return None
    return next((s for s in sites if s.pk == wanted), None)
