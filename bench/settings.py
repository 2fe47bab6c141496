"""The benchmark's settings: production's (clinic.settings, configured from the
environment as usual) plus the bench app (the ``seed_scale`` command) and the floor URL,
on the benchmark's fixed clinic weekday (``BENCH_NOW``, see bench/clock.py).

    DJANGO_SETTINGS_MODULE=bench.settings python manage.py seed_scale --patients 500
"""

from bench import clock
from clinic.settings import *  # noqa: F403
from clinic.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ROOT_URLCONF = "bench.urls"

# Every process that loads these settings (seeder, context builder, gunicorn worker)
# reads the same clinic weekday, so two runs on different real days compare.
BENCH_STARTED_AT = clock.start()
