"""In-portal notices (the bell in the navigation) and the record that keeps reminders to one a day.

Imported at the bottom of reporting/models.py so that Django registers both models
under the ``reporting`` app.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notice(models.Model):
    """One message to one user; the same text usually also went out by e-mail."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("填報提醒")
        OVERDUE = "overdue", _("逾期提醒")
        RETURNED = "returned", _("退回修正")
        AWAITING_REVIEW = "awaiting_review", _("待審核")
        TARGETS_OPENED = "targets_opened", _("年度目標值研訂")
        TARGETS_RETURNED = "targets_returned", _("目標值退回修正")
        TARGETS_PUBLISHED = "targets_published", _("年度目標值核定公布")
        TARGETS_REMINDER = "targets_reminder", _("目標值提報提醒")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices", verbose_name=_("收件人"))
    kind = models.CharField(_("類別"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("標題"), max_length=200)
    body = models.TextField(_("內容"), blank=True)
    # A path inside the portal (/obligations/...), not an absolute URL: the host is the deployment's business.
    link = models.CharField(_("連結"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("建立時間"), default=timezone.now)
    read_at = models.DateTimeField(_("已讀時間"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notice_recipient_read")]
        constraints = [
            # "Items await your review" is a digest: while a reviewer has one unread, further
            # submissions add no notice and no e-mail (the queue itself lists them all).
            models.UniqueConstraint(
                fields=["recipient", "kind"], condition=Q(read_at__isnull=True, kind="awaiting_review"),
                name="notice_one_unread_awaiting_review",
                violation_error_message=_("此使用者已有一則未讀的待審核通知。"),
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class PeriodLockNotice(models.Model):
    """A period long past its due date is announced to AAC, then locked on ``lock_on``
    (reporting.services.periods.periods_lock_stale) so that reminders stop."""

    period = models.OneToOneField("reporting.ReportingPeriod", on_delete=models.CASCADE, related_name="lock_notice", verbose_name=_("填報期間"))
    noticed_on = models.DateField(_("通知日期"))
    lock_on = models.DateField(_("預定鎖定日期"))
    locked_on = models.DateField(_("鎖定日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("逾期期間自動鎖定通知")
        verbose_name_plural = _("逾期期間自動鎖定通知")
        ordering = ["lock_on"]

    def __str__(self):
        return f"{self.period} → {self.lock_on}"


class ReminderLog(models.Model):
    """A reminder for one period went to one agency on one day; a rerun that day sends nothing."""

    agency = models.ForeignKey("agencies.Agency", on_delete=models.CASCADE, related_name="+", verbose_name=_("機關"))
    period = models.ForeignKey("reporting.ReportingPeriod", on_delete=models.CASCADE, related_name="+", verbose_name=_("填報期間"))
    sent_on = models.DateField(_("提醒日期"))
    kind = models.CharField(_("類別"), max_length=20, choices=Notice.Kind.choices)
    items = models.PositiveIntegerField(_("待填項目數"), default=0)
    recipients = models.PositiveIntegerField(_("收件人數"), default=0)
    created_at = models.DateTimeField(_("建立時間"), default=timezone.now)

    class Meta:
        verbose_name = _("提醒紀錄")
        verbose_name_plural = _("提醒紀錄")
        ordering = ["-sent_on", "agency", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "period", "sent_on"], name="reminderlog_one_per_agency_period_day",
                violation_error_message=_("此機關此期間當日已提醒過。"),
            ),
        ]

    def __str__(self):
        return f"{self.sent_on} {self.agency_id} {self.period_id}"


class TargetReminderLog(models.Model):
    """A reminder to propose year N's target values went to one lead agency on one day."""

    target_year = models.ForeignKey("measures.TargetYear", on_delete=models.CASCADE, related_name="+", verbose_name=_("年度"))
    agency = models.ForeignKey("agencies.Agency", on_delete=models.CASCADE, related_name="+", verbose_name=_("機關"))
    sent_on = models.DateField(_("提醒日期"))
    items = models.PositiveIntegerField(_("未送出項數"), default=0)

    class Meta:
        verbose_name = _("目標值提報提醒紀錄")
        verbose_name_plural = _("目標值提報提醒紀錄")
        constraints = [
            models.UniqueConstraint(
                fields=["target_year", "agency", "sent_on"], name="targetreminderlog_once_a_day",
                violation_error_message=_("同一機關同一天只提醒一次。"),
            ),
        ]
