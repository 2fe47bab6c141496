"""The benchmark's settings: production's (clinic.settings, configured from the
environment as usual) plus the bench app (the ``seed_scale`` command) and the floor URL.

    DJANGO_SETTINGS_MODULE=bench.settings python manage.py seed_scale --patients 500
"""

from clinic.settings import *  # noqa: F403
from clinic.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ROOT_URLCONF = "bench.urls"
