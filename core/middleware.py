from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.cache import patch_cache_control

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'"
)


class SecurityHeadersMiddleware:
    """Pages may hold patient data: browsers and proxies must not keep a copy."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(self.static_prefix):
            patch_cache_control(response, no_store=True, private=True)
            response.headers.setdefault("Content-Security-Policy", CSP)
        return response


SESSION_ZONE_KEY = "stepwise_tz"


def home_zone_name(user) -> str:
    """The time zone a person reads times in: a patient's site, else the first of a staff
    member's sites, else their organisation's first site, else the deployment default."""
    patient = user.patient_record if user.staff is None else None
    if patient is not None:
        return patient.site.time_zone
    if user.staff is not None:
        site = (
            user.staff.sites.order_by("pk").first()
            or user.staff.organization.sites.order_by("pk").first()
        )
        if site is not None:
            return site.time_zone
    return settings.DEFAULT_SITE_TIME_ZONE


class SiteTimezoneMiddleware:
    """Show and read every time in the viewer's site time zone, not the server's UTC.

    The zone is looked up once per login and kept in the session, so a page costs no
    extra query for it. Pages about one site's objects (a specimen, a session) still
    read typed times in that object's site zone through the form, which outranks this.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        name = request.session.get(SESSION_ZONE_KEY)
        if name is None:
            name = home_zone_name(user)
            request.session[SESSION_ZONE_KEY] = name
        with timezone.override(ZoneInfo(name)):
            return self.get_response(request)
