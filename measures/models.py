"""The plan: versions → goals, (sections) → strategies → measures → performance
targets, indicators and yearly target values, with agency assignments.

Invariants live in named database constraints so that no code path — loader,
admin, shell — can store a plan the database would not accept.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency

from .numbers import chinese_numeral


def _positive(field: str, message) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__gte": 1}), name=f"%(class)s_{field}_positive", violation_error_message=message)


class PlanVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草案")
        IN_FORCE = "in_force", _("現行")
        SUPERSEDED = "superseded", _("已修正（舊版）")

    code = models.SlugField(_("版本代碼"), max_length=20, unique=True, help_text=_("例如 112"))
    title = models.CharField(_("名稱"), max_length=200)
    subtitle = models.CharField(_("副標題"), max_length=200, blank=True)
    approved_on = models.DateField(_("核定日期"), null=True, blank=True)
    first_year = models.PositiveSmallIntegerField(_("適用起始年度（民國）"))
    last_year = models.PositiveSmallIntegerField(_("適用結束年度（民國）"), null=True, blank=True)
    status = models.CharField(_("狀態"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    target_year = models.PositiveSmallIntegerField(_("目標值年度（民國）"), null=True, blank=True)
    basis = models.TextField(_("依據"), blank=True)
    preamble = models.TextField(_("具體策略前言"), blank=True)
    provisions = models.JSONField(_("其他規定"), default=list, blank=True)

    class Meta:
        verbose_name = _("方案版本")
        verbose_name_plural = _("方案版本")
        ordering = ["-first_year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_year__isnull=True) | Q(last_year__gte=F("first_year")),
                name="planversion_years_in_order",
                violation_error_message=_("結束年度不可早於起始年度。"),
            ),
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="in_force"),
                name="planversion_one_in_force",
                violation_error_message=_("同一時間只能有一個現行版本。"),
            ),
            models.CheckConstraint(
                condition=Q(first_year__gte=1),
                name="planversion_first_year_positive",
                violation_error_message=_("起始年度必須為正數。"),
            ),
        ]

    def __str__(self):
        return f"{self.title}（{self.code}年版）"

    def get_absolute_url(self):
        return reverse("measures:plan", args=[self.code])

    @property
    def has_values(self) -> bool:
        return self.target_year is not None

    def years_covered(self) -> list[int]:
        """ROC years this version applies to; an open-ended one up to its latest year with target values."""
        if self.last_year:
            return list(range(self.first_year, self.last_year + 1))
        latest = self.target_years.aggregate(latest=models.Max("year"))["latest"] if self.pk else None
        return list(range(self.first_year, max(self.first_year, self.target_year or 0, latest or 0) + 1))


class Goal(models.Model):
    plan = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="goals", verbose_name=_("方案版本"))
    number = models.PositiveSmallIntegerField(_("編號"))
    title = models.CharField(_("目標"), max_length=50)
    text = models.TextField(_("說明"), blank=True)

    class Meta:
        verbose_name = _("目標")
        verbose_name_plural = _("目標")
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "number"], name="goal_number_unique_in_plan",
                violation_error_message=_("同一版本內目標編號不可重複。"),
            ),
            _positive("number", _("編號必須為正整數。")),
        ]

    def __str__(self):
        return self.title


class Section(models.Model):
    """Older plans group strategies into areas (一、加強肅貪防貪) and groups (肅貪／防貪)."""

    class Kind(models.TextChoices):
        AREA = "area", _("面向")
        GROUP = "group", _("分項")

    plan = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="sections", verbose_name=_("方案版本"))
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children", verbose_name=_("上層"))
    kind = models.CharField(_("層級"), max_length=10, choices=Kind.choices)
    number = models.PositiveSmallIntegerField(_("編號"))
    title = models.CharField(_("名稱"), max_length=200)

    class Meta:
        verbose_name = _("面向／分項")
        verbose_name_plural = _("面向／分項")
        ordering = ["plan", "parent_id", "number"]
        constraints = [
            models.UniqueConstraint(
                "plan", Coalesce("parent", 0), "number", name="section_number_unique_in_parent",
                violation_error_message=_("同一層級內編號不可重複。"),
            ),
            models.CheckConstraint(
                condition=(Q(kind="area") & Q(parent__isnull=True)) | (Q(kind="group") & Q(parent__isnull=False)),
                name="section_kind_matches_level",
                violation_error_message=_("面向位於最上層，分項必須屬於某個面向。"),
            ),
            _positive("number", _("編號必須為正整數。")),
        ]

    def __str__(self):
        return self.title


class Strategy(models.Model):
    plan = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="strategies", verbose_name=_("方案版本"))
    section = models.ForeignKey(Section, null=True, blank=True, on_delete=models.CASCADE, related_name="strategies", verbose_name=_("面向／分項"))
    number = models.PositiveSmallIntegerField(_("編號"))
    printed_number = models.CharField(_("原文編號"), max_length=10, blank=True)
    title = models.TextField(_("具體策略"))
    position = models.PositiveSmallIntegerField(_("排序"), default=0, help_text=_("在整個版本中的順序"))

    class Meta:
        verbose_name = _("具體策略")
        verbose_name_plural = _("具體策略")
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(
                "plan", Coalesce("section", 0), "number", name="strategy_number_unique_in_parent",
                violation_error_message=_("同一層級內具體策略編號不可重複。"),
            ),
            _positive("number", _("編號必須為正整數。")),
        ]

    def __str__(self):
        return f"{self.label} {self.title}"

    @property
    def label(self):
        """一、 in the 112 plan; the printed 1. or (一) in older ones."""
        if self.printed_number.endswith("."):
            return f"{self.printed_number} "
        return self.printed_number or f"{chinese_numeral(self.number)}、"

    @property
    def short_label(self):
        """七 or (一): for breadcrumbs and citations."""
        return self.printed_number.rstrip(".") or chinese_numeral(self.number)

    def get_absolute_url(self):
        return reverse("measures:strategy", args=[self.plan.code, self.pk])


class Measure(models.Model):
    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="measures", verbose_name=_("具體策略"))
    number = models.PositiveSmallIntegerField(_("編號"))
    printed_number = models.CharField(_("原文編號"), max_length=10, blank=True)
    text = models.TextField(_("執行措施"))
    agencies_text = models.TextField(_("辦理機關（原文）"), blank=True)

    class Meta:
        verbose_name = _("執行措施")
        verbose_name_plural = _("執行措施")
        ordering = ["strategy__position", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["strategy", "number"], name="measure_number_unique_in_strategy",
                violation_error_message=_("同一具體策略內執行措施編號不可重複。"),
            ),
            _positive("number", _("編號必須為正整數。")),
        ]

    def __str__(self):
        return f"{self.reference} {self.text[:30]}"

    @property
    def reference(self):
        """Short citation as people write it: 7(五) in the 112 plan, (一)2. in older ones."""
        if self.printed_number.startswith("("):
            return f"{self.strategy.number}{self.printed_number}"
        return f"{self.strategy.printed_number or self.strategy.number}{self.printed_number or ''}"

    def get_absolute_url(self):
        return reverse("measures:measure", args=[self.strategy.plan.code, self.pk])


class MeasureItem(models.Model):
    """A numbered line under a measure: a performance target or an indicator."""

    position = models.PositiveSmallIntegerField(_("排序"))
    number = models.PositiveSmallIntegerField(_("編號"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["measure", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "position"], name="%(class)s_position_unique_in_measure",
                violation_error_message=_("同一執行措施內順序不可重複。"),
            ),
            models.UniqueConstraint(
                fields=["measure", "number"], condition=Q(number__isnull=False), name="%(class)s_number_unique_in_measure",
                violation_error_message=_("同一執行措施內編號不可重複。"),
            ),
            _positive("position", _("順序必須為正整數。")),
        ]

    def __str__(self):
        return f"{self.number}. {self.text[:40]}" if self.number else self.text[:40]


class PerformanceTarget(MeasureItem):
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="targets", verbose_name=_("執行措施"))
    text = models.TextField(_("績效目標"))

    class Meta(MeasureItem.Meta):
        verbose_name = _("績效目標")
        verbose_name_plural = _("績效目標")


class Indicator(MeasureItem):
    class Frequency(models.TextChoices):
        MONTHLY = "monthly", _("每月")
        QUARTERLY = "quarterly", _("每季")
        HALF_YEARLY = "half_yearly", _("每半年")
        YEARLY = "yearly", _("每年")

    class Aggregation(models.TextChoices):
        SUM = "sum", _("加總")
        RATIO = "ratio", _("分子分母分別加總後相除")
        LATEST = "latest", _("最新狀態")

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("執行措施"))
    text = models.TextField(_("績效衡量指標"))
    frequency = models.CharField(_("填報頻率"), max_length=20, choices=Frequency.choices, default=Frequency.QUARTERLY)
    aggregation = models.CharField(_("年度數值計算方式"), max_length=10, choices=Aggregation.choices, default=Aggregation.SUM)

    class Meta(MeasureItem.Meta):
        verbose_name = _("績效衡量指標")
        verbose_name_plural = _("績效衡量指標")

    def entry_kind(self, value_kinds=None) -> str:
        """What an agency enters each period: quantity, ratio, milestone, grade or text.

        Follows the aggregation, and for "latest status" indicators the kind of the
        target values they measure. ``value_kinds`` may be passed when prefetched.
        """
        if self.aggregation == self.Aggregation.RATIO:
            return "ratio"
        if self.aggregation == self.Aggregation.SUM:
            return "quantity"
        kinds = set(value_kinds if value_kinds is not None else self.values.values_list("kind", flat=True))
        if "grade" in kinds:
            return "grade"
        if "milestone" in kinds:
            return "milestone"
        if kinds & {"count", "money", "maintain"}:
            return "quantity"
        return "text"


class TargetValue(models.Model):
    """One figure to reach in one year, as printed in the plan's last column.

    A printed item that holds several figures is stored as several values that
    share ``number`` and differ in ``part``. Keyed on the printed item rather
    than on the indicator: the plan itself prints two figures under one
    indicator (1(一) item 3, 8(四)), so "one value per indicator" does not hold.
    """

    class Kind(models.TextChoices):
        COUNT = "count", _("數量")
        RATIO = "ratio", _("比率")
        MONEY = "money", _("金額")
        MAINTAIN = "maintain", _("維持至少")
        GRADE = "grade", _("等級")
        MILESTONE = "milestone", _("里程碑")
        REPORT_ONLY = "report_only", _("僅需提報")

    NUMERIC_KINDS = (Kind.COUNT, Kind.RATIO, Kind.MONEY, Kind.MAINTAIN)

    class Comparator(models.TextChoices):
        AT_LEAST = "at_least", _("至少")
        AT_MOST = "at_most", _("至多")
        ABOUT = "about", _("約")

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="values", verbose_name=_("執行措施"))
    year = models.PositiveSmallIntegerField(_("年度（民國）"))
    position = models.PositiveSmallIntegerField(_("排序"))
    number = models.PositiveSmallIntegerField(_("原文編號"), null=True, blank=True)
    part = models.PositiveSmallIntegerField(_("分項"), null=True, blank=True, help_text=_("同一項目含多個數值時的序號"))
    heading = models.CharField(_("原文標題"), max_length=100, blank=True)
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="target_values", verbose_name=_("適用機關"))
    text = models.TextField(_("目標值（原文）"))
    part_text = models.TextField(_("本分項原文"), blank=True)
    kind = models.CharField(_("類型"), max_length=20, choices=Kind.choices)
    figure = models.CharField(_("數值（原文）"), max_length=50, blank=True)
    quantity = models.DecimalField(_("數值"), max_digits=18, decimal_places=4, null=True, blank=True)
    unit = models.CharField(_("單位"), max_length=20, blank=True)
    comparator = models.CharField(_("比較方式"), max_length=10, choices=Comparator.choices, blank=True)
    grade = models.CharField(_("等級"), max_length=10, blank=True)
    due_on = models.DateField(_("完成期限"), null=True, blank=True)
    note = models.TextField(_("備註"), blank=True)
    indicators = models.ManyToManyField(Indicator, through="TargetValueIndicator", related_name="values", blank=True, verbose_name=_("衡量指標"))

    class Meta:
        verbose_name = _("績效目標值")
        verbose_name_plural = _("績效目標值")
        ordering = ["measure", "year", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "year", "position"], name="targetvalue_position_unique",
                violation_error_message=_("同一執行措施、同一年度的目標值順序不可重複。"),
            ),
            models.UniqueConstraint(
                "measure", "year", Coalesce("agency", 0), Coalesce("number", 0), Coalesce("part", 0),
                name="targetvalue_printed_item_unique",
                violation_error_message=_("同一執行措施、年度、機關的目標值編號（及分項）不可重複。"),
            ),
            models.CheckConstraint(
                condition=(Q(kind__in=["count", "ratio", "money", "maintain"]) & Q(quantity__isnull=False) & Q(quantity__gte=0) & ~Q(unit="") & ~Q(comparator=""))
                | (~Q(kind__in=["count", "ratio", "money", "maintain"]) & Q(quantity__isnull=True)),
                name="targetvalue_quantity_matches_kind",
                violation_error_message=_("數量、比率、金額與維持類目標值須有非負數值、單位與比較方式；其他類型不可有數值。"),
            ),
            models.CheckConstraint(
                condition=~Q(kind="ratio") | ~Q(unit="%") | Q(quantity__lte=100),
                name="targetvalue_percentage_at_most_100",
                violation_error_message=_("百分比不可超過 100%%。"),  # %% because Django formats the message
            ),
            models.CheckConstraint(
                condition=(Q(kind="grade") & ~Q(grade="")) | (~Q(kind="grade") & Q(grade="")),
                name="targetvalue_grade_only_for_grades",
                violation_error_message=_("等級類目標值須填等級，其他類型不可填等級。"),
            ),
            models.CheckConstraint(
                condition=Q(kind="milestone") | Q(due_on__isnull=True),
                name="targetvalue_due_only_for_milestones",
                violation_error_message=_("只有里程碑類目標值可設定完成期限。"),
            ),
            models.CheckConstraint(
                condition=Q(part__isnull=True) | Q(part__gte=1),
                name="targetvalue_part_positive",
                violation_error_message=_("分項序號必須為正整數。"),
            ),
            _positive("position", _("順序必須為正整數。")),
        ]

    def __str__(self):
        return f"{self.label} {self.display_text[:40]}"

    @property
    def label(self):
        """1, 3-2 (item 3, second figure), or (2) for the second figure of an unnumbered item."""
        if self.number is None:
            return f"({self.part})" if self.part else ""
        return f"{self.number}-{self.part}" if self.part else f"{self.number}"

    @property
    def display_text(self):
        return self.part_text or self.text

    @property
    def is_numeric(self):
        return self.kind in self.NUMERIC_KINDS

    def clean(self):
        super().clean()
        if self.pk and self.is_numeric and self.quantity is not None:
            breakdown_error = breakdown_sum_error(self.quantity, [share.quantity for share in self.shares.all()])
            if breakdown_error:
                raise ValidationError(breakdown_error)


def breakdown_sum_error(total: Decimal, share_quantities: list[Decimal]):
    """The message when a per-agency breakdown does not add up, else None."""
    if share_quantities and sum(share_quantities) != total:
        return _("各機關分配數合計 %(sum)s 與目標值 %(total)s 不符。") % {
            "sum": f"{sum(share_quantities):g}",
            "total": f"{total:g}",
        }
    return None


class TargetValueShare(models.Model):
    """One agency's share of a value, e.g. 交通部6次 in 7(五) 11次."""

    value = models.ForeignKey(TargetValue, on_delete=models.CASCADE, related_name="shares", verbose_name=_("目標值"))
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="target_value_shares", verbose_name=_("機關"))
    position = models.PositiveSmallIntegerField(_("排序"))
    figure = models.CharField(_("數值（原文）"), max_length=50)
    quantity = models.DecimalField(_("數值"), max_digits=18, decimal_places=4)

    class Meta:
        verbose_name = _("目標值機關分配")
        verbose_name_plural = _("目標值機關分配")
        ordering = ["value", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["value", "agency"], name="targetvalueshare_one_per_agency",
                violation_error_message=_("同一目標值中每個機關只能分配一次。"),
            ),
            models.UniqueConstraint(
                fields=["value", "position"], name="targetvalueshare_position_unique",
                violation_error_message=_("分配順序不可重複。"),
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="targetvalueshare_quantity_positive",
                violation_error_message=_("分配數必須大於零。"),
            ),
        ]

    def __str__(self):
        return f"{self.agency}：{self.figure}"


