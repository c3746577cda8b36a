"""Who reports what: obligations derived each year from the plan's assignments."""

from django.conf import settings
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
