"""Scheduling's receivers for other apps' writes (core must not import scheduling)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models.signals import post_save
from django.dispatch import Signal

if TYPE_CHECKING:  # for the annotation; connect() imports it when it runs
    from core.models import Site

# Sent inside the transaction of any attendance write that changes a mark (recorded,
# corrected, a make-up attendee added). Contingency management counts the sessions of
# attendance programs on commit. Receivers must act on commit only.
attendance_recorded = Signal()  # kwargs: attendance_ids (list[int])


def seed_new_site_holidays(
    sender: object, instance: Site, created: bool = False, raw: bool = False, **kwargs: Any
) -> None:
    # A new site starts with its public holidays; in the same transaction, so a site
    # whose creation rolls back leaves no calendar behind. Fixtures (raw) carry their own.
    if not created or raw:
        return
    from .services.site_holidays import holidays_seed

    holidays_seed(site=instance)


def connect() -> None:
    from core.models import Site

    post_save.connect(seed_new_site_holidays, sender=Site, dispatch_uid="scheduling_site_holidays")
