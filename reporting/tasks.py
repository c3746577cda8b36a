"""Celery entry points: each loads by id and calls a service (reporting/services/notices.py).

Queue them with transaction.on_commit so that a worker never reads a row whose
transaction has not committed (or was rolled back).
"""

from celery import shared_task
from django.utils import timezone

from .services import notices


@shared_task
def send_reminders() -> dict:
    """Daily (CELERY_BEAT_SCHEDULE): reminders for periods due soon or overdue."""
    return notices.reminders_send(today=timezone.localdate()).as_dict()


@shared_task
def notify_returned(entry_id: int) -> int:
    return notices.notify_returned(entry_id=entry_id)


@shared_task
def notify_awaiting_review(entry_id: int) -> int:
    return notices.notify_awaiting_review(entry_id=entry_id)
