"""Reminders, returned-entry and awaiting-review notices, the notices page.

Celery runs eagerly here (no CELERY_BROKER_URL), so a task's e-mail lands in
django.core.mail.outbox at once; tests/test_celery_worker.py covers a real worker.
"""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from agencies.models import Agency, Role, User
from agencies.services import role_grant, role_revoke
from anticorruption.celery import app as celery_app
from reporting import tasks
from reporting.context_processors import notices as notices_context
from reporting.models import Entry, Notice, Obligation, ReportingPeriod
from reporting.models_notices import ReminderLog
from reporting.services import obligations_generate
from reporting.services.entries import entry_forward, entry_return, entry_submit
from reporting.services.notices import notify_awaiting_review, notify_returned, reminders_send
from reporting.services.periods import periods_ensure

from .conftest import find_measure

pytestmark = pytest.mark.django_db

DUE = datetime.date(2023, 4, 10)  # 112年第1季 is due ten days after the quarter
THREE_DAYS_BEFORE = DUE - datetime.timedelta(days=3)


def _user(username, agency, role, email=None, **grant):
    user = User.objects.create_user(
        username=username, password="pw-123456789", agency=Agency.objects.get(name=agency),
        email=f"{username}@example.gov.tw" if email is None else email,
    )
    role_grant(user=user, role=role, granted_by=None, **grant)
    return user


def _obligations(agency, frequency="quarterly"):
    return Obligation.objects.filter(year=112, agency__name=agency, indicator__frequency=frequency)


@pytest.fixture
def world(plan112):
    obligations_generate(year=112)
    periods_ensure(year=112)
    quarter = ReportingPeriod.objects.get(year=112, frequency="quarterly", number=1)
    # Only 112年第1季 is in play: every other period is locked (a locked period is never reminded).
    ReportingPeriod.objects.exclude(pk=quarter.pk).update(state=ReportingPeriod.State.LOCKED)
    return {
        "quarter": quarter,
        # 交通部 has entered nothing; 經濟部 submitted everything; 法務部調查局 has a draft and a returned entry.
        "transport": [_user("t_officer1", "交通部", Role.OFFICER), _user("t_officer2", "交通部", Role.OFFICER)],
        "economy": [_user("e_officer", "經濟部", Role.OFFICER)],
        "mjib": [_user("i_officer", "法務部調查局", Role.OFFICER)],
        "transport_reviewer": _user("t_reviewer", "交通部", Role.AGENCY_REVIEWER),
        "moj_reviewer": _user("moj_reviewer", "法務部", Role.AGENCY_REVIEWER, oversees_subordinates=True),
        "aac": [_user("aac1", "法務部廉政署", Role.AAC_REVIEWER), _user("aac2", "法務部廉政署", Role.AAC_REVIEWER)],
    }


def _settle(agency, period, state=Entry.State.SUBMITTED):
    Entry.objects.bulk_create(Entry(obligation=o, period=period, state=state, narrative="x") for o in _obligations(agency))


def _mjib_partly_done(period):
    obligations = list(_obligations("法務部調查局"))
    Entry.objects.bulk_create(
        [Entry(obligation=obligations[0], period=period, state=Entry.State.DRAFT), Entry(obligation=obligations[1], period=period, state=Entry.State.RETURNED)]
        + [Entry(obligation=o, period=period, state=Entry.State.FORWARDED) for o in obligations[2:]]
    )
    return obligations


# ------------------------------------------------------------------ reminders


