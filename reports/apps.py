from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Director reports"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # The apps below reports contribute the director's reports from their ``reports``
        # modules, which register themselves in core.reporting.REPORTS when imported.
        autodiscover_modules("reports")
