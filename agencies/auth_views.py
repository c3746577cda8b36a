"""Sign-in pages: Django's own views, plus the audit trail and the lockout rule.

Only what Django does not do is added here. Logins, failures, logouts and
lockouts are recorded by the signal receivers in agencies.signals; the password
views record their events after Django has done the work.
"""

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth import views as auth
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent
from .signals import audit_record


def lockout_policy(request) -> dict:
    """The lockout rule as the pages state it: failures allowed and minutes locked."""
    cool_off = get_cool_off(request)
    limit = settings.AXES_FAILURE_LIMIT
    return {
        "failure_limit": limit if isinstance(limit, int) else None,  # a callable limit has no single number to state
        "cooloff_minutes": int(cool_off.total_seconds() // 60) if cool_off else None,
    }


class StyledFormMixin:
    """Gives every field Bootstrap's look; Django's widgets keep their own
    attributes (autocomplete, aria-describedby, aria-invalid)."""

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        for field in form.fields.values():
            field.widget.attrs["class"] = (field.widget.attrs.get("class", "") + " form-control").strip()
        return form


class LoginForm(AuthenticationForm):
    # Django's message names the model field (使用者名稱); the page calls it 帳號.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("帳號或密碼不正確。請注意兩者皆區分大小寫。"),
    }


class LoginView(auth.LoginView):
    authentication_form = LoginForm

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **lockout_policy(self.request)}


class PasswordResetView(StyledFormMixin, auth.PasswordResetView):
    """Django's view already answers with the same page whether or not the
    address belongs to an account; the audit record must not change that."""

    email_template_name = "registration/password_reset_email.txt"

    @property
    def extra_email_context(self):
        return {"valid_hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)}

    def form_valid(self, form):
        response = super().form_valid(form)
        email = form.cleaned_data["email"]
        # The same users Django has just mailed (active, with a usable password).
        users = list(form.get_users(email))
        for user in users:
            audit_record(
                action=AuditEvent.Action.PASSWORD_RESET_REQUESTED, request=self.request, actor=self.request.user,
                subject=user, detail={"email": email},
            )
        if not users:
            # Recorded too: repeated requests for unknown addresses are worth seeing.
            audit_record(
                action=AuditEvent.Action.PASSWORD_RESET_REQUESTED, request=self.request, actor=self.request.user,
                detail={"email": email, "matched": False},
            )
        return response


class PasswordResetConfirmView(StyledFormMixin, auth.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        # Nobody is signed in: the e-mailed link is the proof, so there is no actor.
        audit_record(
            action=AuditEvent.Action.PASSWORD_CHANGED, request=self.request, subject=form.user,
            detail={"via": "password_reset"},
        )
        return response


class PasswordChangeView(StyledFormMixin, auth.PasswordChangeView):
    def form_valid(self, form):
        response = super().form_valid(form)
        audit_record(
            action=AuditEvent.Action.PASSWORD_CHANGED, request=self.request, actor=self.request.user, subject=form.user,
            detail={"via": "password_change"},
        )
        return response
