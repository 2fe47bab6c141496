"""Reads for lab results in: who may see which message, the review queue, the code
table, the interfaces, and the token check of the HTTP endpoint."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from core.access import get_or_deny
from core.models import User
from drugtests.models import Specimen
from patients.access import patients_visible_to

from .models import AnalyteCode, InboundMessage, InboundObservation, LabInterface
from .tokens import token_matches

Status = InboundMessage.Status
WAITING = (Status.HELD, Status.ERROR)


def interface_for_token(pk: int, authorization: str) -> LabInterface | None:
    """The active interface ``pk`` if ``authorization`` is its bearer token, else None."""
    scheme, _, token = authorization.strip().partition(" ")
    interface = LabInterface.objects.filter(pk=pk, is_active=True).first()
    good = token_matches(token.strip(), interface.token_hash if interface else "")
    if scheme.lower() != "bearer" or not token.strip() or not good:
        return None
    return interface


def messages_visible_to(user: User) -> QuerySet[InboundMessage]:
    """The organisation's messages: those about a specimen of a patient the user may see,
    and those matched to no specimen yet (the review queue is how they find one)."""
    staff = user.staff
    if staff is None:
        return InboundMessage.objects.none()
    return InboundMessage.objects.filter(interface__organization_id=staff.organization_id).filter(
        Q(specimen__isnull=True) | Q(specimen__patient__in=patients_visible_to(user))
    )


def review_queue(user: User) -> list[InboundMessage]:
    """What waits for a person, oldest first (at most 200), with its counts."""
    return list(
        messages_visible_to(user)
        .filter(status__in=WAITING)
        .select_related("interface", "specimen__patient")
        .annotate(
            held=Count("observations", filter=Q(observations__state="held")),
            total=Count("observations"),
        )
        .order_by("received_at", "pk")[:200]
    )


def recent_messages(user: User, limit: int = 30) -> list[InboundMessage]:
    return list(
        messages_visible_to(user)
        .exclude(status__in=WAITING)
        .select_related("interface", "specimen__patient")
        .order_by("-received_at", "-pk")[:limit]
    )


def waiting_count(user: User) -> int:
    return messages_visible_to(user).filter(status__in=WAITING).count()


def message_get_for_user(user: User, pk: int) -> InboundMessage:
    return get_or_deny(
        user,
        messages_visible_to(user).select_related(
            "interface", "specimen__patient__site", "specimen__selection", "matched_by", "closed_by"
        ),
        action="labs.message_view",
        message="No such message.",
        detail={"message_pk": pk},
        pk=pk,
    )


def message_observations(message: InboundMessage) -> list[InboundObservation]:
    return list(message.observations.select_related("mapping", "analyte_result"))


def specimen_for_match(user: User, chain_of_custody_id: str) -> Specimen | None:
    """The collected specimen with that id, if it is of a patient the user may see."""
    return (
        Specimen.objects.filter(
            chain_of_custody_id=chain_of_custody_id.strip(),
            patient__in=patients_visible_to(user),
        )
        .select_related("patient__site", "selection")
        .first()
    )


def candidates(user: User, message: InboundMessage) -> list[Specimen]:
    """Specimens the user may see that carry one of the ids the message sent."""
    ids = [str(i) for i in message.specimen_ids_sent]
    if not ids:
        return []
    return list(
        Specimen.objects.filter(
            chain_of_custody_id__in=ids, patient__in=patients_visible_to(user)
        ).select_related("patient")
    )


def codes(user: User) -> list[AnalyteCode]:
    """The standard rows and the user's organisation's own."""
    staff = user.staff
    own = Q(organization_id=staff.organization_id) if staff is not None else Q(pk__in=[])
    return list(AnalyteCode.objects.filter(Q(organization__isnull=True) | own))


def code_get(user: User, pk: int) -> AnalyteCode:
    """One of the user's organisation's own rows (the standard ones are not edited)."""
    staff = user.staff
    return get_or_deny(
        user,
        AnalyteCode.objects.filter(
            organization_id=staff.organization_id if staff is not None else -1
        ),
        action="labs.code_view",
        message="No such code.",
        detail={"code_pk": pk},
        pk=pk,
    )


def interfaces_for(user: User) -> list[LabInterface]:
    staff = user.staff
    if staff is None:
        return []
    return list(LabInterface.objects.filter(organization_id=staff.organization_id))


def interface_get_for_user(user: User, pk: int) -> LabInterface:
    staff = user.staff
    qs = (
        LabInterface.objects.filter(organization_id=staff.organization_id)
        if staff is not None
        else LabInterface.objects.none()
    )
    return get_or_deny(
        user,
        qs,
        action="labs.interface_view",
        message="No such laboratory.",
        detail={"interface_pk": pk},
        pk=pk,
    )
