"""The project's settings with one extra URL: a bare view the page benchmarks compare against.

Only the benchmarks use this module (DJANGO_SETTINGS_MODULE=bench.settings); every value still
comes from backupapp/settings.py and therefore from the same environment.
"""

from backupapp.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
