from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy, access and disclosures"

    def ready(self) -> None:
        from . import signals

        signals.connect()
