from django.apps import AppConfig

# The module, not the class: a second AppConfig class named here would make Django's
# choice of core's config ambiguous.
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Clinic and staff"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate, pre_save
        from django.utils.module_loading import autodiscover_modules

        from . import limits, signals
        from .roles import ensure_role_groups

        post_migrate.connect(ensure_role_groups, sender=self)
        signals.connect()
        # Every model's save, whichever app and service makes it: a TextField's max_length
        # is otherwise checked only by forms (the database constraint would answer 500).
        pre_save.connect(limits.refuse_overlong_text, dispatch_uid="core.limits.text")
        # Apps above core contribute to its pages from their ``panels`` modules, which
        # register themselves in core.panels.PANELS when imported.
        autodiscover_modules("panels")
        # The same for the patient's timeline: ``timeline`` modules fill core.timeline.
        autodiscover_modules("timeline")


class StepwiseAdminConfig(admin_apps.AdminConfig):
    """Installed in place of ``django.contrib.admin``: ``admin.site`` is then the
    superusers-only site of ``core.adminsite``."""

    default = False  # "core" alone still means CoreConfig
    default_site = "core.adminsite.StepwiseAdminSite"
