"""Report jobs: the annual consolidated report and the per-agency reports, compiled by
Celery tasks into immutable, dated files kept where no web server serves them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Role
from anticorruption.storage import PrivateStorage


# Reports live in MEDIA_ROOT/reports and leave only through reports:download, which
# checks who may have them.
report_storage = PrivateStorage("reports", "reports:download")


def report_storage_callable():
    # A callable, so migrations record this function rather than the storage's arguments.
    return report_storage


class ReportJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """AAC reviewers and administrators see every job; NDC assessors the published
        ones; agency users the published per-agency batches (for their own agency's files)."""
        if not user.is_authenticated:
            return self.none()
        if user.has_role(Role.AAC_REVIEWER, Role.ADMINISTRATOR):
            return self
        published = self.filter(published_at__isnull=False, state=ReportJob.State.DONE)
        if user.has_role(Role.NDC_ASSESSOR):
            return published
        if user.agency_id is not None and user.has_any_role:
            return published.filter(kind=ReportJob.Kind.AGENCY_BATCH, items__agency_id=user.agency_id).distinct()
        return self.none()

    def active(self):
        return self.filter(state__in=ReportJob.ACTIVE_STATES)


class ReportJob(models.Model):
    """One request for a report: who asked, for which year and period, how far it got.

    Finished jobs are the report's versions; their files never change afterwards.
    """

    class Kind(models.TextChoices):
        NATIONAL = "national", _("全國年度執行成果")
        AGENCY_BATCH = "agency_batch", _("各機關年度報告（全部機關）")

    class State(models.TextChoices):
        QUEUED = "queued", _("排隊中")
        RUNNING = "running", _("產製中")
        DONE = "done", _("完成")
        FAILED = "failed", _("失敗")

    ACTIVE_STATES = (State.QUEUED, State.RUNNING)

    kind = models.CharField(_("報告種類"), max_length=20, choices=Kind.choices)
    year = models.PositiveSmallIntegerField(_("年度（民國）"))
    quarter = models.PositiveSmallIntegerField(_("截至季別"), default=4, help_text=_("4 表示全年度"))
    draft = models.BooleanField(_("草稿"), default=False, help_text=_("資料尚未全部核定或缺少目標值時產製的草稿，不得發布"))
    draft_reasons = models.JSONField(_("草稿原因"), default=list, blank=True)
    # A final version despite entries not yet approved: AAC decides the cut-off, and why; those
    # entries are left out of the figures and listed in the report's annex.
    cutoff_reason = models.TextField(_("截止理由"), blank=True, help_text=_("以申請時間為截止點產製正式版的理由；未核定資料不計入並列於附錄"))
    dedupe_key = models.CharField(max_length=80, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("申請人"))
    requested_at = models.DateTimeField(_("申請時間"), default=timezone.now)
    state = models.CharField(_("狀態"), max_length=20, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(_("進度（%）"), default=0)
    progress_text = models.CharField(_("進度說明"), max_length=200, blank=True)
    error = models.TextField(_("錯誤原因"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("執行次數"), default=0)
    started_at = models.DateTimeField(_("開始時間"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("最後回報時間"), null=True, blank=True, help_text=_("工作程序定期更新；過久未更新視為中斷"))
    finished_at = models.DateTimeField(_("完成時間"), null=True, blank=True)
    data_as_of = models.DateTimeField(_("資料截止時間"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本"), null=True, blank=True, help_text=_("完成時依同一報告的完成順序編號"))
    published_at = models.DateTimeField(_("發布時間"), null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("發布者"))

    objects = ReportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("報告產製工作")
        verbose_name_plural = _("報告產製工作")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            # A second request for a report that is still being made joins the first.
            models.UniqueConstraint(
                fields=["dedupe_key"], condition=Q(state__in=["queued", "running"]), name="reportjob_one_active_per_report",
                violation_error_message=_("同一份報告已在產製中。"),
            ),
            models.CheckConstraint(condition=Q(quarter__gte=1, quarter__lte=4), name="reportjob_quarter_1_to_4", violation_error_message=_("季別須為 1 至 4。")),
            models.CheckConstraint(condition=Q(progress__lte=100), name="reportjob_progress_percent", violation_error_message=_("進度不可超過 100%。")),
            models.CheckConstraint(
                condition=Q(published_at__isnull=True) | Q(state="done", draft=False), name="reportjob_publish_done_final_only",
                violation_error_message=_("只有完成且非草稿的報告可以發布。"),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} 民國{self.year}年{'' if self.quarter == 4 else f'截至第{self.quarter}季'}"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES

    @property
    def period_label(self) -> str:
        return _("全年度") if self.quarter == 4 else _("截至第%(q)d季") % {"q": self.quarter}

    @staticmethod
    def key_for(*, kind: str, year: int, quarter: int, draft: bool) -> str:
        return f"{kind}:{year}:q{quarter}:{'draft' if draft else 'final'}"


class ReportFileQuerySet(models.QuerySet):
    def in_reading_order(self):
        """By agency, then PDF, XLSX, ODS, ZIP: the order people reach for them."""
        order = models.Case(*(models.When(format=fmt, then=i) for i, fmt in enumerate(["pdf", "xlsx", "ods", "zip"])), default=9)
        return self.annotate(format_order=order).order_by("agency__name", "format_order")


class ReportFile(models.Model):
    """One output of a finished job (or one agency's file in a batch), never rewritten."""

    class Format(models.TextChoices):
        PDF = "pdf", "PDF"
        XLSX = "xlsx", _("Excel（XLSX）")
        ODS = "ods", _("ODF 試算表（ODS）")
        ZIP = "zip", _("ZIP 壓縮檔")

    job = models.ForeignKey(ReportJob, on_delete=models.CASCADE, related_name="files", verbose_name=_("報告產製工作"))
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("機關"))
    format = models.CharField(_("格式"), max_length=10, choices=Format.choices)
    file = models.FileField(_("檔案"), storage=report_storage_callable, max_length=300)
    filename = models.CharField(_("下載檔名"), max_length=200)
    size = models.PositiveBigIntegerField(_("大小（位元組）"))
    sha256 = models.CharField(_("SHA-256 檢查碼"), max_length=64)
    created_at = models.DateTimeField(_("產製時間"), default=timezone.now)

    objects = ReportFileQuerySet.as_manager()

    class Meta:
        verbose_name = _("報告檔案")
        verbose_name_plural = _("報告檔案")
        ordering = ["agency__name", "format"]
        constraints = [
            models.UniqueConstraint(fields=["job", "agency", "format"], name="reportfile_one_per_job_agency_format",
                                    violation_error_message=_("此報告已有同格式的檔案。")),
            models.UniqueConstraint(fields=["job", "format"], condition=Q(agency__isnull=True), name="reportfile_one_national_per_format",
                                    violation_error_message=_("此報告已有同格式的檔案。")),
        ]

    def __str__(self):
        return self.filename


class AgencyReportItem(models.Model):
    """One agency's part of a per-agency batch: its own state, so a rerun redoes only the
    agencies that failed."""

    class State(models.TextChoices):
        QUEUED = "queued", _("排隊中")
        DONE = "done", _("完成")
        FAILED = "failed", _("失敗")

    job = models.ForeignKey(ReportJob, on_delete=models.CASCADE, related_name="items", verbose_name=_("報告產製工作"))
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("機關"))
    state = models.CharField(_("狀態"), max_length=20, choices=State.choices, default=State.QUEUED)
    error = models.TextField(_("錯誤原因"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("執行次數"), default=0)
    finished_at = models.DateTimeField(_("完成時間"), null=True, blank=True)

    class Meta:
        verbose_name = _("機關報告")
        verbose_name_plural = _("機關報告")
        ordering = ["agency__name"]
        constraints = [models.UniqueConstraint(fields=["job", "agency"], name="agencyreportitem_one_per_agency")]

    def __str__(self):
        return f"{self.agency} {self.get_state_display()}"