def test_reminders_go_to_exactly_the_agencies_that_owe_items(world):
    period = world["quarter"]
    _settle("經濟部", period)
    _mjib_partly_done(period)
    stats = reminders_send(today=THREE_DAYS_BEFORE)

    # One e-mail per owing agency, addressed to all its officers; none to 經濟部, which submitted everything.
    recipients = sorted(sorted(message.to) for message in mail.outbox)
    assert recipients == [["i_officer@example.gov.tw"], ["t_officer1@example.gov.tw", "t_officer2@example.gov.tw"]]
    assert stats.agencies == 2 and stats.emails == 2 and stats.notices == 3
    # Other agencies owe items too but have no officer in this test: counted, not mailed.
    assert stats.without_officers > 0
    assert set(Notice.objects.values_list("recipient__username", flat=True)) == {"t_officer1", "t_officer2", "i_officer"}
    assert not Notice.objects.filter(recipient__in=world["economy"]).exists()

    transport_mail = next(m for m in mail.outbox if "t_officer1@example.gov.tw" in m.to)
    assert "【填報提醒】" in transport_mail.subject and "交通部" in transport_mail.subject
    assert f"尚有 {_obligations('交通部').count()} 項未送出" in transport_mail.subject
    assert "民國112年4月10日" in transport_mail.body and "尚餘 3 天" in transport_mail.body
    assert "尚未填寫" in transport_mail.body
    assert "/obligations/report/?year=112&quarter=1" in transport_mail.body

    # 法務部調查局 owes exactly its draft and its returned item; forwarded ones are not listed.
    mjib_mail = next(m for m in mail.outbox if m.to == ["i_officer@example.gov.tw"])
    assert "尚有 2 項未送出" in mjib_mail.subject
    assert "（草稿）" in mjib_mail.body and "（退回修正）" in mjib_mail.body

    notice = Notice.objects.get(recipient=world["transport"][0])
    assert notice.kind == Notice.Kind.REMINDER and notice.read_at is None
    assert notice.link == reverse("reporting:my_items") + "?year=112&quarter=1"
    assert "尚未填寫" in notice.body and "請至填報系統辦理" not in notice.body  # the link is the notice's own


def test_the_reminder_before_the_due_date_goes_once_on_the_first_run_inside_the_window(world):
    period = world["quarter"]
    # Four days before is outside the three-day window: nothing.
    assert reminders_send(today=DUE - datetime.timedelta(days=4)).emails == 0 and mail.outbox == []
    # The run three days before was missed; the next one, two days before, sends it.
    stats = reminders_send(today=DUE - datetime.timedelta(days=2))
    sent, notices = len(mail.outbox), Notice.objects.count()
    assert sent == 3 and stats.agencies == 3  # 交通部, 經濟部 and 法務部調查局 all owe items
    # Again the same day, the next day and on the due date: already reminded, nothing more.
    for day in (2, 1, 0):
        again = reminders_send(today=DUE - datetime.timedelta(days=day))
        assert again.emails == 0 and again.already_sent == 3
    assert len(mail.outbox) == sent and Notice.objects.count() == notices
    assert ReminderLog.objects.filter(period=period, kind=Notice.Kind.REMINDER).count() == 3


def test_overdue_agencies_get_one_digest_of_every_period_at_a_rising_interval(world):
    from reporting.services.notices import overdue_reminders_due

    assert [overdue_reminders_due(day) for day in (0, 1, 2, 3, 6, 7, 13, 14, 21, 100)] == [0, 1, 1, 2, 2, 3, 3, 4, 5, 16]
    _settle("經濟部", world["quarter"])
    second = ReportingPeriod.objects.get(year=112, frequency="quarterly", number=2)
    ReportingPeriod.objects.filter(pk=second.pk).update(state=ReportingPeriod.State.OPEN, opens_on=DUE - datetime.timedelta(days=10), due_on=DUE)
    sent_on = []
    for late in range(1, 16):
        before = len(mail.outbox)
        reminders_send(today=DUE + datetime.timedelta(days=late))
        if len(mail.outbox) > before:
            sent_on.append(late)
    assert sent_on == [1, 3, 7, 14]  # then weekly until submitted or locked
    transport = [m for m in mail.outbox if "t_officer1@example.gov.tw" in m.to]
    assert len(transport) == 4
    digest = transport[0]
    assert "【逾期提醒】交通部" in digest.subject and "2 個填報期間" in digest.subject  # one message for both periods
    assert "112年第1季" in digest.body and "112年第2季" in digest.body and "逾期 1 天" in digest.body and "/obligations/todo/" in digest.body
    assert set(Notice.objects.values_list("kind", flat=True)) == {Notice.Kind.OVERDUE}


def test_an_agency_that_catches_up_is_no_longer_reminded(world):
    period = world["quarter"]
    _settle("經濟部", period)
    _settle("交通部", period, state=Entry.State.APPROVED)
    reminders_send(today=THREE_DAYS_BEFORE)
    assert [m.to for m in mail.outbox] == [["i_officer@example.gov.tw"]]
    mail.outbox.clear()
    _settle("法務部調查局", period)
    reminders_send(today=DUE + datetime.timedelta(days=1))
    assert mail.outbox == []


def test_locked_periods_and_inactive_or_revoked_officers_are_left_out(world):
    _settle("經濟部", world["quarter"])
    first, second = world["transport"]
    first.is_active = False
    first.save()
    role_revoke(grant=second.role_grants.get(role=Role.OFFICER), revoked_by=None)
    reminders_send(today=THREE_DAYS_BEFORE)
    assert [m.to for m in mail.outbox] == [["i_officer@example.gov.tw"]]

    mail.outbox.clear()
    ReportingPeriod.objects.update(state=ReportingPeriod.State.LOCKED)
    assert reminders_send(today=DUE + datetime.timedelta(days=5)).periods == 0
    assert mail.outbox == []


