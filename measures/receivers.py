"""Measures' receivers for other apps' writes (core must not import measures)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models.signals import post_save

if TYPE_CHECKING:  # for the annotation; connect() imports it when it runs
    from core.models import Site


def seed_new_site_schedules(
    sender: object, instance: Site, created: bool = False, raw: bool = False, **kwargs: Any
) -> None:
    # A new site starts with CLINICAL.md's schedules, in the transaction that creates it;
    # fixtures (raw) carry their own.
    if not created or raw:
        return
    from .services.schedules import schedules_seed

    schedules_seed(site=instance)


def connect() -> None:
    from core.models import Site

    post_save.connect(seed_new_site_schedules, sender=Site, dispatch_uid="measures_site_schedules")
