from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "measures"
    verbose_name = "Measurement-based care"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import instrument_data, receivers

        receivers.connect()
        post_migrate.connect(
            instrument_data.load_all_missing, sender=self, dispatch_uid="measures_instruments"
        )