def test_a_reminder_that_reaches_nobody_is_not_logged_and_the_agency_is_listed_for_aac(world, client):
    from reporting.services.notices import unreachable_agencies

    User.objects.filter(pk=world["mjib"][0].pk).update(email="")
    stats = reminders_send(today=THREE_DAYS_BEFORE)
    assert stats.without_address == 1
    assert not Notice.objects.filter(recipient=world["mjib"][0]).exists()
    assert not ReminderLog.objects.filter(agency__name="法務部調查局").exists()
    rows = {row["agency"].name: str(row["reason"]) for row in unreachable_agencies(year=112)}
    assert rows["法務部調查局"] == "填報人未設定電子郵件" and rows["法務部"] == "沒有填報人帳號" and "交通部" not in rows
    # Once the officer has an address, the next run reminds them (nothing was logged as sent).
    User.objects.filter(pk=world["mjib"][0].pk).update(email="i_officer@example.gov.tw")
    assert reminders_send(today=THREE_DAYS_BEFORE + datetime.timedelta(days=1)).agencies == 1
    # AAC sees the list on the completeness page, and gets it by e-mail every week.
    client.force_login(world["aac"][0])
    page = client.get(reverse("dashboard:completeness"), {"year": "112", "quarter": "1"}).content.decode()
    assert 'id="unreachable"' in page and "法務部：沒有填報人帳號" in page.replace("</a>", "")
    mail.outbox.clear()
    assert tasks.send_unreachable_agencies.delay().get() == 1
    weekly = mail.outbox[0]
    assert sorted(weekly.to) == ["aac1@example.gov.tw", "aac2@example.gov.tw"] and "收不到填報提醒" in weekly.subject and "法務部" in weekly.body


def test_reminder_days_come_from_the_setting(world, settings):
    settings.REMINDER_DAYS_BEFORE = 5
    assert reminders_send(today=DUE - datetime.timedelta(days=6)).periods == 0
    assert reminders_send(today=DUE - datetime.timedelta(days=5)).agencies == 3


def test_long_overdue_periods_are_announced_to_aac_then_locked(world, settings):
    from reporting.models import PeriodLockNotice
    from reporting.services.periods import periods_lock_stale

    settings.PERIOD_LOCK_AFTER_DAYS, settings.PERIOD_LOCK_NOTICE_DAYS = 90, 14
    period = world["quarter"]
    assert periods_lock_stale(today=DUE + datetime.timedelta(days=75)).announced == 0
    announced = periods_lock_stale(today=DUE + datetime.timedelta(days=76))
    assert announced.announced == 1 and announced.locked == 0
    notice = PeriodLockNotice.objects.get(period=period)
    assert notice.lock_on == DUE + datetime.timedelta(days=90)
    aac_mail = mail.outbox[-1]
    assert sorted(aac_mail.to) == ["aac1@example.gov.tw", "aac2@example.gov.tw"] and "即將鎖定" in aac_mail.subject and "112年第1季" in aac_mail.body
    assert periods_lock_stale(today=DUE + datetime.timedelta(days=80)).announced == 0  # announced once
    period.refresh_from_db()
    assert period.state != ReportingPeriod.State.LOCKED
    assert periods_lock_stale(today=DUE + datetime.timedelta(days=90)).locked == 1
    period.refresh_from_db()
    assert period.state == ReportingPeriod.State.LOCKED
    mail.outbox.clear()
    assert reminders_send(today=DUE + datetime.timedelta(days=98)).periods == 0 and mail.outbox == []


def test_the_daily_task_runs_eagerly_and_returns_its_counts(world):
    ReportingPeriod.objects.update(state=ReportingPeriod.State.LOCKED)
    result = tasks.send_reminders.delay()
    assert result.get() == {"periods": 0, "agencies": 0, "emails": 0, "notices": 0, "already_sent": 0, "without_officers": 0, "without_address": 0}


