"""The admin's shared rules: every write audited, every look at patient data audited.

Only superusers reach the admin (``core.adminsite``). What they may do there:
- clinical records (anything that is part of a patient's record) are read-only
  (``ReadOnlyAdmin``): they change through the staff screens, whose services keep the
  history, the rosters and the audit trail in step;
- reference data (sites, tracks, policies, settings) and accounts stay editable, and each
  save writes its audit row inside the admin's own transaction, so the change and its row
  commit together or not at all (``AuditedModelAdmin``);
- nothing is deleted: records are archived, closed or superseded, and the trail refers to
  every account that ever existed.
Every app's admin builds on these two classes; tests/core/test_admin_audit.py walks the
registry so a new registration cannot slip in unaudited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.db import models, router, transaction
from django.forms import BaseForm, BaseModelFormSet
from django.http import HttpRequest, HttpResponse

from . import audit
from .models import AuditEvent, Organization, Site, StaffProfile, User

# The action a look at a patient's record writes, the chart's own: a patient's access log
# and the director's trail find admin views and chart views alike.
PATIENT_VIEW_ACTION = "patient.chart_view"
# One row per list page (not one per patient listed, which would put up to a hundred
# chained rows behind every page); its detail names the patients the page showed.
LIST_VIEW_ACTION = "admin.list_view"
_AUTO = "auto"


def _site_id(obj: models.Model) -> int | None:
    site_id: int | None = obj.pk if isinstance(obj, Site) else getattr(obj, "site_id", None)
    return site_id


def _safe_field_names(names: list[str]) -> list[str]:
    # Names only, never values; and not even the names of password fields (a separate flag).
    return sorted(n for n in names if "password" not in n)


def _formset_changes(formsets: list[Any]) -> dict[str, dict[str, Any]]:
    changes: dict[str, dict[str, Any]] = {}
    for formset in formsets:
        if not isinstance(formset, BaseModelFormSet):
            continue
        entry: dict[str, Any] = {}
        if formset.new_objects:
            entry["added"] = len(formset.new_objects)
        changed = sorted({f for _, fields in formset.changed_objects for f in fields})
        if changed:
            entry["changed"] = _safe_field_names(changed)
        if formset.deleted_objects:
            entry["deleted"] = len(formset.deleted_objects)
        if entry:
            changes[formset.model._meta.label] = entry
    return changes


class AuditedModelAdmin(admin.ModelAdmin[Any]):
    """Editable reference data: each add or change writes ``<model>.created`` or
    ``<model>.updated`` (the changed field names, never values) in the admin's transaction;
    a change or list page of patient data writes a view row. Nothing is deleted."""

    # How to reach the patient's id from this model (a ``values_list`` path): "auto" finds
    # a ``patient`` or ``patient_id`` field; None means the model holds no patient data.
    patient_lookup: str | None = _AUTO
    view_action = PATIENT_VIEW_ACTION

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # --- writes ----------------------------------------------------------------------

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The admin calls this after save_model, inside its transaction.atomic, for the
        # change form and the list's inline edits alike: the row commits with the change.
        super().save_related(request, form, formsets, change)
        self.audit_write(request, form.instance, form=form, formsets=list(formsets), change=change)

    def audit_write(
        self,
        request: HttpRequest,
        obj: models.Model,
        *,
        form: BaseForm,
        formsets: list[Any],
        change: bool,
    ) -> None:
        detail: dict[str, Any] = {"via": "admin", "fields": _safe_field_names(form.changed_data)}
        if any("password" in name for name in form.changed_data):
            detail["password_set"] = True
        inlines = _formset_changes(formsets)
        if inlines:
            detail["inlines"] = inlines
        audit.record(
            action=f"{obj._meta.model_name}.{'updated' if change else 'created'}",
            request=request,
            obj=obj,
            patient_id=self.patient_id_of(obj),
            site_id=_site_id(obj),
            detail=detail,
        )

    # --- reads -----------------------------------------------------------------------

    def patient_lookup_path(self) -> str | None:
        if self.patient_lookup != _AUTO:
            return self.patient_lookup
        names = {f.name for f in self.model._meta.concrete_fields}
        return "patient_id" if names & {"patient", "patient_id"} else None

    def patient_id_of(self, obj: models.Model) -> int | None:
        path = self.patient_lookup_path()
        if path is None or obj.pk is None:
            return None
        found: int | None = (
            self.model._default_manager.filter(pk=obj.pk).values_list(path, flat=True).first()
        )
        return found

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        # Every showing of an existing object's page, read-only or not, GET or a POST sent
        # back with errors: each one put the record on a screen.
        if obj is not None and obj.pk is not None:
            self.audit_view(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.has_view_or_change_permission(request, obj):
            self.audit_view(request, obj)
        return super().history_view(request, object_id, extra_context)

    def audit_view(self, request: HttpRequest, obj: models.Model) -> None:
        patient_id = self.patient_id_of(obj)
        if patient_id is None:
            return
        audit.record(
            action=self.view_action,
            request=request,
            obj=obj,
            patient_id=patient_id,
            site_id=_site_id(obj),
            detail={"via": "admin", "model": obj._meta.label},
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        path = self.patient_lookup_path()
        context = getattr(response, "context_data", None) or {}
        changelist = context.get("cl")
        if path is not None and changelist is not None:
            shown = [o.pk for o in changelist.result_list]
            patient_ids = (
                self.model._default_manager.filter(pk__in=shown)
                .exclude(**{f"{path}__isnull": True})
                .order_by()
                .values_list(path, flat=True)
            )
            audit.record(
                action=LIST_VIEW_ACTION,
                request=request,
                detail={"model": self.model._meta.label, "patients": sorted(set(patient_ids))},
            )
        return response


# The name the apps' admins used before the audit: same semantics, never a delete.
NoDeleteAdmin = AuditedModelAdmin


class ReadOnlyAdmin(AuditedModelAdmin):
    """Clinical records and evidence: viewable (and the view audited), never added,
    changed or deleted here; the staff screens' services change them."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline[Any, Any]):
    # Subclasses show their fields read-only: `fields = readonly_fields = (...)`, a tuple,
    # the one type both attributes accept.
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(AuditedModelAdmin):
    list_display = ["name", "mrn_prefix"]
    readonly_fields = ["mrn_counter"]


