from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Staff dashboard"

    def ready(self) -> None:
        # Each module registers its alert rules with dashboard.rules on import.
        from . import rules_drugtests, rules_recovery, rules_scheduling  # noqa: F401
