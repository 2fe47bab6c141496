from django.apps import AppConfig


class ContingencyConfig(AppConfig):
    name = "contingency"
    verbose_name = "Contingency management"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
