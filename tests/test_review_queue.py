"""The review queues: AAC approves forwarded entries in bulk, agency reviewers forward
submitted ones; filters, all-or-none bulk actions, scoping and a pinned query count."""

import itertools

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agencies.models import Agency, Role, User
from agencies.services import role_grant
from reporting.models import Entry, EntryEvent, Notice, Obligation, ReportingPeriod
from reporting.services import obligations_generate
from reporting.services.periods import periods_ensure
from .personas import user_with_role

pytestmark = pytest.mark.django_db

AAC_QUEUE = "reporting:review_queue"
AGENCY_QUEUE = "reporting:agency_review_queue"


_user = user_with_role


@pytest.fixture
def world(plan112):
    obligations_generate(year=112)
    periods_ensure(year=112)
    return {
        "officer": _user("t_officer", "交通部", Role.OFFICER),
        "reviewer": _user("t_reviewer", "交通部", Role.AGENCY_REVIEWER),
        "moj_reviewer": _user("moj_reviewer", "法務部", Role.AGENCY_REVIEWER, oversees_subordinates=True),
        "aac": _user("aac", "法務部廉政署", Role.AAC_REVIEWER),
        "admin": _user("administrator", "法務部廉政署", Role.ADMINISTRATOR),
        "q1": ReportingPeriod.objects.get(year=112, frequency="quarterly", number=1),
        "q2": ReportingPeriod.objects.get(year=112, frequency="quarterly", number=2),
    }


def _entries(agency, period, state, count=None):
    obligations = Obligation.objects.filter(year=112, agency__name=agency, indicator__frequency=period.frequency).order_by("pk")
    if count is not None:
        obligations = obligations[:count]
    return Entry.objects.bulk_create(
        Entry(obligation=o, period=period, state=state, narrative="x", submitted_at=timezone.now()) for o in obligations
    )


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def _rows(response):
    return list(response.context["page"])


@pytest.fixture
def forwarded(world):
    """Forwarded entries of three agencies in two quarters, and one submitted one (not in AAC's queue)."""
    return {
        "transport": _entries("交通部", world["q1"], Entry.State.FORWARDED, 5),
        "economy": _entries("經濟部", world["q1"], Entry.State.FORWARDED, 4),
        "economy_q2": _entries("經濟部", world["q2"], Entry.State.FORWARDED, 2),
        "mjib": _entries("法務部調查局", world["q1"], Entry.State.FORWARDED, 3),
        "submitted": _entries("交通部", world["q2"], Entry.State.SUBMITTED, 1),
    }


# ------------------------------------------------------------------ AAC queue: listing and filters


def test_the_aac_queue_lists_forwarded_entries_with_links(client, world, forwarded):
    client.force_login(world["aac"])
    response = client.get(reverse(AAC_QUEUE))
    assert response.status_code == 200
    rows = _rows(response)
    assert len(rows) == 14 and {e.state for e in rows} == {Entry.State.FORWARDED}
    assert forwarded["submitted"][0] not in rows
    assert reverse("reporting:entry_detail", args=[rows[0].pk]) in response.text
    assert 'name="entry"' in response.text and "核定所選資料" in response.text
    assert {a.name for a in response.context["agencies"]} == {"交通部", "經濟部", "法務部調查局"}


def test_filters_by_agency_period_and_strategy(client, world, forwarded):
    client.force_login(world["aac"])
    economy = Agency.objects.get(name="經濟部")
    rows = _rows(client.get(reverse(AAC_QUEUE), {"agency": economy.pk}))
    assert {e.obligation.agency for e in rows} == {economy} and len(rows) == 6
    rows = _rows(client.get(reverse(AAC_QUEUE), {"agency": economy.pk, "period": world["q2"].pk}))
    assert len(rows) == 2 and {e.period for e in rows} == {world["q2"]}
    strategy = forwarded["mjib"][0].obligation.indicator.measure.strategy
    rows = _rows(client.get(reverse(AAC_QUEUE), {"strategy": strategy.pk}))
    expected = [e.pk for group in forwarded.values() for e in group if e.state == Entry.State.FORWARDED and e.obligation.indicator.measure.strategy_id == strategy.pk]
    assert sorted(e.pk for e in rows) == sorted(expected) and expected


