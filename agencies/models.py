from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from tree_queries.fields import TreeNodeForeignKey
from tree_queries.models import TreeNode

from .naming import normalize_agency_name
from .querysets import AgencyQuerySet


class Agency(TreeNode):
    """A government body named by the plans, or a collective such as 各機關.

    The tree (ministry → bodies under it) is read with recursive queries
    (django-tree-queries), so no derived path has to be kept in step.
    """

    class Collective(models.TextChoices):
        SINGLE = "", _("單一機關")
        EVERY_AGENCY = "every_agency", _("各機關（全體機關）")
        GROUP = "group", _("機關群組")

    class Kind(models.TextChoices):
        CENTRAL = "central", _("中央機關")
        LOCAL = "local", _("地方政府")
        STATE_OWNED = "state_owned", _("國營事業")
        JUDICIAL = "judicial", _("司法及檢察機關")
        INDEPENDENT = "independent", _("院級及獨立機關")
        OTHER = "other", _("其他")

    name = models.CharField(_("機關名稱"), max_length=100, unique=True)
    short_name = models.CharField(_("簡稱"), max_length=50, blank=True)
    code = models.CharField(_("機關代碼"), max_length=20, blank=True, help_text=_("行政院人事行政總處機關代碼等正式代碼"))
    parent = TreeNodeForeignKey(
        "self",
        verbose_name=_("上級機關"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    kind = models.CharField(_("機關類別"), max_length=20, choices=Kind.choices, default=Kind.CENTRAL)
    collective = models.CharField(
        _("機關類型"), max_length=20, choices=Collective.choices, default=Collective.SINGLE, blank=True
    )
    has_integrity_unit = models.BooleanField(_("設有政風機構"), default=True)
    is_active = models.BooleanField(_("現存機關"), default=True, help_text=_("裁撤或改制的機關設為否；其歷史資料保留"))
    retired_on = models.DateField(_("裁撤日期"), null=True, blank=True)
    uses_agency_review = models.BooleanField(
        _("送出前經機關審核"), default=True, help_text=_("是：填報人送出後由機關審核人轉送廉政署；否：直接送廉政署審查")
    )
    note = models.TextField(_("備註"), blank=True)

    objects = AgencyQuerySet.as_manager(with_tree_fields=False)

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
            models.UniqueConstraint(
                fields=["code"],
                condition=~Q(code=""),
                name="agency_code_unique",
                violation_error_message=_("機關代碼不可重複。"),
            ),
            models.CheckConstraint(
                condition=Q(is_active=True, retired_on__isnull=True) | Q(is_active=False),
                name="agency_retired_on_only_when_retired",
                violation_error_message=_("只有已裁撤的機關可填裁撤日期。"),
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


class Role(models.TextChoices):
    OFFICER = "officer", _("填報人")
    AGENCY_REVIEWER = "agency_reviewer", _("機關審核人")
    AAC_REVIEWER = "aac_reviewer", _("廉政署審查人")
    NDC_ASSESSOR = "ndc_assessor", _("國發會評核人")
    ADMINISTRATOR = "administrator", _("系統管理者")


# Roles that see every agency; the others see their own agency (and, for an
# agency reviewer with oversight, the bodies under it).
NATIONAL_ROLES = frozenset({Role.AAC_REVIEWER, Role.NDC_ASSESSOR, Role.ADMINISTRATOR})


class User(AbstractUser):
    """Portal user. A person holds roles in one agency (``agency``); the roles
    themselves are grants recorded in RoleGrant. The model exists from the first
    migration because a custom user model cannot be swapped in later."""

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

    def get_full_name(self):
        """Chinese order: family name first, no space (王小明)."""
        return f"{self.last_name}{self.first_name}".strip()

    @property
    def roles(self) -> frozenset:
        """Active roles, read once per request object."""
        if not hasattr(self, "_roles_cache"):
            grants = self.role_grants.filter(revoked_at__isnull=True) if self.pk else []
            self._roles_cache = frozenset(grant.role for grant in grants)
            self._oversight_cache = any(g.oversees_subordinates for g in grants if g.role == Role.AGENCY_REVIEWER)
        return self._roles_cache

    @property
    def oversees_subordinates(self) -> bool:
        self.roles  # fills the cache
        return self._oversight_cache

    def has_role(self, *roles) -> bool:
        return self.is_superuser and Role.ADMINISTRATOR in roles or bool(self.roles & set(roles))

    @property
    def sees_every_agency(self) -> bool:
        return self.is_superuser or bool(self.roles & NATIONAL_ROLES)

    @property
    def manages_periods(self) -> bool:
        return self.has_role(Role.AAC_REVIEWER, Role.ADMINISTRATOR)

    @property
    def has_any_role(self) -> bool:
        return self.is_superuser or bool(self.roles)


class RoleGrant(models.Model):
    """A role given to a user; revoking sets ``revoked_at`` so the history stays."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants", verbose_name=_("使用者"))
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    oversees_subordinates = models.BooleanField(_("督導所屬機關"), default=False, help_text=_("機關審核人可檢視其機關以下各機關"))
    granted_at = models.DateTimeField(_("授予時間"), default=timezone.now)
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("授予者"))
    revoked_at = models.DateTimeField(_("撤銷時間"), null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("撤銷者"))

    class Meta:
        verbose_name = _("角色授權")
        verbose_name_plural = _("角色授權")
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"], condition=Q(revoked_at__isnull=True), name="rolegrant_one_active_per_role",
                violation_error_message=_("此使用者已有這個角色。"),
            ),
            models.CheckConstraint(
                condition=Q(oversees_subordinates=False) | Q(role="agency_reviewer"),
                name="rolegrant_oversight_only_for_agency_reviewers",
                violation_error_message=_("只有機關審核人可督導所屬機關。"),
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_at__gte=models.F("granted_at")),
                name="rolegrant_revoked_after_granted",
                violation_error_message=_("撤銷時間不可早於授予時間。"),
            ),
        ]

    def __str__(self):
        return f"{self.user}：{self.get_role_display()}"

    @property
    def is_active(self):
        return self.revoked_at is None


class AuditEvent(models.Model):
    """Sign-ins, failures and role changes: who, when, from where."""

    class Action(models.TextChoices):
        LOGIN = "login", _("登入")
        LOGIN_FAILED = "login_failed", _("登入失敗")
        LOGOUT = "logout", _("登出")
        LOCKED_OUT = "locked_out", _("帳號鎖定")
        PASSWORD_RESET_REQUESTED = "password_reset_requested", _("申請重設密碼")
        PASSWORD_CHANGED = "password_changed", _("變更密碼")
        ROLE_GRANTED = "role_granted", _("授予角色")
        ROLE_REVOKED = "role_revoked", _("撤銷角色")

    at = models.DateTimeField(_("時間"), default=timezone.now, db_index=True)
    action = models.CharField(_("事件"), max_length=40, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("操作者"))
    username = models.CharField(_("帳號"), max_length=150, blank=True, help_text=_("登入失敗時輸入的帳號"))
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("對象使用者"))
    ip_address = models.GenericIPAddressField(_("來源位址"), null=True, blank=True)
    detail = models.JSONField(_("內容"), default=dict, blank=True)

    class Meta:
        verbose_name = _("稽核紀錄")
        verbose_name_plural = _("稽核紀錄")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.username or self.actor or ''}"
