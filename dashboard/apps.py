from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Staff dashboard"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # The apps below dashboard contribute the alert queue's rules from their
        # ``alerts`` modules, which register themselves in core.alerts.RULES when imported.
        autodiscover_modules("alerts")
