"""Changing agencies, users and roles. Every role change is recorded."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import NATIONAL_ROLES, AuditEvent, Role, RoleGrant, User


@transaction.atomic
def demo_admin_ensure(*, username: str, password: str) -> User:
    """Create or reset the demo administrator (demo mode only, see setup_demo)."""
    user, _created = User.objects.get_or_create(username=username, defaults={"is_staff": True, "is_superuser": True})
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(password)
    user.save()
    if Role.ADMINISTRATOR not in user.roles:
        role_grant(user=user, role=Role.ADMINISTRATOR, granted_by=None)
    return user


@transaction.atomic
def role_grant(*, user: User, role: str, granted_by: User | None, oversees_subordinates: bool = False, ip_address: str | None = None) -> RoleGrant:
    """Give ``user`` a role in their agency; agency roles need an agency."""
    role_grant_check(user=user, role=role, oversees_subordinates=oversees_subordinates, lock=True)
    grant = RoleGrant.objects.create(user=user, role=role, granted_by=granted_by, oversees_subordinates=oversees_subordinates)
    if role == Role.ADMINISTRATOR and not (user.is_staff and user.is_superuser):
        # Administrators manage plan, agencies and users: the whole admin site.
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    AuditEvent.objects.create(
        action=AuditEvent.Action.ROLE_GRANTED, actor=granted_by, subject=user, username=user.username, ip_address=ip_address,
        detail={"role": role, "agency": user.agency.name if user.agency else None, "oversees_subordinates": oversees_subordinates},
    )
    _forget_roles(user)
    return grant


def role_grant_check(*, user: User, role: str, oversees_subordinates: bool = False, lock: bool = False) -> None:
    """Raise ValidationError (zh-Hant) when the grant may not be made; forms call it too."""
    if role not in NATIONAL_ROLES and user.agency_id is None:
        raise ValidationError(_("「%(role)s」角色須先設定使用者的所屬機關。") % {"role": Role(role).label})
    if oversees_subordinates and role != Role.AGENCY_REVIEWER:
        raise ValidationError(_("只有機關審核人可督導所屬機關。"))
    grants = RoleGrant.objects.filter(user=user, role=role, revoked_at__isnull=True)
    if lock:  # two administrators granting the same role at once: the second waits, then fails
        grants = grants.select_for_update()
    if grants.exists():
        raise ValidationError(_("%(user)s 已有「%(role)s」角色。") % {"user": user.username, "role": Role(role).label})


@transaction.atomic
def role_revoke(*, grant: RoleGrant, revoked_by: User | None, ip_address: str | None = None) -> RoleGrant:
    updated = RoleGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(revoked_at=timezone.now(), revoked_by=revoked_by)
    if not updated:
        raise ValidationError(_("此授權已撤銷。"))
    grant.refresh_from_db()
    user = grant.user
    if grant.role == Role.ADMINISTRATOR and not user.role_grants.filter(role=Role.ADMINISTRATOR, revoked_at__isnull=True).exists():
        user.is_staff = user.is_superuser = False
        user.save(update_fields=["is_staff", "is_superuser"])
    AuditEvent.objects.create(
        action=AuditEvent.Action.ROLE_REVOKED, actor=revoked_by, subject=user, username=user.username, ip_address=ip_address,
        detail={"role": grant.role, "agency": user.agency.name if user.agency else None},
    )
    _forget_roles(user)
    return grant


def _forget_roles(user):
    for attribute in ("_roles_cache", "_oversight_cache"):
        user.__dict__.pop(attribute, None)
