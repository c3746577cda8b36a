from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .naming import normalize_agency_name


class Agency(models.Model):
    """A government body named by the plans, or a collective such as 各機關."""

    class Collective(models.TextChoices):
        SINGLE = "", _("單一機關")
        EVERY_AGENCY = "every_agency", _("各機關（全體機關）")
        GROUP = "group", _("機關群組")

    name = models.CharField(_("機關名稱"), max_length=100, unique=True)
    short_name = models.CharField(_("簡稱"), max_length=50, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上級機關"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    collective = models.CharField(
        _("機關類型"), max_length=20, choices=Collective.choices, default=Collective.SINGLE, blank=True
    )
    note = models.TextField(_("備註"), blank=True)

    class Meta:
        verbose_name = _("機關")
        verbose_name_plural = _("機關")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(name=""),
                name="agency_name_not_empty",
                violation_error_message=_("機關名稱不可空白。"),
            ),
            models.CheckConstraint(
                condition=~Q(parent=models.F("pk")),
                name="agency_not_own_parent",
                violation_error_message=_("機關不可為自己的上級機關。"),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def display_short_name(self):
        return self.short_name or self.name


class AgencyName(models.Model):
    """Every name a body is known by — its official name, older names, spellings.

    One table holds them all so that a single unique key guarantees that a
    printed name can never point at two bodies.
    """

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="names", verbose_name=_("機關"))
    name = models.CharField(_("名稱"), max_length=120)
    key = models.CharField(_("比對用名稱"), max_length=120, editable=False)
    is_official = models.BooleanField(_("現行正式名稱"), default=False)
    note = models.CharField(_("說明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("機關名稱或別名")
        verbose_name_plural = _("機關名稱與別名")
        ordering = ["agency", "-is_official", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                name="agencyname_key_unique",
                violation_error_message=_("此名稱已屬於另一個機關。"),
            ),
            models.UniqueConstraint(
                fields=["agency"],
                condition=Q(is_official=True),
                name="agencyname_one_official_per_agency",
                violation_error_message=_("每個機關只能有一個正式名稱。"),
            ),
            models.CheckConstraint(
                condition=~Q(key=""),
                name="agencyname_key_not_empty",
                violation_error_message=_("名稱不可空白。"),
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.key = normalize_agency_name(self.name)
        super().save(*args, **kwargs)


class User(AbstractUser):
    """Portal user. Roles and memberships build on this model; it exists from
    the first migration because a custom user model cannot be swapped in later."""

    agency = models.ForeignKey(
        Agency,
        verbose_name=_("所屬機關"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("使用者")
        verbose_name_plural = _("使用者")
