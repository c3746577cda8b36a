"""Sign-in events written to the audit trail.

Django announces logins, failed logins and logouts as signals and django-axes
announces lockouts; the receivers here turn each into one AuditEvent naming the
client's address. They are connected in AgenciesConfig.ready(). The password
views in auth_views record through the same ``audit_record``.
"""

import ipaddress

from axes.helpers import get_client_ip_address, get_failure_limit

from .models import AuditEvent, User


def client_ip(request) -> str | None:
    """The address axes locks on, so the audit trail and the lockout always
    name the same client (axes has already read it for login requests)."""
    if request is None:
        return None
    address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    try:
        # The column is an inet on PostgreSQL: a malformed header must not break the sign-in.
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


def audit_record(*, action: str, request=None, actor=None, subject=None, username: str = "", ip_address=None, detail=None) -> AuditEvent:
    """Write one audit event. ``actor`` is whoever was signed in and acted;
    ``subject`` the account the event is about; ``username`` what was typed
    or the subject's name, kept even if the account is later deleted."""
    if actor is not None and not actor.is_authenticated:
        actor = None
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        subject=subject,
        username=(username or (subject.get_username() if subject else ""))[:150],
        ip_address=ip_address or client_ip(request),
        detail=detail or {},
    )


def _account_named(username: str | None) -> User | None:
    if not username:
        return None
    return User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()


def _refused_while_locked(request, credentials=None) -> bool:
    """True when axes refused the attempt because the pair was already locked,
    so the password was never checked.

    With AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT on (axes' default) such
    an attempt is counted too and pushes the failure count past the limit;
    with it off, axes flags the request and counts nothing.
    """
    if request is None:
        return False
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None:
        return bool(getattr(request, "axes_locked_out", False))
    return failures > get_failure_limit(request, credentials or getattr(request, "axes_credentials", None))


def record_login(sender, request, user, **kwargs):
    audit_record(action=AuditEvent.Action.LOGIN, request=request, actor=user, subject=user)


def record_logout(sender, request, user, **kwargs):
    if user is None:
        return  # an anonymous visitor posting to logout ends no session
    audit_record(action=AuditEvent.Action.LOGOUT, request=request, actor=user, subject=user)


def record_login_failure(sender, credentials, request=None, **kwargs):
    # Runs after axes' own receiver (axes is installed before this app), so the
    # request already carries axes' verdict on this attempt.
    username = credentials.get(User.USERNAME_FIELD) or credentials.get("username") or ""
    reason = "locked_out" if _refused_while_locked(request, credentials) else "bad_credentials"
    audit_record(
        action=AuditEvent.Action.LOGIN_FAILED, request=request, subject=_account_named(username), username=username,
        detail={"reason": reason},
    )


def record_lockout(sender, request, username, ip_address, **kwargs):
    # axes sends this signal again for every attempt refused during the lockout;
    # those are recorded as login_failed (reason locked_out), so the trail holds
    # one locked_out event per lockout.
    if _refused_while_locked(request):
        return
    audit_record(
        action=AuditEvent.Action.LOCKED_OUT, request=request, subject=_account_named(username), username=username or "",
        ip_address=ip_address,
        detail={"failures": getattr(request, "axes_failures_since_start", None)},
    )
