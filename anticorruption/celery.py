"""Celery application: a worker runs `celery -A anticorruption worker`, beat `celery -A anticorruption beat`."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anticorruption.settings")

app = Celery("anticorruption")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _freeze_loaded_heap(**kwargs):
    from .startup import freeze_loaded_heap

    freeze_loaded_heap()  # as the web server does: report jobs build large trees too