def test_beat_runs_the_reminders_every_morning_at_eight_taipei_time():
    entry = settings.CELERY_BEAT_SCHEDULE["send-reminders"]
    assert entry["task"] == tasks.send_reminders.name
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"].hour == {8} and entry["schedule"].minute == {0}
    assert str(celery_app.conf.timezone) == "Asia/Taipei"
    # Stale periods are locked before the reminders run; AAC hears of unreachable agencies weekly.
    lock, weekly = settings.CELERY_BEAT_SCHEDULE["lock-stale-periods"], settings.CELERY_BEAT_SCHEDULE["send-unreachable-agencies"]
    assert lock["task"] in celery_app.tasks and weekly["task"] in celery_app.tasks
    assert (min(lock["schedule"].hour), min(lock["schedule"].minute)) < (8, 0) and weekly["schedule"].day_of_week == {1}


# ------------------------------------------------------------------ workflow notices


def _submitted_entry(world, plan112):
    obligation = Obligation.objects.get(year=112, agency__name="交通部", indicator__measure=find_measure(plan112, 7, "(五)"))
    officer = world["transport"][0]
    entry = Entry.objects.create(obligation=obligation, period=world["quarter"], quantity=2, narrative="召開 2 次", updated_by=officer)
    return entry_submit(entry=entry, user=officer)


def test_a_returned_entry_tells_its_officers_with_the_comment(world, plan112):
    entry = _submitted_entry(world, plan112)
    entry_return(entry=entry, user=world["transport_reviewer"], comment="請補附會議紀錄及簽到表。")
    assert tasks.notify_returned.delay(entry.pk).get() == 2

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["t_officer1@example.gov.tw", "t_officer2@example.gov.tw"]
    assert "【退回修正】" in message.subject and "7(五)" in message.subject
    assert "請補附會議紀錄及簽到表。" in message.body and "t_reviewer" in message.body
    assert f"/obligations/entries/{entry.pk}/" in message.body
    notices = Notice.objects.filter(kind=Notice.Kind.RETURNED)
    assert {n.recipient.username for n in notices} == {"t_officer1", "t_officer2"}
    assert all("請補附會議紀錄及簽到表。" in n.body and n.link == reverse("reporting:entry_detail", args=[entry.pk]) for n in notices)
    assert not Notice.objects.filter(recipient__in=world["economy"]).exists()


def _entry_in(agency, state, index=0, period=None):
    obligation = list(_obligations(agency).order_by("pk"))[index]
    period = period or ReportingPeriod.objects.get(year=112, frequency="quarterly", number=1)
    return Entry.objects.create(obligation=obligation, period=period, state=state, narrative="x", submitted_at=timezone.now())


def test_submitting_tells_the_agency_reviewers_once_until_they_look_at_the_queue(world, client):
    first = _entry_in("交通部", Entry.State.SUBMITTED, 0)
    assert tasks.notify_awaiting_review.delay(first.pk).get() == 1  # 法務部's oversight does not reach 交通部
    assert [m.to for m in mail.outbox] == [["t_reviewer@example.gov.tw"]]
    assert "【待審核】交通部" in mail.outbox[0].subject and reverse("reporting:agency_review_queue") in mail.outbox[0].body

    # A digest: more submissions while the notice is unread add neither notice nor mail.
    second = _entry_in("交通部", Entry.State.SUBMITTED, 1)
    assert notify_awaiting_review(entry_id=second.pk) == 0
    assert len(mail.outbox) == 1 and Notice.objects.filter(kind=Notice.Kind.AWAITING_REVIEW).count() == 1

    # Opening the queue marks it read; the next submission is announced again.
    client.force_login(world["transport_reviewer"])
    assert client.get(reverse("reporting:agency_review_queue")).status_code == 200
    assert not Notice.objects.filter(kind=Notice.Kind.AWAITING_REVIEW, read_at__isnull=True).exists()
    third = _entry_in("交通部", Entry.State.SUBMITTED, 2)
    assert notify_awaiting_review(entry_id=third.pk) == 1
    assert len(mail.outbox) == 2


def test_a_reviewer_overseeing_the_bodies_under_their_agency_is_told_too(world):
    entry = _entry_in("法務部調查局", Entry.State.SUBMITTED)
    assert notify_awaiting_review(entry_id=entry.pk) == 1
    assert [m.to for m in mail.outbox] == [["moj_reviewer@example.gov.tw"]]


def test_forwarded_entries_go_to_every_aac_reviewer_in_one_mail(world):
    entry = _entry_in("交通部", Entry.State.SUBMITTED)
    entry_forward(entry=entry, user=world["transport_reviewer"])
    assert notify_awaiting_review(entry_id=entry.pk) == 2
    assert [sorted(m.to) for m in mail.outbox] == [["aac1@example.gov.tw", "aac2@example.gov.tw"]]
    assert "已送達廉政署" in mail.outbox[0].body and reverse("reporting:review_queue") in mail.outbox[0].body
    assert set(Notice.objects.values_list("recipient__username", flat=True)) == {"aac1", "aac2"}


