"""Plan pages in the browser's language (zh-Hant), for any signed-in user."""

import pytest
from django.urls import reverse

from agencies.models import Agency
from measures.models import Measure, Strategy

from .conftest import find_measure

pytestmark = pytest.mark.django_db


def test_pages_need_a_signed_in_user(client, plan112):
    measure = find_measure(plan112, 1, "(一)")
    for url in [reverse("measures:plan", args=["112"]), measure.get_absolute_url(), reverse("measures:export", args=["112", "xlsx"])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_login_page_is_in_traditional_chinese(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'lang="zh-hant"' in response.text
    assert "帳號" in response.text and "密碼" in response.text


def test_the_plan_entry_goes_to_the_plan_in_force(reader_client, plan112):
    response = reader_client.get(reverse("measures:home"))
    assert response.status_code == 302
    assert response.url == reverse("measures:plan", args=["112"])
    # The portal's own address goes to the person's work first (tests/test_todo.py): this officer's to-do list.
    assert reader_client.get("/")["Location"] == reverse("reporting:todo")


def test_plan_overview_shows_basis_goals_and_strategies_with_counts(reader_client, plan112, django_assert_max_num_queries):
    with django_assert_max_num_queries(19):
        response = reader_client.get(reverse("measures:plan", args=["112"]))
    assert response.status_code == 200
    text = response.text
    assert "聯合國反貪腐公約施行法第四條" in text
    for goal in ["不願貪", "不必貪", "不能貪", "不敢貪"]:
        assert goal in text
    assert "九、推動國際合作與資產追繳，建構國家間互惠機制。" in text
    strategies = response.context["outline"][0].strategies
    assert [s.measure_count for s in strategies] == [4, 6, 3, 3, 2, 3, 8, 20, 9]
    assert sum(s.value_count for s in strategies) == response.context["totals"]["values"]
    assert response.context["totals"]["measures"] == 58


def test_older_version_overview_shows_areas_and_groups(reader_client, plan101):
    response = reader_client.get(reverse("measures:plan", args=["101"]))
    assert response.status_code == 200
    assert "加強肅貪防貪" in response.text and "(一)肅貪" in response.text and "參與國際及兩岸合作" in response.text
    assert "已修正（舊版）" in response.text


def test_version_switch_lists_every_version(reader_client, plan112, plan101):
    response = reader_client.get(reverse("measures:plan", args=["112"]))
    assert reverse("measures:plan", args=["101"]) in response.text
    assert "101年版" in response.text


def test_strategy_page_lists_its_measures(reader_client, plan112, django_assert_max_num_queries):
    strategy = Strategy.objects.get(plan=plan112, number=7)
    with django_assert_max_num_queries(23):
        response = reader_client.get(strategy.get_absolute_url())
    assert response.status_code == 200
    assert response.text.count('class="card mb-3"') == 8
    assert "邀集公股投資事業召開業務研討會議11次" in response.text


def test_measure_page_shows_targets_indicators_values_and_agencies(reader_client, plan112, django_assert_max_num_queries):
    measure = find_measure(plan112, 1, "(一)")
    with django_assert_max_num_queries(24):
        response = reader_client.get(measure.get_absolute_url())
    assert response.status_code == 200
    text = response.text
    assert measure.text in text
    assert "法務部(廉政署)定期辦理「透明晶質獎」評獎" in text  # a performance target
    assert "機關首長親自主持廉政會報或相關會議，列管評估廉政舉措之有效性。" in text  # an indicator
    assert "至少 <strong>300</strong> 案" in text  # value with unit
    assert "民國112年（2023）" in text  # ROC year
    assert "比率" in text and "里程碑" in text  # kinds
    assert "主辦" in text and "協辦" in text
    assert "（績效目標 6）" in text  # assisting agencies only on target 6
    assert reverse("measures:agency", args=["112", Agency.objects.get(name="中央銀行").pk]) in text


def test_measure_page_formats_large_numbers_and_due_dates(reader_client, plan112):
    response = reader_client.get(find_measure(plan112, 4, "(一)").get_absolute_url())
    assert "<strong>15,000</strong> 件" in response.text
    response = reader_client.get(find_measure(plan112, 2, "(二)").get_absolute_url())
    assert "民國112年11月30日" in response.text


def test_measure_of_another_version_is_not_found(reader_client, plan112, plan101):
    old_measure = Measure.objects.filter(strategy__plan=plan101).first()
    assert reader_client.get(reverse("measures:measure", args=["112", old_measure.pk])).status_code == 404
    assert reader_client.get(reverse("measures:plan", args=["999"])).status_code == 404


def test_search_finds_a_measure_by_a_phrase_of_its_text(reader_client, plan112):
    response = reader_client.get(reverse("measures:search", args=["112"]), {"q": "透明晶質獎"})
    assert response.status_code == 200
    assert [m.reference for m in response.context["results"]] == ["1(一)"]
    assert "<mark>透明晶質獎</mark>" in response.text


def test_search_matches_indicators_values_and_several_terms(reader_client, plan112):
    url = reverse("measures:search", args=["112"])
    assert "8(五)" in [m.reference for m in reader_client.get(url, {"q": "21 個地方檢察署"}).context["results"]]
    assert [m.reference for m in reader_client.get(url, {"q": "1 億 6 千萬元"}).context["results"]] == ["9(四)"]
    both = [m.reference for m in reader_client.get(url, {"q": "揭弊者保護法 立法院"}).context["results"]]
    assert both == ["8(一)"]
    assert list(reader_client.get(url, {"q": "完全不存在的字串"}).context["results"]) == []


def test_search_rejects_an_overlong_query_with_a_message(reader_client, plan112):
    response = reader_client.get(reverse("measures:search", args=["112"]), {"q": "廉" * 101})
    assert response.status_code == 200
    assert "搜尋字串太長" in response.text


def test_agency_page_lists_what_it_leads_or_assists(reader_client, plan112):
    aac = Agency.objects.get(name="法務部廉政署")
    response = reader_client.get(reverse("measures:agency", args=["112", aac.pk]))
    assert response.status_code == 200
    references = [duty.measure.reference for duty in response.context["duties"]]
    assert "1(一)" in references and "8(一)" in references
    assert "廉政署" in response.text  # short name shown


def test_agency_page_shows_its_share_of_a_breakdown(reader_client, plan112):
    transport = Agency.objects.get(name="交通部")
    response = reader_client.get(reverse("measures:agency", args=["112", transport.pk]))
    assert "6次" in response.text
    assert "7(五)" in [duty.measure.reference for duty in response.context["duties"]]


def test_agency_list_counts_lead_and_assisting_measures(reader_client, plan112):
    response = reader_client.get(reverse("measures:agencies", args=["112"]))
    agencies = {agency.name: agency for agency in response.context["agencies"]}
    assert agencies["金融監督管理委員會"].lead_count >= 6
    assert agencies["中央銀行"].assisting_count >= 1


def test_admin_lists_every_plan_model_with_search(admin_client, plan112):
    for model in ["planversion", "strategy", "measure", "performancetarget", "indicator", "targetvalue", "agencyassignment", "section"]:
        response = admin_client.get(reverse(f"admin:measures_{model}_changelist"), {"q": "廉政"})
        assert response.status_code == 200, model
    for model in ["agency", "agencyname", "user"]:
        assert admin_client.get(reverse(f"admin:agencies_{model}_changelist"), {"q": "法務部"}).status_code == 200


def test_search_ignores_full_or_half_width_brackets(reader_client, plan112):
    url = reverse("measures:search", args=["112"])
    half = {m.reference for m in reader_client.get(url, {"q": "法務部(廉政署)"}).context["results"]}
    full = {m.reference for m in reader_client.get(url, {"q": "法務部（廉政署）"}).context["results"]}
    assert half == full
    assert "4(一)" in half  # printed with full-width brackets only