@pytest.mark.parametrize("query", [{"agency": "abc"}, {"agency": "-3"}, {"agency": "999999"}, {"period": "1.5"}, {"strategy": "０"}, {"strategy": "999999", "page": "x"}])
def test_bad_filter_values_are_ignored_with_a_message(client, world, forwarded, query):
    client.force_login(world["aac"])
    response = client.get(reverse(AAC_QUEUE), query)
    assert response.status_code == 200
    assert len(_rows(response)) == 14  # nothing filtered
    assert any("篩選條件" in m and "無效，已忽略" in m for m in _messages(response))


def test_the_queue_is_paginated(client, world):
    _entries("法務部廉政署", world["q1"], Entry.State.FORWARDED)
    _entries("法務部調查局", world["q1"], Entry.State.FORWARDED)
    total = Entry.objects.filter(state=Entry.State.FORWARDED).count()
    assert total > 50
    client.force_login(world["aac"])
    first = client.get(reverse(AAC_QUEUE))
    assert len(_rows(first)) == 50 and first.context["page"].paginator.count == total
    second = client.get(reverse(AAC_QUEUE), {"page": 2})
    assert len(_rows(second)) == total - 50
    assert not {e.pk for e in _rows(first)} & {e.pk for e in _rows(second)}


# ------------------------------------------------------------------ AAC queue: bulk approve


def test_bulk_approve_approves_every_selected_entry(client, world, forwarded):
    client.force_login(world["aac"])
    chosen = forwarded["transport"][:3]
    response = client.post(reverse(AAC_QUEUE) + "?agency=" + str(chosen[0].obligation.agency_id), {"entry": [e.pk for e in chosen]})
    assert response.status_code == 302 and response.url.endswith("?agency=%d" % chosen[0].obligation.agency_id)
    assert set(Entry.objects.filter(pk__in=[e.pk for e in chosen]).values_list("state", flat=True)) == {Entry.State.APPROVED}
    assert EntryEvent.objects.filter(entry__in=chosen, action=EntryEvent.Action.APPROVED, actor=world["aac"]).count() == 3
    assert "已核定 3 筆資料。" in _messages(response)
    assert Entry.objects.filter(state=Entry.State.FORWARDED).count() == 11


def test_bulk_approve_is_all_or_none(client, world, forwarded):
    client.force_login(world["aac"])
    chosen = forwarded["economy"][:3]
    # Someone approved the middle one meanwhile (another reviewer, another tab).
    Entry.objects.filter(pk=chosen[1].pk).update(state=Entry.State.APPROVED)
    response = client.post(reverse(AAC_QUEUE), {"entry": [e.pk for e in chosen]}, follow=True)
    assert set(Entry.objects.filter(pk__in=[chosen[0].pk, chosen[2].pk]).values_list("state", flat=True)) == {Entry.State.FORWARDED}
    assert not EntryEvent.objects.filter(entry__in=chosen).exists()
    message = next(m for m in _messages(response) if "無法處理" in m)
    assert "經濟部" in message and "已核定" in message and "全部 3 筆資料均未處理" in message


def test_bulk_approve_refuses_unknown_or_missing_selections(client, world, forwarded):
    client.force_login(world["aac"])
    response = client.post(reverse(AAC_QUEUE), {"entry": [forwarded["transport"][0].pk, 10**9]}, follow=True)
    assert any("未處理任何資料" in m for m in _messages(response))
    assert Entry.objects.get(pk=forwarded["transport"][0].pk).state == Entry.State.FORWARDED
    response = client.post(reverse(AAC_QUEUE), {"entry": ["²", "abc"]}, follow=True)
    assert response.status_code == 200 and any("未處理任何資料" in m for m in _messages(response))
    response = client.post(reverse(AAC_QUEUE), {}, follow=True)
    assert "請先勾選資料。" in _messages(response)


def test_an_administrator_sees_the_queue_but_cannot_approve(client, world, forwarded):
    client.force_login(world["admin"])
    response = client.get(reverse(AAC_QUEUE))
    assert response.status_code == 200 and len(_rows(response)) == 14
    assert 'name="entry"' not in response.text
    assert client.post(reverse(AAC_QUEUE), {"entry": [forwarded["transport"][0].pk]}).status_code == 403
    assert Entry.objects.get(pk=forwarded["transport"][0].pk).state == Entry.State.FORWARDED


