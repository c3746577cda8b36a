"""Reporting periods: created per year and frequency, closed, locked and reopened by AAC."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Role

from ..models import PeriodLockNotice, PeriodReopening, ReportingPeriod

# Figures for a period are due this many days after it ends, unless AAC sets other dates.
DEFAULT_DAYS_TO_REPORT = 10


def _require_aac(user):
    if not user.has_role(Role.AAC_REVIEWER, Role.ADMINISTRATOR):
        raise PermissionDenied(_("只有廉政署審查人可以管理填報期間。"))


@transaction.atomic
def periods_ensure(*, year: int, frequencies=None) -> list[ReportingPeriod]:
    """Create the year's periods that do not exist yet (idempotent)."""
    periods = []
    for frequency in frequencies or ReportingPeriod.PERIODS_PER_YEAR:
        for number in range(1, ReportingPeriod.PERIODS_PER_YEAR[frequency] + 1):
            draft = ReportingPeriod(year=year, frequency=frequency, number=number, opens_on=datetime.date(2000, 1, 1), due_on=datetime.date(2000, 1, 1))
            period, _created = ReportingPeriod.objects.get_or_create(
                year=year, frequency=frequency, number=number,
                defaults={"opens_on": draft.starts_on, "due_on": draft.ends_on + datetime.timedelta(days=DEFAULT_DAYS_TO_REPORT)},
            )
            periods.append(period)
    return periods


@transaction.atomic
def period_set_dates(*, period: ReportingPeriod, opens_on, due_on, user) -> ReportingPeriod:
    _require_aac(user)
    if due_on < opens_on:
        raise ValidationError({"due_on": _("截止日期不可早於開放日期。")})
    period.opens_on, period.due_on = opens_on, due_on
    period.save(update_fields=["opens_on", "due_on"])
    return period


@transaction.atomic
def period_set_state(*, period: ReportingPeriod, state: str, user) -> ReportingPeriod:
    """Close or lock a period (locking also ends any reopening)."""
    _require_aac(user)
    period = ReportingPeriod.objects.select_for_update().get(pk=period.pk)
    period.state = state
    period.save(update_fields=["state"])
    if state == ReportingPeriod.State.LOCKED:
        PeriodReopening.objects.filter(period=period, closed_at__isnull=True).update(closed_at=timezone.now())
    return period


@transaction.atomic
def period_reopen(*, period: ReportingPeriod, user, reason: str, agency=None) -> PeriodReopening:
    """Let one agency (or, with agency None, all) change a locked period again; the reason is kept."""
    _require_aac(user)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("重新開放須填寫理由。")})
    period = ReportingPeriod.objects.select_for_update().get(pk=period.pk)
    if period.state != ReportingPeriod.State.LOCKED:
        raise ValidationError(_("%(period)s 尚未鎖定，不需要重新開放。") % {"period": period.label})
    return PeriodReopening.objects.create(period=period, agency=agency, reason=reason, reopened_by=user)


@dataclass
class StaleLockStats:
    announced: int = 0
    locked: int = 0


def periods_lock_stale(*, today: datetime.date) -> StaleLockStats:
    """Periods more than PERIOD_LOCK_AFTER_DAYS past their due date are locked automatically,
    so that reminders for them stop: first announced to every AAC reviewer, then locked
    PERIOD_LOCK_NOTICE_DAYS later (AAC can reopen a locked period for an agency)."""
    from .notices import notify_periods_to_lock

    stats = StaleLockStats()
    after = datetime.timedelta(days=settings.PERIOD_LOCK_AFTER_DAYS)
    notice = datetime.timedelta(days=settings.PERIOD_LOCK_NOTICE_DAYS)
    stale = ReportingPeriod.objects.exclude(state=ReportingPeriod.State.LOCKED).filter(due_on__lte=today - after + notice)
    announce = [period for period in stale.filter(lock_notice__isnull=True).order_by("due_on", "frequency", "number")]
    if announce:
        with transaction.atomic():
            PeriodLockNotice.objects.bulk_create([PeriodLockNotice(period=period, noticed_on=today, lock_on=max(period.due_on + after, today + notice)) for period in announce])
            notify_periods_to_lock(periods=announce, lock_on=today + notice)
        stats.announced = len(announce)
    for lock_notice in PeriodLockNotice.objects.filter(locked_on__isnull=True, lock_on__lte=today).select_related("period"):
        with transaction.atomic():
            period = ReportingPeriod.objects.select_for_update().get(pk=lock_notice.period_id)
            if period.state != ReportingPeriod.State.LOCKED:
                period.state = ReportingPeriod.State.LOCKED
                period.save(update_fields=["state"])
                PeriodReopening.objects.filter(period=period, closed_at__isnull=True).update(closed_at=timezone.now())
                stats.locked += 1
            lock_notice.locked_on = today
            lock_notice.save(update_fields=["locked_on"])
    return stats
