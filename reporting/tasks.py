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


@shared_task
def send_reminders_to(agency_ids: list[int], period_ids: list[int]) -> dict:
    """A reviewer's one-click reminder to late agencies (the completeness page)."""
    from .models import ReportingPeriod

    periods = list(ReportingPeriod.objects.filter(pk__in=period_ids).order_by("due_on"))
    return notices.reminders_send_to(agency_ids=agency_ids, periods=periods, today=timezone.localdate()).as_dict()
