"""The officer's page and the entry pages as people use them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agencies.models import Agency, Role, User
from agencies.services import role_grant
from reporting.models import Entry, Obligation, ReportingPeriod
from reporting.services import obligations_generate
from reporting.services.periods import period_set_state, periods_ensure

from .conftest import find_measure
from .personas import user_with_role

pytestmark = pytest.mark.django_db


_user = user_with_role


@pytest.fixture
def setup(plan112):
    obligations_generate(year=112)
    periods_ensure(year=112)
    obligation = Obligation.objects.get(year=112, agency__name="交通部", indicator__measure=find_measure(plan112, 7, "(五)"))
    return {
        "officer": _user("p_officer", "交通部", Role.OFFICER),
        "colleague": _user("p_officer2", "交通部", Role.OFFICER),
        "outsider": _user("p_outsider", "經濟部", Role.OFFICER),
        "reviewer": _user("p_reviewer", "交通部", Role.AGENCY_REVIEWER),
        "aac": _user("p_aac", "法務部廉政署", Role.AAC_REVIEWER),
        "obligation": obligation,
        "period": ReportingPeriod.objects.get(year=112, frequency="quarterly", number=1),
    }


def _form_url(setup):
    return reverse("reporting:entry", args=[setup["obligation"].pk, setup["period"].pk])


def test_officer_page_lists_the_agencys_items_with_status(client, setup):
    client.force_login(setup["officer"])
    response = client.get(reverse("reporting:my_items"), {"year": "112", "quarter": "1"})
    assert response.status_code == 200
    rows = [row for measures in response.context["groups"].values() for rows in measures.values() for row in rows]
    assert {row.obligation.agency.name for row in rows} == {"交通部"}
    assert len(rows) == Obligation.objects.filter(year=112, agency__name="交通部").count()
    assert "尚未填寫" in response.text


def test_officer_page_runs_a_fixed_number_of_queries(client, setup):
    client.force_login(setup["officer"])
    url = reverse("reporting:my_items")

    def count():
        with CaptureQueriesContext(connection) as context:
            assert client.get(url, {"year": "112", "quarter": "2"}).status_code == 200
        return len(context.captured_queries)

    before = count()
    for obligation in Obligation.objects.filter(year=112, agency__name="交通部"):
        period = ReportingPeriod.objects.get(year=112, frequency=obligation.indicator.frequency, number=1)
        Entry.objects.create(obligation=obligation, period=period, narrative="x")
    assert count() == before


def test_saving_a_draft_accepts_full_width_digits(client, setup):
    client.force_login(setup["officer"])
    response = client.post(_form_url(setup), {"quantity": "２", "narrative": "召開業務研討會。", "save": "1"})
    entry = Entry.objects.get(obligation=setup["obligation"], period=setup["period"])
    assert response.status_code == 302 and entry.quantity == 2 and entry.state == "draft"


def test_a_bad_value_is_shown_at_the_field_and_nothing_typed_is_lost(client, setup):
    client.force_login(setup["officer"])
    response = client.post(_form_url(setup), {"quantity": "三次", "narrative": "我寫了很長的說明", "save": "1"})
    assert response.status_code == 200
    assert "不是數字" in response.text
    assert "我寫了很長的說明" in response.text and 'value="三次"' in response.text
    assert not Entry.objects.exists()


def test_the_second_editor_sees_what_the_first_saved_and_keeps_their_text(client, setup):
    client.force_login(setup["officer"])
    client.post(_form_url(setup), {"quantity": "1", "narrative": "初稿", "save": "1"})
    opened = Entry.objects.get().version
    client.force_login(setup["colleague"])
    client.post(_form_url(setup), {"quantity": "5", "narrative": "同事改的", "version": opened, "save": "1"})
    client.force_login(setup["officer"])
    response = client.post(_form_url(setup), {"quantity": "7", "narrative": "我的新版本", "version": opened, "save": "1"})
    assert response.status_code == 200
    assert "同事改的" in response.text  # the other person's saved version
    assert "我的新版本" in response.text and 'value="7"' in response.text  # what this person typed
    assert Entry.objects.get().quantity == 5
    # Saving again now knowingly replaces the other version.
    version = response.context["form"].data["version"]
    client.post(_form_url(setup), {"quantity": "7", "narrative": "我的新版本", "version": version, "save": "1"})
    assert Entry.objects.get().quantity == 7


def test_a_refused_submit_writes_nothing_and_the_next_save_goes_through(client, setup):
    """Pressing 儲存並送出 with empty fields shows the errors and saves no draft; the officer's
    next 儲存草稿 is then not taken for somebody else's edit."""
    client.force_login(setup["officer"])
    refused = client.post(_form_url(setup), {"quantity": "", "narrative": "", "submit": "1"})
    assert refused.status_code == 200 and refused.context["form"].errors
    assert not Entry.objects.exists()
    saved = client.post(_form_url(setup), {"quantity": "2", "narrative": "召開 2 次", "version": refused.context["form"].data.get("version", ""), "save": "1"})
    assert saved.status_code == 302
    entry = Entry.objects.get()
    assert (entry.state, entry.quantity, entry.narrative) == ("draft", 2, "召開 2 次")


