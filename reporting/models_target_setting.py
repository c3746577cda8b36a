"""Setting a year's target values (年度績效目標值研訂) and deciding who reports what that year.

Imported at the bottom of reporting/models.py so that Django registers the models
under the ``reporting`` app. A proposal follows the same workflow as an entry
(draft → submitted → forwarded → approved, or returned); publishing the year turns
the approved proposals into measures.TargetValue rows.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from measures.models import Indicator, Measure, TargetValue, TargetYear


class TargetProposal(models.Model):
    """A lead agency's proposal for one of year N's target values (one future TargetValue)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已送出（待機關審核）")
        FORWARDED = "forwarded", _("待廉政署審查")
        RETURNED = "returned", _("退回修正")
        APPROVED = "approved", _("已核可")

    target_year = models.ForeignKey(TargetYear, on_delete=models.CASCADE, related_name="proposals", verbose_name=_("年度"))
    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="proposals", verbose_name=_("執行措施"))
    lead_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="target_proposals", verbose_name=_("提報機關（主辦）"))
    previous = models.ForeignKey(
        TargetValue, null=True, blank=True, on_delete=models.SET_NULL, related_name="successor_proposals",
        verbose_name=_("前一年度目標值"),
    )
    position = models.PositiveSmallIntegerField(_("排序"))
    number = models.PositiveSmallIntegerField(_("原文編號"), null=True, blank=True)
    part = models.PositiveSmallIntegerField(_("分項"), null=True, blank=True)
    heading = models.CharField(_("原文標題"), max_length=100, blank=True)
    value_agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("適用機關"))
    text = models.TextField(_("目標值"))
    part_text = models.TextField(_("本分項原文"), blank=True)
    kind = models.CharField(_("類型"), max_length=20, choices=TargetValue.Kind.choices)
    quantity = models.DecimalField(_("數值"), max_digits=18, decimal_places=4, null=True, blank=True)
    unit = models.CharField(_("單位"), max_length=20, blank=True)
    comparator = models.CharField(_("比較方式"), max_length=10, choices=TargetValue.Comparator.choices, blank=True)
    grade = models.CharField(_("等級"), max_length=10, blank=True)
    due_on = models.DateField(_("完成期限"), null=True, blank=True)
    note = models.TextField(_("說明"), blank=True)
    # [{"agency_id": 12, "quantity": "6"}]: the assisting agencies' shares of the value.
    shares = models.JSONField(_("機關分配"), default=list, blank=True)
    indicator_ids = models.JSONField(_("衡量指標"), default=list, blank=True)
    state = models.CharField(_("狀態"), max_length=20, choices=State.choices, default=State.DRAFT)
    review_comment = models.TextField(_("審查意見"), blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1, help_text=_("每次儲存加一，用於偵測同時編輯"))
    updated_at = models.DateTimeField(_("最後儲存時間"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("最後儲存者"))
    submitted_at = models.DateTimeField(_("送出時間"), null=True, blank=True)

    class Meta:
        verbose_name = _("目標值提案")
        verbose_name_plural = _("目標值提案")
        ordering = ["target_year", "measure__strategy__position", "measure__number", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["target_year", "measure", "position"], name="targetproposal_position_unique",
                violation_error_message=_("同一年度、同一執行措施的目標值順序不可重複。"),
            ),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gte=0), name="targetproposal_quantity_not_negative",
                violation_error_message=_("數值不可為負數。"),
            ),
        ]
        indexes = [models.Index(fields=["target_year", "lead_agency"], name="targetproposal_year_agency")]

    def __str__(self):
        return f"{self.target_year.year} {self.measure.reference} {self.label}"

    @property
    def label(self) -> str:
        if self.number is None:
            return f"({self.part})" if self.part else ""
        return f"{self.number}-{self.part}" if self.part else f"{self.number}"

    @property
    def year(self) -> int:
        return self.target_year.year

    @property
    def display_text(self) -> str:
        return self.part_text or self.text


class TargetProposalEvent(models.Model):
    """One step in a proposal's history: who, when, which step, what changed."""

    class Action(models.TextChoices):
        CREATED = "created", _("依前一年度預填")
        SAVED = "saved", _("儲存")
        SUBMITTED = "submitted", _("送出")
        FORWARDED = "forwarded", _("機關審核通過並轉送")
        RETURNED = "returned", _("退回")
        APPROVED = "approved", _("核可")
        PUBLISHED = "published", _("核定公布")

    proposal = models.ForeignKey(TargetProposal, on_delete=models.CASCADE, related_name="events", verbose_name=_("目標值提案"))
    at = models.DateTimeField(_("時間"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("操作者"))
    action = models.CharField(_("動作"), max_length=20, choices=Action.choices)
    from_state = models.CharField(_("原狀態"), max_length=20, choices=TargetProposal.State.choices, blank=True)
    to_state = models.CharField(_("新狀態"), max_length=20, choices=TargetProposal.State.choices)
    changes = models.JSONField(_("變更內容"), default=dict, blank=True, help_text=_("{欄位: [修改前, 修改後]}"))
    comment = models.TextField(_("說明"), blank=True)

    class Meta:
        verbose_name = _("目標值提案歷程")
        verbose_name_plural = _("目標值提案歷程")
        ordering = ["proposal", "at", "pk"]


class ReporterRule(models.Model):
    """Who owes an indicator in one year, where AAC departs from the plan's assignments.

    The plan's 各機關 is sometimes wider than the work (1(一) indicator 2, the 透明晶質獎
    that only AAC runs). Rules are never edited: a new one replaces the current one
    (``replaced_at``), so the history of who decided what, and why, stays.
    """

    class Scope(models.TextChoices):
        PLAN = "plan", _("依方案辦理機關")
        NAMED = "named", _("指定機關")
        GROUP = "group", _("機關群組（所屬機關）")
        EVERY_AGENCY = "every_agency", _("各機關（全體機關）")

    year = models.PositiveSmallIntegerField(_("年度（民國）"))
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="reporter_rules", verbose_name=_("衡量指標"))
    scope = models.CharField(_("填報範圍"), max_length=20, choices=Scope.choices)
    agencies = models.ManyToManyField(Agency, blank=True, related_name="+", verbose_name=_("指定機關"))
    group = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("機關群組"))
    reason = models.TextField(_("理由"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("設定者"))
    created_at = models.DateTimeField(_("設定時間"), default=timezone.now)
    replaced_at = models.DateTimeField(_("被取代時間"), null=True, blank=True)

    class Meta:
        verbose_name = _("年度填報機關設定")
        verbose_name_plural = _("年度填報機關設定")
        ordering = ["year", "indicator", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "indicator"], condition=Q(replaced_at__isnull=True), name="reporterrule_one_current",
                violation_error_message=_("同一年度同一指標只能有一項現行設定。"),
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="reporterrule_reason_required", violation_error_message=_("變更填報機關須填寫理由。")),
            models.CheckConstraint(
                condition=~Q(scope="group") | Q(group__isnull=False), name="reporterrule_group_named",
                violation_error_message=_("機關群組範圍須指定群組。"),
            ),
        ]

    def __str__(self):
        return f"{self.year} {self.indicator}: {self.get_scope_display()}"