def test_officers_and_agency_reviewers_cannot_open_or_use_the_aac_queue(client, world, forwarded):
    for user in (world["officer"], world["reviewer"]):
        client.force_login(user)
        assert client.get(reverse(AAC_QUEUE)).status_code == 403
        assert client.post(reverse(AAC_QUEUE), {"entry": [forwarded["transport"][0].pk]}).status_code == 403
    client.force_login(world["officer"])
    assert client.get(reverse(AGENCY_QUEUE)).status_code == 403
    assert Entry.objects.get(pk=forwarded["transport"][0].pk).state == Entry.State.FORWARDED


# ------------------------------------------------------------------ agency queue


@pytest.fixture
def submitted(world):
    return {
        "transport": _entries("交通部", world["q1"], Entry.State.SUBMITTED, 4),
        "economy": _entries("經濟部", world["q1"], Entry.State.SUBMITTED, 2),
        "moj": _entries("法務部", world["q1"], Entry.State.SUBMITTED, 2),
        "mjib": _entries("法務部調查局", world["q1"], Entry.State.SUBMITTED, 3),
        "transport_forwarded": _entries("交通部", world["q2"], Entry.State.FORWARDED, 1),
    }


def test_an_agency_reviewer_sees_only_their_agencys_submitted_items(client, world, submitted):
    client.force_login(world["reviewer"])
    response = client.get(reverse(AGENCY_QUEUE))
    assert response.status_code == 200
    assert sorted(e.pk for e in _rows(response)) == sorted(e.pk for e in submitted["transport"])
    # Another agency in the filter is not revealed: it is ignored like a mistyped value.
    economy = Agency.objects.get(name="經濟部")
    response = client.get(reverse(AGENCY_QUEUE), {"agency": economy.pk})
    assert sorted(e.pk for e in _rows(response)) == sorted(e.pk for e in submitted["transport"])
    assert any("無效，已忽略" in m for m in _messages(response))


def test_a_reviewer_with_oversight_sees_the_bodies_under_their_agency(client, world, submitted):
    client.force_login(world["moj_reviewer"])
    rows = _rows(client.get(reverse(AGENCY_QUEUE)))
    assert sorted(e.pk for e in rows) == sorted(e.pk for e in submitted["moj"] + submitted["mjib"])


def test_bulk_forward_moves_the_selected_items_to_aac(client, world, submitted):
    client.force_login(world["reviewer"])
    chosen = submitted["transport"][:2]
    response = client.post(reverse(AGENCY_QUEUE), {"entry": [e.pk for e in chosen]}, follow=True)
    assert "已轉送 2 筆資料至廉政署。" in _messages(response)
    assert set(Entry.objects.filter(pk__in=[e.pk for e in chosen]).values_list("state", flat=True)) == {Entry.State.FORWARDED}


def test_bulk_forward_refuses_another_agencys_entry_and_changes_nothing(client, world, submitted):
    client.force_login(world["reviewer"])
    chosen = [submitted["transport"][0].pk, submitted["economy"][0].pk]
    response = client.post(reverse(AGENCY_QUEUE), {"entry": chosen}, follow=True)
    assert any("未處理任何資料" in m for m in _messages(response))
    assert set(Entry.objects.filter(pk__in=chosen).values_list("state", flat=True)) == {Entry.State.SUBMITTED}


def test_aac_reviewers_and_administrators_have_no_agency_queue(client, world):
    for user in (world["aac"], world["admin"]):
        client.force_login(user)
        assert client.get(reverse(AGENCY_QUEUE)).status_code == 403


def test_opening_a_queue_marks_the_awaiting_review_notice_read(client, world, forwarded):
    notice = Notice.objects.create(recipient=world["aac"], kind=Notice.Kind.AWAITING_REVIEW, title="待審核")
    other = Notice.objects.create(recipient=world["aac"], kind=Notice.Kind.REMINDER, title="別的")
    client.force_login(world["aac"])
    client.get(reverse(AAC_QUEUE))
    notice.refresh_from_db()
    other.refresh_from_db()
    assert notice.read_at is not None and other.read_at is None