def test_an_entry_that_moved_on_before_the_task_ran_notifies_nobody(world):
    entry = _entry_in("交通部", Entry.State.APPROVED)
    assert notify_awaiting_review(entry_id=entry.pk) == 0
    assert notify_awaiting_review(entry_id=10**9) == 0 and notify_returned(entry_id=10**9) == 0
    assert mail.outbox == [] and not Notice.objects.exists()


def test_the_workflow_queues_the_notices_after_commit(world, plan112, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        entry = _submitted_entry(world, plan112)
    assert Notice.objects.filter(kind=Notice.Kind.AWAITING_REVIEW, recipient=world["transport_reviewer"]).exists()
    with django_capture_on_commit_callbacks(execute=True):
        entry_forward(entry=entry, user=world["transport_reviewer"])
    assert Notice.objects.filter(kind=Notice.Kind.AWAITING_REVIEW, recipient__in=world["aac"]).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        entry_return(entry=entry, user=world["aac"][0], comment="數字與附件不符。")
    assert Notice.objects.filter(kind=Notice.Kind.RETURNED, body__contains="數字與附件不符。").count() == 2


# ------------------------------------------------------------------ the notices page


@pytest.fixture
def inbox(world):
    officer = world["transport"][0]
    now = timezone.now()
    old_read = Notice.objects.create(recipient=officer, kind=Notice.Kind.REMINDER, title="舊的已讀", created_at=now - datetime.timedelta(days=3), read_at=now)
    old_unread = Notice.objects.create(recipient=officer, kind=Notice.Kind.REMINDER, title="舊的未讀", created_at=now - datetime.timedelta(days=2))
    new_unread = Notice.objects.create(recipient=officer, kind=Notice.Kind.RETURNED, title="新的未讀", link=reverse("reporting:my_items"), created_at=now - datetime.timedelta(days=1))
    other = Notice.objects.create(recipient=world["economy"][0], kind=Notice.Kind.REMINDER, title="別人的")
    return {"officer": officer, "old_read": old_read, "old_unread": old_unread, "new_unread": new_unread, "other": other}


def test_the_notices_page_lists_own_notices_unread_first(client, inbox):
    client.force_login(inbox["officer"])
    response = client.get(reverse("reporting:notices"))
    assert response.status_code == 200
    assert [n.title for n in response.context["page"]] == ["新的未讀", "舊的未讀", "舊的已讀"]
    assert "別人的" not in response.text


def test_marking_read_touches_only_the_users_own_notices(client, inbox):
    client.force_login(inbox["officer"])
    response = client.post(reverse("reporting:notices_read"), {"notice": [inbox["old_unread"].pk, inbox["other"].pk]}, follow=True)
    assert "已將 1 則通知標示為已讀。" in response.text
    inbox["other"].refresh_from_db()
    assert inbox["other"].read_at is None
    client.post(reverse("reporting:notices_read"), {"all": "1"})
    assert not Notice.objects.filter(recipient=inbox["officer"], read_at__isnull=True).exists()


def test_opening_a_notice_marks_it_read_and_follows_its_link(client, inbox):
    client.force_login(inbox["officer"])
    response = client.post(reverse("reporting:notice_open", args=[inbox["new_unread"].pk]))
    assert response.status_code == 302 and response.url == reverse("reporting:my_items")
    inbox["new_unread"].refresh_from_db()
    assert inbox["new_unread"].read_at is not None
    assert client.post(reverse("reporting:notice_open", args=[inbox["other"].pk])).status_code == 404
    # A link that leaves the portal is never followed.
    Notice.objects.filter(pk=inbox["old_unread"].pk).update(link="https://evil.example.com/")
    assert client.post(reverse("reporting:notice_open", args=[inbox["old_unread"].pk])).url == reverse("reporting:notices")


def test_the_navigation_count_is_lazy_and_counts_unread_only(inbox, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = User.objects.get(pk=inbox["officer"].pk)
    request.user.roles  # noqa: B018  (the middleware has read them already)
    with django_assert_num_queries(0):
        context = notices_context(request)
    with django_assert_num_queries(1):
        assert context["unread_notice_count"] == 2 and f"{context['unread_notice_count']}" == "2"
    assert context["can_review_aac"] is False and context["can_review_agency"] is False
