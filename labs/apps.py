from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "labs"
    verbose_name = "Lab results in (HL7)"

    def ready(self) -> None:
        from drugtests.loinc import register_lookup

        from .loinc import code_lookup

        register_lookup(code_lookup)
