"""The target-setting pages as people use them: sequences through the test client."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from agencies.models import Agency, Role
from measures.models import TargetValue, TargetYear
from reporting.models import ReporterRule, TargetProposal

from .personas import user_with_role
from .test_target_setting import approve_all, fast_passwords, people  # noqa: F401 (fixtures shared with the service tests)

pytestmark = pytest.mark.django_db
DUE = timezone.localdate() + datetime.timedelta(days=30)


def open_113(client, people, **extra):
    client.force_login(people.aac)
    return client.post(reverse("targets:open"), {"year": "民國113年", "due_on": f"{DUE.year - 1911}/{DUE.month}/{DUE.day}", **extra})


def test_aac_opens_a_year_typed_in_roc_years(client, people):
    response = open_113(client, people)
    assert response.status_code == 302 and response.url == reverse("targets:year", args=[113])
    target_year = TargetYear.objects.get(year=113)
    assert target_year.due_on == DUE and target_year.state == TargetYear.State.SETTING
    page = client.get(response.url)
    assert "已開放民國113年目標值研訂" in page.content.decode()
    assert "法務部廉政署" in page.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [({"year": "明年"}, "不是有效的民國年度"), ({"year": "112"}, "已核定公布"), ({"year": "113", "due_on": "113/02/30"}, "不是有效日期")],
)
def test_opening_with_bad_input_says_why_and_opens_nothing(client, people, data, message):
    client.force_login(people.aac)
    response = client.post(reverse("targets:open"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TargetYear.objects.filter(year=113).exists()


def test_officer_refused_then_saves_then_submits_and_the_reviewer_forwards(client, people):
    open_113(client, people)
    proposal = TargetProposal.objects.filter(target_year__year=113, lead_agency__name="法務部調查局", kind="count").order_by("pk").first()
    client.force_login(people.officer_mjib)
    url = reverse("targets:proposal", args=[proposal.pk])
    page = client.get(url)
    assert page.status_code == 200 and "112年目標值" in page.content.decode()
    form = {
        "text": proposal.text, "kind": proposal.kind, "quantity": "負五", "unit": proposal.unit, "comparator": proposal.comparator,
        "note": "調整", "version": proposal.version,
    }
    refused = client.post(url, {**form, "save": "1"})
    assert refused.status_code == 400 and "不是數字" in refused.content.decode()
    proposal.refresh_from_db()
    assert proposal.version == 1 and proposal.note == ""
    saved = client.post(url, {**form, "quantity": "１，２００", "submit": "1"})
    assert saved.status_code == 302
    proposal.refresh_from_db()
    assert proposal.quantity == Decimal("1200") and proposal.state == TargetProposal.State.SUBMITTED
    # The next person in the chain: 法務部's reviewer (overseeing 調查局) forwards from the agency page.
    client.force_login(people.reviewer)
    agency_page = client.get(reverse("targets:agency", args=[113, proposal.lead_agency_id]))
    assert "審核通過並全部轉送廉政署" in agency_page.content.decode()
    client.post(reverse("targets:agency_forward", args=[113, proposal.lead_agency_id]))
    proposal.refresh_from_db()
    assert proposal.state == TargetProposal.State.FORWARDED


def test_a_stale_form_is_refused_and_keeps_what_was_typed(client, people):
    open_113(client, people)
    proposal = TargetProposal.objects.filter(target_year__year=113, lead_agency__name="法務部調查局", kind="count").order_by("pk").first()
    colleague = user_with_role("colleague", "法務部調查局", Role.OFFICER)
    form = {"text": proposal.text, "kind": proposal.kind, "quantity": "10", "unit": proposal.unit, "comparator": proposal.comparator, "version": 1, "save": "1"}
    client.force_login(colleague)
    client.post(reverse("targets:proposal", args=[proposal.pk]), form)
    client.force_login(people.officer_mjib)
    response = client.post(reverse("targets:proposal", args=[proposal.pk]), {**form, "quantity": "99"})
    assert response.status_code == 409
    body = response.content.decode()
    assert "colleague" in body and 'value="99"' in body
    proposal.refresh_from_db()
    assert proposal.quantity == 10


def test_aac_returns_one_value_with_a_reason_then_approves_and_publishes(client, people):
    open_113(client, people)
    target_year = TargetYear.objects.get(year=113)
    approve_all(target_year, people.aac)
    proposal = TargetProposal.objects.filter(target_year=target_year).order_by("pk").first()
    client.force_login(people.aac)
    refused = client.post(reverse("targets:proposal_action", args=[proposal.pk, "return"]), {"comment": ""})
    assert refused.status_code == 302
    proposal.refresh_from_db()
    assert proposal.state == TargetProposal.State.APPROVED
    client.post(reverse("targets:proposal_action", args=[proposal.pk, "return"]), {"comment": "請依新制調整"})
    proposal.refresh_from_db()
    assert proposal.state == TargetProposal.State.RETURNED
    blocked = client.post(reverse("targets:publish", args=[113]), follow=True)
    assert "尚有目標值未核可" in blocked.content.decode()
    assert not TargetValue.objects.filter(year=113).exists()
    approve_all(target_year, people.aac)
    done = client.post(reverse("targets:publish", args=[113]), follow=True)
    assert "已核定公布" in done.content.decode()
    assert TargetValue.objects.filter(year=113).count() == 112
    # The plan page shows the year's values and lets AAC revise one.
    measure = proposal.measure
    page = client.get(measure.get_absolute_url(), {"year": "113"})
    assert "113年績效目標值" in page.content.decode() and "修正（須填理由）" in page.content.decode()


def test_the_busiest_lead_agencys_page_runs_a_fixed_number_of_queries(client, people, django_assert_num_queries):
    open_113(client, people)
    aac_agency = Agency.objects.get(name="法務部廉政署")
    busiest = TargetProposal.objects.filter(target_year__year=113, lead_agency=aac_agency).count()
    assert busiest == max(
        TargetProposal.objects.filter(target_year__year=113, lead_agency_id=pk).count()
        for pk in TargetProposal.objects.values_list("lead_agency_id", flat=True).distinct()
    )
    client.force_login(people.officer_aac)
    url = reverse("targets:agency", args=[113, aac_agency.pk])
    client.get(url)  # warm the session and per-process caches
    with django_assert_num_queries(18):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('id="proposal-') == busiest


def test_reporter_rule_page_narrows_an_indicator_with_a_reason(client, people, plan112):
    from .conftest import find_measure

    open_113(client, people)
    indicator = find_measure(plan112, 1, "(一)").indicators.get(number=2)
    url = reverse("targets:reporter_rule", args=[113, indicator.pk])
    aac_agency = Agency.objects.get(name="法務部廉政署")
    refused = client.post(url, {"scope": "named", "agencies": [aac_agency.pk], "reason": ""})
    assert refused.status_code == 400 and "理由" in refused.content.decode()
    assert not ReporterRule.objects.exists()
    done = client.post(url, {"scope": "named", "agencies": [aac_agency.pk], "reason": "透明晶質獎僅由廉政署辦理"})
    assert done.status_code == 302
    listing = client.get(reverse("targets:reporters", args=[113])).content.decode()
    assert "透明晶質獎僅由廉政署辦理" in listing


def test_officers_see_only_their_own_agencys_proposals(client, people):
    open_113(client, people)
    proposal = TargetProposal.objects.filter(target_year__year=113, lead_agency__name="法務部調查局").first()
    client.force_login(people.officer_a)
    assert client.get(reverse("targets:proposal", args=[proposal.pk])).status_code == 404
    assert client.post(reverse("targets:proposal_action", args=[proposal.pk, "submit"])).status_code == 404
    proposal.refresh_from_db()
    assert proposal.state == TargetProposal.State.DRAFT


def test_pages_of_a_year_without_published_values_say_so_and_name_who_has_not_proposed(client, people, monkeypatch):
    """In 民國113年 (faked as today) with 113 open but unpublished: the officer's page and the
    dashboard say so and name the lead agencies still to send proposals."""
    import reporting.views.entries as entry_views
    from reporting.services import obligations_generate

    obligations_generate(year=112)
    open_113(client, people)
    monkeypatch.setattr(entry_views.timezone, "localdate", lambda: datetime.date(2024, 5, 1))
    client.force_login(people.officer_a)
    note = client.get(reverse("reporting:my_items")).content.decode()
    assert "民國113年的目標值研訂中，尚未核定公布" in note and "尚未送出提案的主辦機關（19 個）：內政部" in note
    client.force_login(people.aac)
    board = client.get(reverse("dashboard:home"), {"year": "113"}, follow=True).content.decode()
    assert "民國113年的目標值研訂中" in board and "已改為顯示民國112年" in board