class TargetValueIndicator(models.Model):
    value = models.ForeignKey(TargetValue, on_delete=models.CASCADE, verbose_name=_("目標值"))
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, verbose_name=_("衡量指標"))

    class Meta:
        verbose_name = _("目標值對應指標")
        verbose_name_plural = _("目標值對應指標")
        constraints = [
            models.UniqueConstraint(
                fields=["value", "indicator"], name="targetvalueindicator_unique",
                violation_error_message=_("目標值與指標的對應不可重複。"),
            ),
        ]


class AgencyAssignment(models.Model):
    """An agency's duty on a measure, or on one performance target of it."""

    class Role(models.TextChoices):
        LEAD = "lead", _("主辦")
        ASSISTING = "assisting", _("協辦")

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("執行措施"))
    target = models.ForeignKey(
        PerformanceTarget, null=True, blank=True, on_delete=models.CASCADE, related_name="assignments",
        verbose_name=_("績效目標"), help_text=_("空白表示適用整個執行措施"),
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("機關"))
    role = models.CharField(_("角色"), max_length=10, choices=Role.choices)
    printed_name = models.CharField(_("原文機關名稱"), max_length=120)
    position = models.PositiveSmallIntegerField(_("排序"))

    class Meta:
        verbose_name = _("辦理機關")
        verbose_name_plural = _("辦理機關")
        ordering = ["measure", "position"]
        constraints = [
            models.UniqueConstraint(
                "measure", Coalesce("target", 0), "agency", name="assignment_one_role_per_agency",
                violation_error_message=_("同一機關在同一執行措施（或績效目標）只能有一個角色。"),
            ),
        ]

    def __str__(self):
        return f"{self.get_role_display()}：{self.agency}"


