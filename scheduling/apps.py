from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Sessions and attendance"

    def ready(self) -> None:
        from . import signals

        signals.connect()
