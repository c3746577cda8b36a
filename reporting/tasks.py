"""Celery entry points: each loads by id and calls a service (reporting/services/notices.py).

Queue them with transaction.on_commit so that a worker never reads a row whose
transaction has not committed (or was rolled back).
"""

from celery import Task, shared_task
from django.utils import timezone

from .services import notices, reports


@shared_task
def send_reminders() -> dict:
    """Daily (CELERY_BEAT_SCHEDULE): reminders for periods due soon or overdue."""
    return notices.reminders_send(today=timezone.localdate()).as_dict()


@shared_task
def lock_stale_periods() -> dict:
    """Daily, before the reminders: long-overdue periods announced to AAC, then locked."""
    from dataclasses import asdict

    from .services.periods import periods_lock_stale

    return asdict(periods_lock_stale(today=timezone.localdate()))


@shared_task
def send_unreachable_agencies() -> int:
    """Weekly: AAC hears which agencies reminders cannot reach."""
    return notices.unreachable_agencies_send(today=timezone.localdate())


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


# ------------------------------------------------------------------ report jobs (services/reports.py)


class ReportTask(Task):
    """Retried on transient database errors; acknowledged only when done, and given back
    to the queue if its worker dies, so a killed worker's job runs again elsewhere (the
    stale-job sweep fails it if no worker takes it up)."""

    autoretry_for = reports.TRANSIENT_ERRORS
    retry_backoff = 5
    retry_kwargs = {"max_retries": 3}
    acks_late = True
    reject_on_worker_lost = True

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        self.record_failure(args[0], exc)

    def record_failure(self, object_id, exc):
        reports.report_fail(job_id=object_id, error=exc)


class AgencyItemTask(ReportTask):
    def record_failure(self, object_id, exc):
        reports.agency_item_fail(item_id=object_id, error=exc)


@shared_task(base=ReportTask)
def run_report(job_id: int) -> None:
    reports.report_run(job_id=job_id)


@shared_task(base=AgencyItemTask)
def build_agency_report(item_id: int) -> None:
    reports.agency_item_build(item_id=item_id)


@shared_task(base=ReportTask)
def finish_agency_batch(job_id: int) -> None:
    reports.agency_batch_finish(job_id=job_id)


@shared_task(base=ReportTask)
def rerun_agency_items(job_id: int) -> None:
    reports.agency_items_enqueue(job_id=job_id)


@shared_task
def fail_stale_reports() -> int:
    """Every few minutes (CELERY_BEAT_SCHEDULE): jobs whose worker died fail visibly."""
    return reports.reports_fail_stale()


# ------------------------------------------------------------------ yearly target values (services/target_setting.py)


@shared_task
def notify_targets_opened(target_year_id: int) -> int:
    return notices.notify_targets_opened(target_year_id=target_year_id)


@shared_task
def notify_proposal_awaiting(proposal_id: int) -> int:
    return notices.notify_proposal_awaiting(proposal_id=proposal_id)


@shared_task
def notify_proposal_returned(proposal_id: int) -> int:
    return notices.notify_proposal_returned(proposal_id=proposal_id)


@shared_task
def notify_targets_published(target_year_id: int) -> int:
    return notices.notify_targets_published(target_year_id=target_year_id)


@shared_task
def send_target_reminders() -> dict:
    """Daily (CELERY_BEAT_SCHEDULE): lead agencies still owing proposals near or past the due date."""
    return notices.target_reminders_send(today=timezone.localdate())