class KeyItem(models.Model):
    """A measure NDC marked as a key item under Executive Yuan control (院列管) for a year.

    Measures without a mark that year are tracked by the agencies themselves (自行列管).
    """

    year = models.PositiveSmallIntegerField(_("年度（民國）"))
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="key_items", verbose_name=_("執行措施"))
    marked_by = models.ForeignKey("agencies.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("標記者"))
    marked_at = models.DateTimeField(_("標記時間"), auto_now_add=True)

    class Meta:
        verbose_name = _("院列管項目")
        verbose_name_plural = _("院列管項目")
        ordering = ["year", "measure__strategy__position", "measure__number"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "measure"], name="keyitem_one_mark_per_measure_year",
                violation_error_message=_("同一年度同一執行措施只能標記一次。"),
            ),
        ]

    def __str__(self):
        return f"{self.year} {self.measure.reference}"


class TargetYear(models.Model):
    """One year's set of target values (年度績效目標值) of a version.

    AAC opens a year for setting; the lead agencies propose (reporting.TargetProposal);
    AAC publishes (核定). Only a published year has TargetValue rows, so every page,
    report and export that reads TargetValue reads published values only. A year
    printed in the plan document itself is published when the plan file is loaded.
    """

    class State(models.TextChoices):
        SETTING = "setting", _("研訂中")
        PUBLISHED = "published", _("已核定公布")

    class Source(models.TextChoices):
        PORTAL = "portal", _("線上研訂")
        PLAN_FILE = "plan_file", _("方案檔案")

    plan = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="target_years", verbose_name=_("方案版本"))
    year = models.PositiveSmallIntegerField(_("年度（民國）"))
    state = models.CharField(_("狀態"), max_length=20, choices=State.choices, default=State.SETTING)
    source = models.CharField(_("來源"), max_length=20, choices=Source.choices, default=Source.PORTAL)
    due_on = models.DateField(_("提報期限"), null=True, blank=True)
    note = models.TextField(_("說明"), blank=True)
    opened_by = models.ForeignKey("agencies.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("開放者"))
    opened_at = models.DateTimeField(_("開放時間"), null=True, blank=True)
    published_by = models.ForeignKey("agencies.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("核定者"))
    published_at = models.DateTimeField(_("核定時間"), null=True, blank=True)

    class Meta:
        verbose_name = _("年度目標值")
        verbose_name_plural = _("年度目標值")
        ordering = ["plan", "year"]
        constraints = [
            models.UniqueConstraint(fields=["year"], name="targetyear_one_version_per_year", violation_error_message=_("同一年度只能屬於一個方案版本。")),
            models.CheckConstraint(
                condition=Q(state="setting") | Q(published_at__isnull=False),
                name="targetyear_published_has_time",
                violation_error_message=_("已核定的年度須有核定時間。"),
            ),
        ]

    def __str__(self):
        return f"{self.plan.code} {self.year}"

    @property
    def is_published(self) -> bool:
        return self.state == self.State.PUBLISHED


class TargetValueRevision(models.Model):
    """A change to a published value: never in place, always with a reason, who and when."""

    value = models.ForeignKey(TargetValue, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("目標值"))
    revised_at = models.DateTimeField(_("修正時間"), auto_now_add=True)
    revised_by = models.ForeignKey("agencies.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("修正者"))
    reason = models.TextField(_("修正理由"))
    changes = models.JSONField(_("變更內容"), default=dict, help_text=_("{欄位: [修正前, 修正後]}"))

    class Meta:
        verbose_name = _("目標值修正紀錄")
        verbose_name_plural = _("目標值修正紀錄")
        ordering = ["value", "revised_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="targetvaluerevision_reason_required", violation_error_message=_("修正目標值須填寫理由。")),
        ]


class Lineage(models.Model):
    """An item of a newer version continues one of an older version (same line of work),
    so trends and year-over-year figures follow it across a revision."""

    class Basis(models.TextChoices):
        REFERENCE = "reference", _("編號相同")
        TEXT = "text", _("文字相近")
        MANUAL = "manual", _("人工指定")

    basis = models.CharField(_("對應依據"), max_length=20, choices=Basis.choices, default=Basis.MANUAL)
    confirmed_by = models.ForeignKey("agencies.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("確認者"))
    confirmed_at = models.DateTimeField(_("確認時間"), auto_now_add=True)

    class Meta:
        abstract = True


class MeasureLineage(Lineage):
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="predecessor_links", verbose_name=_("執行措施"))
    predecessor = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="successor_links", verbose_name=_("延續自"))

    class Meta:
        verbose_name = _("執行措施沿革")
        verbose_name_plural = _("執行措施沿革")
        constraints = [
            models.UniqueConstraint(fields=["measure", "predecessor"], name="measurelineage_unique", violation_error_message=_("同一對應不可重複。")),
            models.CheckConstraint(condition=~Q(measure=F("predecessor")), name="measurelineage_not_self", violation_error_message=_("執行措施不可延續自己。")),
        ]


class IndicatorLineage(Lineage):
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="predecessor_links", verbose_name=_("衡量指標"))
    predecessor = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="successor_links", verbose_name=_("延續自"))

    class Meta:
        verbose_name = _("衡量指標沿革")
        verbose_name_plural = _("衡量指標沿革")
        constraints = [
            models.UniqueConstraint(fields=["indicator", "predecessor"], name="indicatorlineage_unique", violation_error_message=_("同一對應不可重複。")),
            models.CheckConstraint(condition=~Q(indicator=F("predecessor")), name="indicatorlineage_not_self", violation_error_message=_("衡量指標不可延續自己。")),
        ]
