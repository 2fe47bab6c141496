from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import pre_save
from django.http import HttpRequest
from django.utils import timezone

from core import audit
from core.models import User

from .models import UserSession

AUTH_AT = "stepwise_auth_at"


def _logged_in(sender: object, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    request.session[AUTH_AT] = timezone.now().timestamp()
    if not request.session.session_key:
        request.session.save()
    UserSession.objects.get_or_create(
        session_key=request.session.session_key, defaults={"user": user}
    )


def _deactivated(sender: object, instance: User, **kwargs: Any) -> None:
    if instance.pk is None or instance.is_active:
        return
    was_active = User.objects.filter(pk=instance.pk, is_active=True).exists()
    if was_active:
        from .services import sessions_end_for_user

        ended = sessions_end_for_user(instance)
        audit.record(action="user.deactivated", obj=instance, detail={"sessions_ended": ended})


def connect() -> None:
    user_logged_in.connect(_logged_in, dispatch_uid="privacy_track_session")
    pre_save.connect(_deactivated, sender=User, dispatch_uid="privacy_end_sessions")
