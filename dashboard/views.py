from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from core import audit
from core.access import staff_required

from .models import AlertDismissal


@require_POST
@staff_required()
def dismiss(request: HttpRequest) -> HttpResponse:
    key = request.POST.get("key", "")[:120]
    if key:
        _, created = AlertDismissal.objects.get_or_create(
            user=request.user,
            key=key,
            defaults={"dismissed_at": timezone.now(), "note": request.POST.get("note", "")[:200]},
        )
        if created:
            audit.record(action="alert.dismissed", request=request, detail={"key": key})
    if request.htmx:
        return HttpResponse("")
    return redirect("home")
