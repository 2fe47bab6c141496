from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Clinic and staff"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate
        from django.utils.module_loading import autodiscover_modules

        from . import signals
        from .roles import ensure_role_groups

        post_migrate.connect(ensure_role_groups, sender=self)
        signals.connect()
        # Apps above core contribute to its pages from their ``panels`` modules, which
        # register themselves in core.panels.PANELS when imported.
        autodiscover_modules("panels")
