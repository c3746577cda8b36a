"""Who reports what: obligations derived each year from the plan's assignments."""

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from measures.models import AgencyAssignment, Indicator

from .querysets import ObligationQuerySet


class ObligationScope(models.Model):
    """How 各機關 (every agency) expands in one year; an administrator may narrow it."""

    year = models.PositiveSmallIntegerField(_("年度（民國）"), unique=True)
    kinds = models.JSONField(
        _("適用的機關類別"), default=list, blank=True, help_text=_("空白表示所有類別；例如只選「中央機關」")
    )
    updated_at = models.DateTimeField(_("更新時間"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("更新者"))

    class Meta:
        verbose_name = _("各機關適用範圍")
        verbose_name_plural = _("各機關適用範圍")

    def __str__(self):
        return f"{self.year}"


class Obligation(models.Model):
    """Agency X reports indicator Y in year Z (its periods follow the indicator's frequency)."""

    class Source(models.TextChoices):
        NAMED = "named", _("方案指名")
        EVERY_AGENCY = "every_agency", _("各機關")
        GROUP = "group", _("機關群組")

    year = models.PositiveSmallIntegerField(_("年度（民國）"))
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="obligations", verbose_name=_("機關"))
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="obligations", verbose_name=_("衡量指標"))
    role = models.CharField(_("角色"), max_length=10, choices=AgencyAssignment.Role.choices)
    source = models.CharField(_("來源"), max_length=20, choices=Source.choices)
    created_at = models.DateTimeField(_("建立時間"), default=timezone.now)

    objects = ObligationQuerySet.as_manager()

    class Meta:
        verbose_name = _("填報義務")
        verbose_name_plural = _("填報義務")
        ordering = ["year", "indicator__measure__strategy__position", "indicator__measure__number", "indicator__position", "agency__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "agency", "indicator"], name="obligation_one_per_agency_indicator_year",
                violation_error_message=_("同一機關同一年度同一指標只有一項填報義務。"),
            ),
        ]
        indexes = [models.Index(fields=["year", "agency"], name="obligation_year_agency")]

    def __str__(self):
        return f"{self.year} {self.agency} {self.indicator}"


class ReportingPeriod(models.Model):
    """A month, quarter, half-year or year in which figures are entered.

    open: agencies enter and submit; closed: past its due date, late entries still
    accepted and marked late; locked: nothing changes unless AAC reopens it for an
    agency or for all (PeriodReopening).
    """

    class State(models.TextChoices):
        OPEN = "open", _("開放填報")
        CLOSED = "closed", _("已截止")
        LOCKED = "locked", _("已鎖定")

    PERIODS_PER_YEAR = {"monthly": 12, "quarterly": 4, "half_yearly": 2, "yearly": 1}

    year = models.PositiveSmallIntegerField(_("年度（民國）"))
    frequency = models.CharField(_("頻率"), max_length=20, choices=Indicator.Frequency.choices)
    number = models.PositiveSmallIntegerField(_("期別"))
    opens_on = models.DateField(_("開放日期"))
    due_on = models.DateField(_("截止日期"))
    state = models.CharField(_("狀態"), max_length=10, choices=State.choices, default=State.OPEN)

    class Meta:
        verbose_name = _("填報期間")
        verbose_name_plural = _("填報期間")
        ordering = ["year", "frequency", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "frequency", "number"], name="reportingperiod_one_per_number",
                violation_error_message=_("同一年度、頻率與期別的填報期間已存在。"),
            ),
            models.CheckConstraint(
                condition=Q(due_on__gte=models.F("opens_on")), name="reportingperiod_due_after_opening",
                violation_error_message=_("截止日期不可早於開放日期。"),
            ),
            models.CheckConstraint(
                condition=(Q(frequency="monthly", number__gte=1, number__lte=12) | Q(frequency="quarterly", number__gte=1, number__lte=4)
                           | Q(frequency="half_yearly", number__gte=1, number__lte=2) | Q(frequency="yearly", number=1)),
                name="reportingperiod_number_fits_frequency",
                violation_error_message=_("期別超出此頻率的範圍（月 1–12、季 1–4、半年 1–2、年 1）。"),
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        names = {
            "monthly": _("%(year)d年%(n)d月"),
            "quarterly": _("%(year)d年第%(n)d季"),
            "half_yearly": _("%(year)d年%(half)s"),
            "yearly": _("%(year)d年全年"),
        }
        half = _("上半年") if self.number == 1 else _("下半年")
        return str(names[self.frequency]) % {"year": self.year, "n": self.number, "half": half}

    @property
    def months(self) -> tuple[int, int]:
        """First and last calendar month the period covers."""
        span = 12 // self.PERIODS_PER_YEAR[self.frequency]
        first = (self.number - 1) * span + 1
        return first, first + span - 1

    @property
    def starts_on(self):
        import datetime

        return datetime.date(self.year + 1911, self.months[0], 1)

    @property
    def ends_on(self):
        import calendar
        import datetime

        last = self.months[1]
        return datetime.date(self.year + 1911, last, calendar.monthrange(self.year + 1911, last)[1])

    @property
    def is_last_of_year(self) -> bool:
        return self.number == self.PERIODS_PER_YEAR[self.frequency]


class PeriodReopening(models.Model):
    """AAC reopened a locked period, for one agency or (agency empty) for all."""

    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="reopenings", verbose_name=_("填報期間"))
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("機關"), help_text=_("空白表示所有機關"))
    reason = models.TextField(_("理由"))
    reopened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("重新開放者"))
    reopened_at = models.DateTimeField(_("重新開放時間"), default=timezone.now)
    closed_at = models.DateTimeField(_("再次鎖定時間"), null=True, blank=True)

    class Meta:
        verbose_name = _("重新開放紀錄")
        verbose_name_plural = _("重新開放紀錄")
        ordering = ["-reopened_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="periodreopening_reason_required", violation_error_message=_("重新開放須填寫理由。")),
        ]


