"""Each role starts where its work is; the officer's to-do list: returned first, then overdue
and due periods, each with its due date and days left."""

import datetime

import pytest
from django.urls import reverse

from reporting.models import Entry, Obligation, ReportingPeriod
from reporting.selectors.todo import agency_todo
from reporting.services import obligations_generate
from reporting.services.periods import periods_ensure

from .personas import PASSWORD, make_personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(plan112, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    obligations_generate(year=112)
    periods_ensure(year=112)
    return make_personas()


@pytest.mark.parametrize("persona, page", [
    ("officer_a", "reporting:todo"),
    ("reviewer", "reporting:agency_review_queue"),
    ("aac", "reporting:review_queue"),
    ("ndc", "dashboard:home"),
    ("admin", "measures:home"),
])
def test_signing_in_lands_each_role_on_its_own_work(client, people, persona, page):
    user = people.by_name(persona)
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("start")
    assert client.get(reverse("start"))["Location"] == reverse(page)
    # A page asked for before signing in still wins.
    client.logout()
    asked = reverse("reporting:my_items")
    response = client.post(f"{reverse('login')}?next={asked}", {"username": user.username, "password": PASSWORD, "next": asked})
    assert response["Location"] == asked


def _quarterly(number):
    return ReportingPeriod.objects.get(year=112, frequency="quarterly", number=number)


def test_the_todo_list_puts_returned_first_then_overdue_then_what_falls_due(people):
    agency = people.agency_a
    today = datetime.date(2023, 7, 10)
    q1, q2, q3 = _quarterly(1), _quarterly(2), _quarterly(3)
    ReportingPeriod.objects.filter(pk=q1.pk).update(opens_on=datetime.date(2023, 4, 1), due_on=datetime.date(2023, 4, 15))
    ReportingPeriod.objects.filter(pk=q2.pk).update(opens_on=datetime.date(2023, 7, 1), due_on=datetime.date(2023, 7, 15))
    ReportingPeriod.objects.filter(pk=q3.pk).update(opens_on=datetime.date(2023, 10, 1), due_on=datetime.date(2023, 10, 15))  # not open yet
    quarterly = list(Obligation.objects.filter(agency=agency, year=112, indicator__frequency="quarterly").order_by("pk"))
    returned = Entry.objects.create(obligation=quarterly[0], period=q1, state=Entry.State.RETURNED, review_comment="請補附件")
    Entry.objects.create(obligation=quarterly[1], period=q1, state=Entry.State.APPROVED)
    Entry.objects.create(obligation=quarterly[2], period=q1, state=Entry.State.SUBMITTED)
    draft = Entry.objects.create(obligation=quarterly[3], period=q2, state=Entry.State.DRAFT)
    todo = agency_todo(agency=agency, today=today)
    assert [row.entry for row in todo.returned] == [returned]
    periods = [(item.period, item.days_left) for item in todo.periods]
    assert (q1, -86) in periods and (q2, 5) in periods and q3 not in [p for p, _days in periods]
    assert periods.index((q1, -86)) < periods.index((q2, 5))  # the overdue one first
    q1_rows = next(item.rows for item in todo.periods if item.period == q1)
    assert {row.obligation for row in q1_rows}.isdisjoint(quarterly[:3])  # returned, approved and submitted are not owed here
    assert len(q1_rows) == len(quarterly) - 3
    q2_rows = next(item.rows for item in todo.periods if item.period == q2)
    assert draft in [row.entry for row in q2_rows] and len(q2_rows) == len(quarterly)
    # A locked period drops out, unless AAC reopened it for this agency.
    ReportingPeriod.objects.filter(pk=q1.pk).update(state=ReportingPeriod.State.LOCKED)
    assert q1 not in [item.period for item in agency_todo(agency=agency, today=today).periods]
    q1.reopenings.create(agency=agency, reason="補正")
    assert q1 in [item.period for item in agency_todo(agency=agency, today=today).periods]


def test_the_todo_page_shows_due_dates_and_days_left_in_a_fixed_number_of_queries(client, people, django_assert_max_num_queries):
    client.force_login(people.officer_a)
    q4 = _quarterly(4)
    page = client.get(reverse("reporting:todo"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "已逾期" in html and "截止" in html and q4.label in html
    assert 'href="' + reverse("reporting:todo") + '"' in html  # the officer's nav has it
    with django_assert_max_num_queries(12):
        client.get(reverse("reporting:todo"))
    # Someone without an agency has no to-do list.
    client.force_login(people.no_role)
    assert client.get(reverse("reporting:todo")).status_code in (403, 404)


def test_the_items_page_shows_each_periods_due_date(client, people):
    client.force_login(people.officer_a)
    q2 = _quarterly(2)
    from measures.years import roc_date_label

    html = client.get(reverse("reporting:my_items"), {"year": "112", "quarter": "2"}).content.decode()
    assert f"截止 {roc_date_label(q2.due_on)}" in html


def test_the_items_page_and_the_form_write_figures_with_their_unit(client, people, plan112):
    from decimal import Decimal

    from .conftest import find_measure

    client.force_login(people.officer_a)
    obligation = Obligation.objects.get(year=112, agency__name="交通部", indicator__measure=find_measure(plan112, 7, "(五)"))
    Entry.objects.create(obligation=obligation, period=_quarterly(1), state=Entry.State.APPROVED, quantity=Decimal("1234.0000"))
    html = client.get(reverse("reporting:my_items"), {"year": "112", "quarter": "2"}).content.decode()
    unit = obligation.indicator.values.filter(year=112).first().unit
    assert f"1,234{unit}" in html and "1234.0000" not in html
    form = client.get(reverse("reporting:entry", args=[obligation.pk, _quarterly(2).pk])).content.decode()
    assert f"本期數值（{unit}）" in form


def test_aac_starts_at_the_queue_which_leads_to_completeness(client, people):
    client.force_login(people.aac)
    queue = client.get(client.get(reverse("start"))["Location"]).content.decode()
    assert f'href="{reverse("dashboard:completeness")}" id="completeness-link"' in queue
