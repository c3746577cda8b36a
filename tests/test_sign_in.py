"""Sign-in: login and logout, lockout after repeated failures, password reset
and change, idle session expiry, users without a role — and the audit trail
each of them leaves."""

import datetime
import re
from contextlib import contextmanager
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from agencies.models import AuditEvent, Role
from agencies.services import role_grant, role_revoke

PASSWORD = "reader-password-123"  # the reader fixture's password
HOME = "203.0.113.10"
ELSEWHERE = "198.51.100.20"
STRONG = "Lian-Zheng-Ming-2025"


def sign_in(client, username="reader", password=PASSWORD, address=HOME):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def events(action):
    return AuditEvent.objects.filter(action=action).order_by("at", "pk")


@contextmanager
def clock_at(moment):
    """Moves the clock Django's session code reads, as if the user had been idle."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


# Login and logout -----------------------------------------------------------


def test_login_page_is_in_traditional_chinese_and_states_the_lockout_rule(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="zh-hant">' in page
    for text in ("帳號", "密碼", "登入", "忘記密碼？"):
        assert text in page
    assert "連續登入失敗 5 次，將暫停登入 30 分鐘" in page
    assert reverse("password_reset") in page


def test_successful_login_records_who_and_from_where(client, reader):
    response = sign_in(client)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(reader.pk)
    [event] = events(AuditEvent.Action.LOGIN)
    assert (event.actor, event.subject, event.username, event.ip_address) == (reader, reader, "reader", HOME)


def test_failed_login_shows_the_error_and_records_the_typed_username(client, reader):
    response = sign_in(client, password="wrong-password")
    assert response.status_code == 200
    assert "帳號或密碼不正確。請注意兩者皆區分大小寫。" in response.content.decode()
    assert signed_in_user_id(client) is None

    sign_in(client, username="no-such-person", password="whatever", address=ELSEWHERE)

    known, unknown = events(AuditEvent.Action.LOGIN_FAILED)
    assert (known.username, known.subject, known.ip_address, known.actor) == ("reader", reader, HOME, None)
    assert known.detail == {"reason": "bad_credentials"}
    assert (unknown.username, unknown.subject, unknown.ip_address) == ("no-such-person", None, ELSEWHERE)
    assert not events(AuditEvent.Action.LOGIN).exists()


def test_logout_records_the_user_and_returns_to_the_login_page(client, reader):
    sign_in(client)
    response = client.post(reverse("logout"), REMOTE_ADDR=HOME)
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert signed_in_user_id(client) is None
    [event] = events(AuditEvent.Action.LOGOUT)
    assert (event.actor, event.subject, event.ip_address) == (reader, reader, HOME)


# Lockout --------------------------------------------------------------------


def fail_five_times(client, username="reader", address=HOME):
    return [sign_in(client, username=username, password=f"wrong-{n}", address=address) for n in range(5)]


def test_five_failures_lock_the_username_at_that_address_even_for_the_right_password(client, reader):
    responses = fail_five_times(client)
    assert [r.status_code for r in responses[:4]] == [200] * 4
    assert responses[4].status_code == 429  # the fifth failure already answers with the lockout page

    response = sign_in(client)  # the right password
    assert response.status_code == 429
    page = response.content.decode()
    assert "帳號暫停登入" in page
    assert "帳號「reader」自您目前的網路位址已連續登入失敗 5 次" in page
    assert "30 分鐘" in page
    assert "請洽所屬機關政風單位或法務部廉政署系統管理者" in page
    assert "廉政行動方案管考系統" in page  # the portal's frame: the page extends base.html
    assert signed_in_user_id(client) is None
    assert not events(AuditEvent.Action.LOGIN).exists()

    # One lockout event; the refused sixth attempt is a failure, marked as refused by the lock.
    [lockout] = events(AuditEvent.Action.LOCKED_OUT)
    assert (lockout.username, lockout.subject, lockout.ip_address) == ("reader", reader, HOME)
    assert lockout.detail == {"failures": 5}
    failures = list(events(AuditEvent.Action.LOGIN_FAILED))
    assert len(failures) == 6
    assert [f.detail["reason"] for f in failures] == ["bad_credentials"] * 5 + ["locked_out"]


def test_the_same_username_from_another_address_is_not_locked(client, reader):
    fail_five_times(client, address=HOME)
    response = sign_in(client, address=ELSEWHERE)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(reader.pk)
    [login] = events(AuditEvent.Action.LOGIN)
    assert login.ip_address == ELSEWHERE


def test_another_username_from_the_locked_address_is_not_locked(client, reader, django_user_model):
    django_user_model.objects.create_user(username="colleague", password="colleague-password-123")
    fail_five_times(client, address=HOME)
    assert sign_in(client, username="colleague", password="colleague-password-123", address=HOME).status_code == 302


def test_an_administrator_unlocks_by_deleting_the_access_attempt_in_the_admin(client, reader, django_user_model, admin_client):
    fail_five_times(client)
    assert sign_in(client).status_code == 429

    changelist = reverse("admin:axes_accessattempt_changelist")
    listing = admin_client.get(changelist)
    assert listing.status_code == 200
    assert "reader" in listing.content.decode()
    [attempt] = AccessAttempt.objects.filter(username="reader", ip_address=HOME)

    confirm = admin_client.post(changelist, {"action": "delete_selected", "_selected_action": [attempt.pk]})
    assert confirm.status_code == 200  # Django's "are you sure?" page
    done = admin_client.post(changelist, {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"})
    assert done.status_code == 302
    assert not AccessAttempt.objects.filter(username="reader").exists()

    response = sign_in(client)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(reader.pk)


# Password reset and change --------------------------------------------------


def request_reset(client, email):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=HOME)


def test_password_reset_mails_a_working_link_and_the_new_password_must_be_strong(client, reader):
    reader.email = "reader@motc.example.gov.tw"
    reader.save()

    response = request_reset(client, "Reader@motc.example.gov.tw")
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["reader@motc.example.gov.tw"]
    assert message.subject == "國家廉政建設行動方案管考系統：重設密碼"
    assert "我們收到為您在「國家廉政建設行動方案管考系統」的帳號重設密碼的申請" in message.body
    assert "您的帳號：reader" in message.body
    assert "此連結於 1 小時內有效" in message.body
    [requested] = events(AuditEvent.Action.PASSWORD_RESET_REQUESTED)
    assert (requested.subject, requested.username, requested.ip_address) == (reader, "reader", HOME)

    link = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body).group(1)
    response = client.get(link)
    assert response.status_code == 302  # Django moves the token into the session
    form_url = response.url
    page = client.get(form_url).content.decode()
    assert "請為帳號「reader」設定新密碼" in page

    def choose(password):
        return client.post(form_url, {"new_password1": password, "new_password2": password}, REMOTE_ADDR=HOME)

    weak = choose("12345678").content.decode()
    assert "密碼太短，必須至少 10 個字元。" in weak
    assert "這個密碼太常見了。" in weak
    assert "這個密碼只包含數字。" in weak
    assert "這個密碼與使用者名稱太相近。" in choose("reader1234").content.decode()
    assert not events(AuditEvent.Action.PASSWORD_CHANGED).exists()

    response = choose(STRONG)
    assert response.status_code == 302
    assert response.url == reverse("password_reset_complete")
    assert "您的新密碼已生效，請以新密碼登入。" in client.get(response.url).content.decode()
    [changed] = events(AuditEvent.Action.PASSWORD_CHANGED)
    assert (changed.subject, changed.actor, changed.ip_address, changed.detail) == (reader, None, HOME, {"via": "password_reset"})

    assert "這個重設密碼連結已無法使用" in client.get(link).content.decode()  # used once, then dead
    assert sign_in(client, password=PASSWORD).status_code == 200
    assert sign_in(client, password=STRONG).status_code == 302


def test_an_unknown_address_gets_the_same_page_and_no_mail(client, reader):
    reader.email = "reader@motc.example.gov.tw"
    reader.save()
    known = request_reset(client, "reader@motc.example.gov.tw")
    mail.outbox.clear()
    unknown = request_reset(client, "nobody@example.gov.tw")

    assert unknown.status_code == known.status_code == 302
    assert unknown.url == known.url
    assert client.get(unknown.url).content == client.get(known.url).content
    assert "如果您輸入的電子郵件地址屬於本系統的帳號" in client.get(unknown.url).content.decode()
    assert mail.outbox == []
    last = events(AuditEvent.Action.PASSWORD_RESET_REQUESTED).last()
    assert (last.subject, last.ip_address, last.detail) == (None, HOME, {"email": "nobody@example.gov.tw", "matched": False})


def test_password_change_checks_the_validators_and_is_recorded(client, reader):
    sign_in(client)
    url = reverse("password_change")
    page = client.get(url).content.decode()
    assert "變更密碼" in page and "舊密碼" in page
    weak = client.post(url, {"old_password": PASSWORD, "new_password1": "password", "new_password2": "password"})
    assert "這個密碼太常見了。" in weak.content.decode()

    response = client.post(url, {"old_password": PASSWORD, "new_password1": STRONG, "new_password2": STRONG}, REMOTE_ADDR=HOME)
    assert response.status_code == 302
    assert response.url == reverse("password_change_done")
    assert signed_in_user_id(client) == str(reader.pk)  # this session stays signed in
    [changed] = events(AuditEvent.Action.PASSWORD_CHANGED)
    assert (changed.actor, changed.subject, changed.ip_address, changed.detail) == (reader, reader, HOME, {"via": "password_change"})


# Idle session expiry --------------------------------------------------------


def test_the_session_ends_after_the_idle_time_and_each_visit_extends_it(client, reader, settings):
    settings.SESSION_COOKIE_AGE = 600
    assert settings.SESSION_SAVE_EVERY_REQUEST
    start = timezone.now()
    with clock_at(start):
        response = sign_in(client)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 600

    def is_signed_in(at):
        with clock_at(at):
            response = client.get(reverse("agencies:list"))
        if response.status_code == 302:
            assert response.url.startswith(reverse("login"))
            return False
        assert response.status_code == 200
        return True

    # Two visits, each just inside the idle time: the second is 19 minutes after
    # signing in, past a fixed 10-minute lifetime, and still signed in.
    assert is_signed_in(start + datetime.timedelta(seconds=590))
    assert is_signed_in(start + datetime.timedelta(seconds=1180))
    # Then idle for longer than SESSION_COOKIE_AGE: signed out.
    assert not is_signed_in(start + datetime.timedelta(seconds=1180 + 601))


# Users without a role -------------------------------------------------------


def test_a_user_without_a_role_sees_only_the_no_role_page_and_can_still_sign_out(client, db, django_user_model):
    django_user_model.objects.create_user(username="newcomer", password="newcomer-password-123")
    response = sign_in(client, username="newcomer", password="newcomer-password-123")
    assert response.status_code == 302

    for url in ("/", reverse("measures:plan", args=["112"])):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "尚未被授予任何角色" in response.content.decode()
    assert client.get(reverse("password_change")).status_code == 200

    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert signed_in_user_id(client) is None
    assert events(AuditEvent.Action.LOGOUT).get().username == "newcomer"


# Role changes ---------------------------------------------------------------


def test_granting_and_revoking_a_role_are_recorded_with_actor_and_subject(db, django_user_model, reader):
    administrator = django_user_model.objects.create_user(username="aac-admin", password="x-password-123456", is_staff=True)
    person = django_user_model.objects.create_user(username="newcomer", password="newcomer-password-123", agency=reader.agency)

    grant = role_grant(user=person, role=Role.AGENCY_REVIEWER, granted_by=administrator)
    role_revoke(grant=grant, revoked_by=administrator)

    granted = events(AuditEvent.Action.ROLE_GRANTED).get(subject=person)
    revoked = events(AuditEvent.Action.ROLE_REVOKED).get(subject=person)
    for event in (granted, revoked):
        assert (event.actor, event.subject, event.username) == (administrator, person, "newcomer")
        assert event.detail["role"] == Role.AGENCY_REVIEWER


@pytest.mark.parametrize("name", ["logout", "password_change", "password_change_done"])
def test_the_pages_a_user_without_a_role_may_reach_keep_their_names(name):
    # RoleRequiredMiddleware lets a user without a role through to these by name.
    assert reverse(name).startswith("/accounts/")
