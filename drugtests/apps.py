from django.apps import AppConfig


class DrugtestsConfig(AppConfig):
    name = "drugtests"
    verbose_name = "Drug testing"
