from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from . import receivers

        # The apps below contribute the rules from their ``alerts`` modules, which
        # register themselves in core.alerts.RULES when imported.
        autodiscover_modules("alerts")
        receivers.connect()
