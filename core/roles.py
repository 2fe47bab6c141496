"""Roles are Django groups; their permissions follow the principle of least privilege.

No role holds a ``delete`` permission: clinical records are archived, never deleted.
"""

from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps

from .models import Role

VIEW, ADD, CHANGE = "view", "add", "change"
ALL = (VIEW, ADD, CHANGE)

# role -> {app_label: actions} ; a (app_label, model) key narrows to one model.
ROLE_PERMISSIONS: dict[str, dict[str | tuple[str, str | None], tuple[str, ...]]] = {
    Role.DIRECTOR: {
        "core": ALL,
        "patients": ALL,
        "scheduling": ALL,
        "drugtests": ALL,
        "recovery": ALL,
        "records": ALL,
        "notifications": ALL,
    },
    Role.COUNSELOR: {
        "patients": ALL,
        "scheduling": ALL,
        "drugtests": (VIEW,),
        ("drugtests", "drugtestorder"): (VIEW, ADD),
        "recovery": ALL,
        "records": ALL,
        "notifications": (VIEW,),
    },
    Role.MEDICAL: {
        "patients": (VIEW,),
        ("patients", "medicationorder"): ALL,
        "scheduling": (VIEW,),
        "drugtests": ALL,
        "recovery": (VIEW,),
        # MAT visits are documented by the medical staff.
        "records": ALL,
    },
    Role.FRONT_DESK: {
        "patients": (VIEW, ADD, CHANGE),
        ("patients", "medicationorder"): (),
        "scheduling": ALL,
        ("drugtests", "testselection"): (VIEW,),
    },
    Role.COLLECTOR: {
        ("patients", "patient"): (VIEW,),
        ("drugtests", "testselection"): (VIEW,),
        ("drugtests", "specimen"): (VIEW, ADD, CHANGE),
    },
}


def role_group_name(role: str) -> str:
    return Role(role).label


def permissions_for(role: str, apps: Apps = global_apps) -> set[tuple[str, str]]:
    """(app_label, codename) pairs a role holds, for every model installed now."""
    rules = ROLE_PERMISSIONS.get(role, {})
    granted: set[tuple[str, str]] = set()
    for model in apps.get_models():
        label, name = model._meta.app_label, model._meta.model_name
        actions = rules.get((label, name), rules.get(label, ()))
        for action in actions:
            granted.add((label, f"{action}_{name}"))
    return granted


def ensure_role_groups(sender: object = None, apps: Apps = global_apps, **kwargs: Any) -> None:
    """Create or refresh one group per role (runs after every migrate)."""
    from django.contrib.auth.models import Group, Permission

    for role in Role:
        group, _ = Group.objects.get_or_create(name=role_group_name(role))
        wanted = permissions_for(role)
        perms = [
            p
            for p in Permission.objects.select_related("content_type")
            if (p.content_type.app_label, p.codename) in wanted
        ]
        group.permissions.set(perms)