class Entry(models.Model):
    """What an agency reports for one obligation in one period."""

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已送出（待機關審核）")
        FORWARDED = "forwarded", _("待廉政署審查")
        RETURNED = "returned", _("退回修正")
        APPROVED = "approved", _("已核定")

    # Still with the officer: they may change it, and it is owed until submitted.
    EDITABLE_STATES = frozenset({State.DRAFT, State.RETURNED})

    class Milestone(models.TextChoices):
        NOT_STARTED = "not_started", _("尚未開始")
        IN_PROGRESS = "in_progress", _("進行中")
        DONE = "done", _("已完成")

    obligation = models.ForeignKey(Obligation, on_delete=models.PROTECT, related_name="entries", verbose_name=_("填報義務"))
    period = models.ForeignKey(ReportingPeriod, on_delete=models.PROTECT, related_name="entries", verbose_name=_("填報期間"))
    state = models.CharField(_("狀態"), max_length=20, choices=State.choices, default=State.DRAFT)
    quantity = models.DecimalField(_("數值"), max_digits=18, decimal_places=4, null=True, blank=True)
    numerator = models.DecimalField(_("分子"), max_digits=18, decimal_places=4, null=True, blank=True)
    denominator = models.DecimalField(_("分母"), max_digits=18, decimal_places=4, null=True, blank=True)
    milestone = models.CharField(_("辦理進度"), max_length=20, choices=Milestone.choices, blank=True)
    reached_on = models.DateField(_("完成日期"), null=True, blank=True)
    grade = models.CharField(_("等級"), max_length=10, blank=True)
    text = models.TextField(_("辦理情形（文字）"), blank=True)
    narrative = models.TextField(_("執行情形"), blank=True)
    shortfall_reason = models.TextField(_("未達成原因及策進作為"), blank=True)
    review_comment = models.TextField(_("審查意見"), blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1, help_text=_("每次儲存加一，用於偵測同時編輯"))
    updated_at = models.DateTimeField(_("最後儲存時間"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("最後儲存者"))
    submitted_at = models.DateTimeField(_("送出時間"), null=True, blank=True)

    class Meta:
        verbose_name = _("填報資料")
        verbose_name_plural = _("填報資料")
        constraints = [
            models.UniqueConstraint(fields=["obligation", "period"], name="entry_one_per_obligation_period", violation_error_message=_("此期間已有填報資料。")),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gte=0), name="entry_quantity_not_negative",
                violation_error_message=_("數值不可為負數。"),
            ),
            models.CheckConstraint(
                condition=Q(denominator__isnull=True) | Q(denominator__gt=0), name="entry_denominator_positive",
                violation_error_message=_("分母必須大於零。"),
            ),
            models.CheckConstraint(
                condition=Q(numerator__isnull=True) | Q(denominator__isnull=True) | (Q(numerator__gte=0) & Q(numerator__lte=models.F("denominator"))),
                name="entry_numerator_within_denominator",
                violation_error_message=_("分子須介於 0 與分母之間。"),
            ),
        ]

    def __str__(self):
        return f"{self.obligation} {self.period}"

    @property
    def percentage(self):
        if self.numerator is None or not self.denominator:
            return None
        return self.numerator * 100 / self.denominator


class EntryEvent(models.Model):
    """One step in an entry's history: who, when, which step, what changed."""

    class Action(models.TextChoices):
        SAVED = "saved", _("儲存")
        SUBMITTED = "submitted", _("送出")
        FORWARDED = "forwarded", _("機關審核通過並轉送")
        RETURNED = "returned", _("退回")
        APPROVED = "approved", _("核定")
        REOPENED = "reopened", _("重新開放")
        EVIDENCE_ADDED = "evidence_added", _("新增佐證資料")
        EVIDENCE_REMOVED = "evidence_removed", _("刪除佐證資料")

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="events", verbose_name=_("填報資料"))
    at = models.DateTimeField(_("時間"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("操作者"))
    action = models.CharField(_("動作"), max_length=20, choices=Action.choices)
    from_state = models.CharField(_("原狀態"), max_length=20, choices=Entry.State.choices, blank=True)
    to_state = models.CharField(_("新狀態"), max_length=20, choices=Entry.State.choices)
    changes = models.JSONField(_("變更內容"), default=dict, blank=True, help_text=_("{欄位: [修改前, 修改後]}"))
    comment = models.TextField(_("說明"), blank=True)

    class Meta:
        verbose_name = _("填報歷程")
        verbose_name_plural = _("填報歷程")
        ordering = ["entry", "at", "pk"]

    @property
    def change_rows(self) -> list[tuple[str, str, str]]:
        """(field label, before, after) in the interface's language, choices by their labels."""
        rows = []
        for name, (before, after) in (self.changes or {}).items():
            try:
                field = Entry._meta.get_field(name)
            except FieldDoesNotExist:
                rows.append((name, before, after))
                continue
            choices = dict(field.choices or ())
            rows.append((str(field.verbose_name), choices.get(before, before), choices.get(after, after)))
        return rows


from .models_notices import Notice, PeriodLockNotice, TargetReminderLog  # noqa: E402,F401


from .models_evidence import Evidence  # noqa: E402,F401


from .models_assessment import AssessmentRule  # noqa: E402,F401


from .models_reports import AgencyReportItem, ReportFile, ReportJob  # noqa: E402,F401


from .models_target_setting import ReporterRule, TargetProposal, TargetProposalEvent  # noqa: E402,F401
