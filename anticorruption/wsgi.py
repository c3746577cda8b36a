"""The WSGI callable, ``application``, for the production server (gunicorn in docker-compose.yml)."""

import os

from django.core.wsgi import get_wsgi_application

from .startup import freeze_loaded_heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anticorruption.settings")

application = get_wsgi_application()
freeze_loaded_heap()