@admin.register(Site)
class SiteAdmin(AuditedModelAdmin):
    list_display = ["name", "code", "organization", "time_zone", "is_active"]
    list_filter = ["organization", "is_active"]
    patient_lookup = None


class StaffProfileInline(admin.StackedInline[StaffProfile, User]):
    model = StaffProfile
    fk_name = "user"
    can_delete = False
    filter_horizontal = ["sites"]
    raw_id_fields = ["supervisor"]


@admin.register(User)
class UserAdmin(AuditedModelAdmin, BaseUserAdmin[User]):
    inlines = [StaffProfileInline]
    list_display = ["username", "first_name", "last_name", "is_active", "is_staff"]
    # Facts, not settings. Editable, the form re-saved date_joined without its microseconds
    # (the widget drops them), so every save read as a change of it in the audit row.
    readonly_fields = ["last_login", "date_joined"]
    # A patient's portal account is part of their record: opening it is a look at them.
    patient_lookup = "patient__pk"

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        # Django's view saves the password with no transaction and no hook of ours; the
        # row is written here when the stored hash changed (never the hash itself).
        with transaction.atomic(using=router.db_for_write(self.model)):
            user = self.get_object(request, unquote(id))
            before = user.password if user is not None else None
            response = super().user_change_password(request, id, form_url)
            if user is not None:
                user.refresh_from_db(fields=["password"])
                if user.password != before:
                    audit.record(
                        action="user.password_set",
                        request=request,
                        obj=user,
                        detail={"via": "admin", "usable": user.has_usable_password()},
                    )
        return response


# Role groups are rebuilt from core.roles after every migrate: an edit here would not last.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(ReadOnlyAdmin, BaseGroupAdmin):
    patient_lookup = None


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "seq", "at", "actor_label", "action", "outcome", "patient_id", "ip"]
    list_filter = ["action", "outcome"]
    search_fields = ["actor_label", "object_id"]
    # Reading the trail is itself recorded, as the privacy screens record it.
    view_action = "audit.viewed"