def test_a_refused_submit_of_a_saved_entry_keeps_what_was_saved(client, setup):
    client.force_login(setup["officer"])
    client.post(_form_url(setup), {"quantity": "2", "narrative": "召開 2 次", "save": "1"})
    entry = Entry.objects.get()
    before = (entry.version, entry.quantity, entry.narrative, entry.events.count())
    refused = client.post(_form_url(setup), {"quantity": "", "narrative": "", "version": entry.version, "submit": "1"})
    assert refused.status_code == 200 and refused.context["form"].errors
    entry.refresh_from_db()
    assert (entry.version, entry.quantity, entry.narrative, entry.events.count()) == before and entry.state == "draft"
    # The officer fills the narrative in and submits: no conflict with their own earlier save.
    done = client.post(_form_url(setup), {"quantity": "3", "narrative": "召開 3 次", "version": entry.version, "submit": "1"})
    assert done.status_code == 302
    entry.refresh_from_db()
    assert (entry.state, entry.quantity) == ("submitted", 3)


def test_submit_forward_return_and_resubmit_through_the_pages(client, setup):
    client.force_login(setup["officer"])
    client.post(_form_url(setup), {"quantity": "2", "narrative": "召開 2 次", "submit": "1"})
    entry = Entry.objects.get()
    assert entry.state == "submitted"
    client.force_login(setup["reviewer"])
    client.post(reverse("reporting:entry_action", args=[entry.pk, "forward"]))
    client.force_login(setup["aac"])
    response = client.post(reverse("reporting:entry_action", args=[entry.pk, "return"]), {"comment": ""})
    assert Entry.objects.get().state == "forwarded"  # a return needs a comment
    client.post(reverse("reporting:entry_action", args=[entry.pk, "return"]), {"comment": "請附會議紀錄。"})
    assert Entry.objects.get().state == "returned"
    client.force_login(setup["officer"])
    form = client.get(_form_url(setup))
    assert "請附會議紀錄。" in form.text
    client.post(_form_url(setup), {"quantity": "2", "narrative": "已附會議紀錄", "version": Entry.objects.get().version, "submit": "1"})
    assert Entry.objects.get().state == "submitted"
    history = client.get(reverse("reporting:entry_detail", args=[entry.pk]))
    assert history.text.count("<tr>") >= 6 and "請附會議紀錄。" in history.text
    # What changed, named as the form names it, never by the field's code name.
    assert "執行情形：召開 2 次 → 已附會議紀錄" in history.text and "<code>narrative</code>" not in history.text and "quantity" not in history.text


def test_another_agency_cannot_act_on_or_open_the_entry(client, setup):
    client.force_login(setup["officer"])
    client.post(_form_url(setup), {"quantity": "2", "narrative": "x", "submit": "1"})
    entry = Entry.objects.get()
    client.force_login(setup["outsider"])
    assert client.post(reverse("reporting:entry_action", args=[entry.pk, "forward"])).status_code == 404
    assert client.get(reverse("reporting:entry_detail", args=[entry.pk])).status_code == 404
    assert client.post(_form_url(setup), {"quantity": "9", "narrative": "x", "save": "1"}).status_code == 404
    assert Entry.objects.get().quantity == 2


def test_a_locked_period_refuses_on_the_server(client, setup):
    period_set_state(period=setup["period"], state=ReportingPeriod.State.LOCKED, user=setup["aac"])
    client.force_login(setup["officer"])
    response = client.post(_form_url(setup), {"quantity": "2", "narrative": "x", "save": "1"})
    assert response.status_code == 200 and "已鎖定" in response.text
    assert not Entry.objects.exists()


