from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "labs"
    verbose_name = "Lab results in (HL7)"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from drugtests.loinc import register_lookup

        from . import standard_codes
        from .loinc import code_lookup

        register_lookup(code_lookup)
        post_migrate.connect(
            standard_codes.load_missing, sender=self, dispatch_uid="labs_standard_codes"
        )
