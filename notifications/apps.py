from importlib import import_module

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Reminders and notifications"

    def ready(self) -> None:
        # The sources register themselves with the registry when imported; the
        # receivers connect other apps' signals (lower apps never import this one).
        import_module(f"{self.name}.sources")
        import_module(f"{self.name}.receivers").connect()