def test_aac_sets_dates_locks_and_reopens_with_a_reason(client, setup):
    period = setup["period"]
    url = reverse("reporting:period_update", args=[period.pk])
    client.force_login(setup["officer"])
    assert client.post(url, {"opens_on": "2023-01-01", "due_on": "2023-04-20", "state": "locked"}).status_code == 403
    client.force_login(setup["aac"])
    client.post(url, {"opens_on": "112/01/01", "due_on": "112/04/20", "state": "locked"})
    period.refresh_from_db()
    assert period.due_on.isoformat() == "2023-04-20" and period.state == "locked"
    response = client.post(url, {"opens_on": "2023-05-01", "due_on": "2023-04-01", "state": "locked"}, follow=True)
    assert "截止日期不可早於開放日期" in response.text
    response = client.post(reverse("reporting:period_reopen", args=[period.pk]), {"agency": "交通部", "reason": ""}, follow=True)
    assert "須填寫理由" in response.text
    client.post(reverse("reporting:period_reopen", args=[period.pk]), {"agency": "交通部", "reason": "補報第一季"})
    page = client.get(reverse("reporting:periods"), {"year": "112"})
    assert "補報第一季" in page.text
    client.force_login(setup["officer"])
    client.post(_form_url(setup), {"quantity": "2", "narrative": "補報", "save": "1"})
    assert Entry.objects.get().quantity == 2


def test_each_entry_state_has_its_own_colour(client, setup):
    from reporting.templatetags.dashboard_extras import entry_state_class

    states = ["not_started", *Entry.State.values]
    assert len({entry_state_class(state) for state in states}) == len(states) - 1  # a draft looks like nothing entered yet
    client.force_login(setup["officer"])
    client.post(_form_url(setup), {"quantity": "2", "narrative": "召開 2 次", "submit": "1"})
    page = client.get(reverse("reporting:entry_detail", args=[Entry.objects.get().pk])).content.decode()
    assert f'class="badge {entry_state_class("submitted")}" id="entry-state"' in page


def test_national_roles_pick_an_agency_by_name_not_by_an_internal_id(client, setup):
    client.force_login(setup["aac"])
    page = client.get(reverse("reporting:my_items"), {"year": "112", "quarter": "1"}).content.decode()
    assert 'list="agency-options"' in page and '<option value="交通部">' in page and 'value="法務部廉政署"' in page
    picked = client.get(reverse("reporting:my_items"), {"year": "112", "quarter": "1", "agency": "交通部"})
    assert picked.context["agency"].name == "交通部"
    unknown = client.get(reverse("reporting:my_items"), {"year": "112", "quarter": "1", "agency": "不存在的機關"})
    assert unknown.context["agency"].name == "法務部廉政署" and "找不到您可檢視的機關「不存在的機關」" in unknown.content.decode()
    # An officer cannot look at another agency by naming it.
    client.force_login(setup["officer"])
    assert client.get(reverse("reporting:my_items"), {"year": "112", "quarter": "1", "agency": "經濟部"}).context["agency"].name == "交通部"


def test_a_reviewer_goes_from_one_waiting_entry_to_the_next_and_back_to_the_queue(client, setup):
    officer, reviewer = setup["officer"], setup["reviewer"]
    period = setup["period"]
    other = Obligation.objects.filter(year=112, agency__name="交通部", indicator__frequency="quarterly").exclude(pk=setup["obligation"].pk).first()
    client.force_login(officer)
    client.post(_form_url(setup), {"quantity": "2", "narrative": "第一筆", "submit": "1"})
    client.post(reverse("reporting:entry", args=[other.pk, period.pk]), {"quantity": "1", "narrative": "第二筆", "submit": "1"})
    first, second = Entry.objects.order_by("submitted_at", "pk")
    client.force_login(reviewer)
    detail = client.get(reverse("reporting:entry_detail", args=[first.pk])).content.decode()
    assert f'href="{reverse("reporting:agency_review_queue")}">機關審核清單</a>' in detail  # back to the queue, not 填報項目
    moved = client.post(reverse("reporting:entry_action", args=[first.pk, "forward"]), follow=True)
    assert moved.redirect_chain[-1][0] == reverse("reporting:entry_detail", args=[second.pk])
    assert "下一筆待審資料" in moved.content.decode()
    done = client.post(reverse("reporting:entry_action", args=[second.pk, "return"]), {"comment": "請補充"}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("reporting:agency_review_queue") and "清單中已沒有待審的資料" in done.content.decode()
    assert list(Entry.objects.order_by("pk").values_list("state", flat=True)) == ["forwarded", "returned"]
    # A refused step stays on the entry and says why.
    refused = client.post(reverse("reporting:entry_action", args=[second.pk, "forward"]), follow=True)
    assert refused.redirect_chain[-1][0] == reverse("reporting:entry_detail", args=[second.pk])
