from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "measures"
    verbose_name = "Measurement-based care"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
