from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse

from core.access import StaffRequest, staff_required


@login_not_required
def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


@staff_required()
def floor_signed_in(request: StaffRequest) -> HttpResponse:
    # The same two bytes behind every middleware and the role check a staff page passes
    # (session, user, staff profile, OTP device, messages): what any signed-in page costs
    # before its own queries and template.
    return HttpResponse(b"ok", content_type="text/plain")
