from django.apps import AppConfig


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