# ------------------------------------------------------------------ fixed number of queries


def _forwarded_entries(count):
    """``count`` forwarded entries over every obligation × period of 112, made in bulk."""
    periods = sorted(ReportingPeriod.objects.filter(year=112), key=lambda p: (p.frequency != "quarterly", p.frequency, p.number))
    obligations = list(Obligation.objects.filter(year=112).values_list("pk", flat=True))
    pairs = itertools.islice(itertools.product(obligations, periods), count)
    now = timezone.now()
    Entry.objects.bulk_create(
        (Entry(obligation_id=o, period=p, state=Entry.State.FORWARDED, narrative="x", submitted_at=now) for o, p in pairs), batch_size=2000
    )
    assert Entry.objects.filter(state=Entry.State.FORWARDED).count() == count


def _count_queries(client, url, query=None):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, query or {})
        assert response.status_code == 200
    return len(context.captured_queries), response


def test_the_aac_queue_runs_the_same_queries_for_10_and_10000_entries(client, world):
    client.force_login(world["aac"])
    _forwarded_entries(10)
    small, _ = _count_queries(client, reverse(AAC_QUEUE))
    filtered_small, filtered = _count_queries(client, reverse(AAC_QUEUE), {"period": world["q1"].pk})
    assert len(_rows(filtered)) == 1
    Entry.objects.all().delete()
    _forwarded_entries(10_000)
    large, response = _count_queries(client, reverse(AAC_QUEUE))
    filtered_large, _ = _count_queries(client, reverse(AAC_QUEUE), {"period": world["q1"].pk})
    assert response.context["page"].paginator.count == 10_000 and len(_rows(response)) == 50
    assert large == small
    assert filtered_large == filtered_small


def test_every_column_of_the_queue_has_a_header_a_screen_reader_can_read(client, plan112, django_user_model):
    import re

    from agencies.models import Agency, Role
    from agencies.services import role_grant

    user = django_user_model.objects.create_user(username="q_aac", password="pw-123456789", agency=Agency.objects.get(name="法務部廉政署"))
    role_grant(user=user, role=Role.AAC_REVIEWER, granted_by=None)
    client.force_login(user)
    html = client.get(reverse("reporting:review_queue")).content.decode()
    headers = re.findall(r"<th scope=\"col\">(.*?)</th>", html.split("<thead>")[1].split("</thead>")[0], flags=re.S)
    assert '<td class="text-nowrap"><a href="/obligations/entries/' in html or "目前沒有待審核的資料" in html
    assert headers and all(re.sub(r"<[^>]+>", "", header).strip() or "aria-label" in header for header in headers)


def test_the_strategy_filter_lists_each_strategy_once_whatever_is_chosen(client, plan112, django_user_model):
    """Entries of several agencies, periods and years under the same strategies: each is offered once."""
    import re

    from agencies.models import Agency, Role
    from agencies.services import role_grant
    from reporting.models import Entry, Obligation, ReportingPeriod
    from reporting.services import obligations_generate
    from reporting.services.periods import periods_ensure

    obligations_generate(year=112)
    periods_ensure(year=112)
    for number in (1, 2):
        period = ReportingPeriod.objects.get(year=112, frequency="quarterly", number=number)
        Entry.objects.bulk_create(
            Entry(obligation=obligation, period=period, state=Entry.State.FORWARDED)
            for obligation in Obligation.objects.filter(year=112, indicator__frequency="quarterly", agency__name__in=["交通部", "經濟部"])
        )
    user = django_user_model.objects.create_user(username="f_aac", password="pw-123456789", agency=Agency.objects.get(name="法務部廉政署"))
    role_grant(user=user, role=Role.AAC_REVIEWER, granted_by=None)
    client.force_login(user)
    strategy = plan112.strategies.get(number=5)
    for query in ({}, {"strategy": strategy.pk}):
        html = client.get(reverse("reporting:review_queue"), query).content.decode()
        options = re.findall(r'<option value="(\d+)"', html.split('name="strategy"')[1].split("</select>")[0])
        assert len(options) == len(set(options)), options
