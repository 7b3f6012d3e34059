"""WSGI entry point (gunicorn backupapp.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backupapp.settings")

application = get_wsgi_application()
