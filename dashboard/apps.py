from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Staff dashboard"

    def ready(self) -> None:
        # Each module registers its alert rules in dashboard.rules.RULES when imported.
        # They are this app's own modules (a rule reads a lower app's data, and the lower
        # apps cannot import dashboard's registry), so they are named here.
        from . import rules_drugtests, rules_recovery, rules_scheduling  # noqa: F401
