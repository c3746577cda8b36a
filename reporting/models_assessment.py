"""How targets are judged: the tolerance an administrator sets for "on track".

Imported at the bottom of reporting/models.py so Django registers it under ``reporting``.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AssessmentRule(models.Model):
    """The one row of assessment settings (pk 1); see reporting/assessment.py for the rules."""

    DEFAULT_TOLERANCE = Decimal("10")

    tolerance_percent = models.DecimalField(
        _("進度容許差距（%）"), max_digits=5, decimal_places=2, default=DEFAULT_TOLERANCE,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("年度累計值達到依期間比例推算之預期值減去此百分比，即視為「進度符合」。例如 10 表示達預期值的 90% 即可。"),
    )
    updated_at = models.DateTimeField(_("更新時間"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("更新者"))

    class Meta:
        verbose_name = _("達成狀態判定設定")
        verbose_name_plural = _("達成狀態判定設定")
        constraints = [
            models.CheckConstraint(
                condition=Q(tolerance_percent__gte=0) & Q(tolerance_percent__lte=100), name="assessmentrule_tolerance_0_100",
                violation_error_message=_("容許差距須介於 0 與 100 之間。"),
            ),
            models.CheckConstraint(condition=Q(pk=1), name="assessmentrule_single_row", violation_error_message=_("判定設定只有一筆。")),
        ]

    def __str__(self):
        return str(_("達成狀態判定設定"))

    @classmethod
    def tolerance(cls) -> Decimal:
        row = cls.objects.filter(pk=1).values_list("tolerance_percent", flat=True).first()
        return cls.DEFAULT_TOLERANCE if row is None else row
