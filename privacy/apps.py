from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy, access and disclosures"

    def ready(self) -> None:
        from patients.access import grant_source_register

        from . import signals
        from .selectors import break_glass_patient_ids

        signals.connect()
        # patients' access rule sits below privacy and must not import it: privacy adds
        # its break-glass grants to the rule here.
        grant_source_register(break_glass_patient_ids)
