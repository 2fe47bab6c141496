from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Director reports"

    def ready(self) -> None:
        # Each module registers its reports in reports.registry.REPORTS when imported; the
        # index lists them in this order. They are this app's own modules (the other apps
        # sit below reports and cannot import its registry), so they are named here.
        from . import attendance, census, testing  # noqa: F401
