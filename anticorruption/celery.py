"""Celery application: a worker runs `celery -A anticorruption worker`, beat `celery -A anticorruption beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anticorruption.settings")

app = Celery("anticorruption")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
