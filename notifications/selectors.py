"""Reads for the portal inbox and the staff outbox (fixed query counts)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from core.access import get_or_deny
from core.models import Role, User
from patients.access import patients_visible_to

from .models import Channel, Notification, Status


def inbox_for(user: User) -> QuerySet[Notification]:
    """The portal list: in-app notifications delivered to this account, newest first."""
    return Notification.objects.filter(
        recipient=user, channel=Channel.IN_APP, status=Status.SENT
    ).order_by("-sent_at", "-pk")


def unread_count(user: User) -> int:
    return inbox_for(user).filter(read_at__isnull=True).count()


def outbox_for(user: User) -> QuerySet[Notification]:
    """Rows a staff member may see: about patients they may see, or addressed to them.
    The director also sees staff notifications of the organisation."""
    staff = user.staff
    if not (user.is_authenticated and user.is_clinic_staff) or staff is None:
        return Notification.objects.none()
    visible = Q(patient__in=patients_visible_to(user)) | Q(recipient=user)
    if user.role == Role.DIRECTOR:
        visible |= Q(
            patient__isnull=True,
            recipient__staff_profile__organization_id=staff.organization_id,
        )
    return (
        Notification.objects.filter(visible)
        .select_related("recipient", "patient__site")
        .order_by("-due_at", "-pk")
    )


def outbox_get_for_user(user: User, pk: int) -> Notification:
    return get_or_deny(
        user,
        outbox_for(user),
        action="notifications.outbox_view",
        message="No such notification.",
        detail={"notification_pk": pk},
        pk=pk,
    )
