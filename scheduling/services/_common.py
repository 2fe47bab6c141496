"""What more than one kind of scheduling write checks."""

from __future__ import annotations

from core.models import Site, User


def _works_at(user: User | None, site: Site) -> bool:
    if user is None:
        return True
    staff = user.staff
    if staff is None or not user.is_active:
        return False
    return staff.sees_all_sites or staff.sites.filter(pk=site.pk).exists()
