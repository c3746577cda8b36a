"""A plan revision (a 116 修正) imported from a file: it supersedes 112 from its first year, its
measures and indicators are matched with 112's (proposed by reference and text, confirmed or
corrected by AAC), and an indicator's trend follows that lineage across the versions."""

import copy
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from measures.exporters import EXPORTERS
from measures.lineage import indicator_reference, predecessors_for_year
from measures.models import Indicator, IndicatorLineage, Measure, MeasureLineage, PlanVersion, TargetYear
from measures.plan_import import PlanImportError, plan_import
from reporting.models import Entry, Obligation, ReportingPeriod
from reporting.selectors.figures import indicator_trend
from reporting.services import obligations_generate

from .conftest import find_measure, publish_year
from .personas import make_personas

pytestmark = pytest.mark.django_db

REWORDED_MEASURE = "，並建立風險預警機制"
REWORDED_INDICATOR = "各機關每年檢視更新、滾動修正機關廉政風險人員及事件，並提出改善措施。"
ADDED_MEASURE = "建置公職人員廉政資訊整合平台，串接財產申報、利益衝突迴避及遊說登記資料，提供查核比對。"


def exported(plan) -> dict:
    return json.loads(EXPORTERS["json"].render(plan).content)


def as_bytes(tree) -> bytes:
    return json.dumps(tree, ensure_ascii=False).encode()


def measure_of(tree, strategy, printed):
    strategy = next(s for s in tree["plan"]["strategies"] if s["number"] == strategy)
    return strategy, next(m for m in strategy["measures"] if m["printed_number"] == printed)


def revision_tree(plan112) -> dict:
    """112 revised from 116: 1(一) and its first indicator reworded, 1(三) dropped, 1(四)
    renumbered 1(三), 2(七) added; every value is 116's."""
    tree = exported(plan112)
    plan = tree["plan"]
    plan.update(code="116", title="國家廉政建設行動方案（116年修正）", first_year=116, last_year=None, status="in_force", target_year=None, years=[])
    strategy_1, first = measure_of(tree, 1, "(一)")
    first["text"] += REWORDED_MEASURE
    first["indicators"][0]["text"] = REWORDED_INDICATOR
    strategy_1["measures"] = [m for m in strategy_1["measures"] if m["printed_number"] != "(三)"]
    _strategy, fourth = measure_of(tree, 1, "(四)")
    fourth.update(number=3, printed_number="(三)")
    strategy_2, _last = measure_of(tree, 2, "(六)")
    strategy_2["measures"].append({
        "number": 7, "printed_number": "(七)", "text": ADDED_MEASURE, "agencies_text": "主辦機關：法務部", "agencies": [
            {"role": "lead", "agency": "法務部", "printed_name": "法務部", "target": None},
        ],
        "targets": [{"number": None, "text": "完成平台建置並上線。"}],
        "indicators": [{"number": None, "text": "平台建置進度。", "frequency": "quarterly", "aggregation": "latest"}],
        "values": [],
    })
    for strategy in plan["strategies"]:
        for measure in strategy["measures"]:
            measure["values"] = [value for value in measure["values"] if value["year"] == 112]
            for value in measure["values"]:
                value["year"] = 116
                if value["kind"] == "milestone" and not value.get("due_on"):
                    value["due_on"] = "2027-12-31"
    return tree


@pytest.fixture
def with_figures(plan112):
    """113 published, with an approved 113 figure on 1(一)'s first indicator."""
    publish_year(113)
    indicator = Indicator.objects.get(measure=find_measure(plan112, 1, "(一)"), position=1)
    entry = Entry.objects.create(
        obligation=Obligation.objects.get(year=113, indicator=indicator, agency__name="交通部"),
        period=ReportingPeriod.objects.get(year=113, frequency=indicator.frequency, number=1), state="approved", quantity=5,
    )
    return indicator, entry


def links(plan_code, model=MeasureLineage):
    subject = "measure" if model is MeasureLineage else "indicator"
    rows = model.objects.filter(**{f"{subject}__{'' if subject == 'measure' else 'measure__'}strategy__plan__code": plan_code})
    return {
        (_reference(getattr(row, subject)), _reference(row.predecessor)): row.basis
        for row in rows.select_related(f"{subject}__strategy" if subject == "measure" else "indicator__measure__strategy", "predecessor")
    }


def _reference(item):
    if isinstance(item, Measure):
        return f"{item.strategy.number}{item.printed_number}"
    return indicator_reference(f"{item.measure.strategy.number}{item.measure.printed_number}", item.position)


# ------------------------------------------------------------------ proposing


def test_the_importer_proposes_the_matching_by_reference_and_text(plan112):
    result = plan_import(content=as_bytes(revision_tree(plan112)), apply=False)
    proposal = result.lineage
    assert proposal.previous == plan112
    by_reference = {link.item.reference: link for link in proposal.measures}
    reworded = by_reference["1(一)"]
    assert (reworded.predecessor.reference, reworded.basis, reworded.reworded) == ("1(一)", "reference", True)
    # 1(三) is now what 1(四) was: its reference points at the dropped measure, its text at 1(四).
    moved = by_reference["1(三)"]
    assert (moved.predecessor.reference, moved.basis, moved.reworded) == ("1(四)", "text", False)
    assert by_reference["2(七)"].predecessor is None
    assert [item.reference for item in proposal.dropped_measures()] == ["1(三)"]
    indicators = {link.item.reference: link for link in proposal.indicators}
    assert indicators["1(一)#1"].predecessor.reference == "1(一)#1" and indicators["1(一)#1"].reworded
    assert indicators["1(三)#2"].predecessor.reference == "1(四)#2"
    assert indicators["2(七)#1"].predecessor is None
    # A preview writes nothing: not the version, not its lineage, not 112's last year.
    assert not PlanVersion.objects.filter(code="116").exists() and not MeasureLineage.objects.exists()
    plan112.refresh_from_db()
    assert (plan112.status, plan112.last_year) == ("in_force", None)


def test_a_revision_supersedes_the_version_before_and_stores_its_lineage(plan112, with_figures, reader_client):
    result = plan_import(content=as_bytes(revision_tree(plan112)), apply=True)
    assert result.applied and result.lineage_added > 0
    plan112.refresh_from_db()
    assert (plan112.status, plan112.last_year) == ("superseded", 115)
    revision = PlanVersion.objects.get(code="116")
    assert revision.status == "in_force" and TargetYear.objects.get(year=116).plan == revision
    measure_links = links("116")
    assert measure_links[("1(一)", "1(一)")] == "reference" and measure_links[("1(三)", "1(四)")] == "text"
    assert not any(new == "2(七)" for new, _old in measure_links) and not any(old == "1(三)" for _new, old in measure_links)
    changes = reader_client.get(reverse("measures:changes", args=["116"])).content.decode()
    dropped = changes.split('id="lineage-dropped"')[1].split("</ul>")[0]
    assert 'data-reference="1(三)"' in dropped and 'data-reference="1(四)"' not in dropped
    assert "延續 " in changes and "新增 " in changes
    # The export carries the lineage, so the file comes back in with it.
    tree = exported(revision)
    _strategy, moved = measure_of(tree, 1, "(三)")
    assert moved["continues"] == [{"plan": "112", "reference": "1(四)", "basis": "text"}]
    MeasureLineage.objects.all().delete()
    IndicatorLineage.objects.all().delete()
    again = plan_import(content=as_bytes(tree), apply=True)
    assert again.diff.is_empty and links("116") == measure_links
    assert plan_import(content=as_bytes(tree), apply=True).lineage_added == 0


def test_the_trend_and_year_before_follow_the_lineage_across_the_versions(plan112, with_figures, client, settings):
    old_indicator, _entry = with_figures
    plan_import(content=as_bytes(revision_tree(plan112)), apply=True)
    new_indicator = Indicator.objects.get(measure__strategy__plan__code="116", measure__strategy__number=1, measure__number=1, position=1)
    assert new_indicator.text == REWORDED_INDICATOR
    obligations_generate(year=116)
    Entry.objects.create(
        obligation=Obligation.objects.get(year=116, indicator=new_indicator, agency__name="交通部"),
        period=ReportingPeriod.objects.get(year=116, frequency=new_indicator.frequency, number=1), state="approved", quantity=8,
    )
    trend = indicator_trend(indicator=new_indicator)
    assert sorted(trend) == [113, 116]
    assert (trend[113]["periods"][1].quantity, trend[116]["periods"][1].quantity) == (5, 8)
    # The old indicator's own trend stays its own: nothing of 116 flows back.
    assert sorted(indicator_trend(indicator=old_indicator)) == [113]
    assert predecessors_for_year([new_indicator.pk], year=113) == {new_indicator.pk: old_indicator.pk}
    assert predecessors_for_year([new_indicator.pk], year=116) == {new_indicator.pk: new_indicator.pk}
    added = Indicator.objects.get(measure__strategy__plan__code="116", measure__strategy__number=2, measure__number=7)
    assert predecessors_for_year([added.pk], year=113) == {}
    # The indicator page says where the earlier years come from.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    client.force_login(make_personas().aac)
    page = client.get(reverse("dashboard:indicator", args=[new_indicator.pk]), {"year": "116"}).content.decode()
    assert 'id="trend-lineage"' in page and "民國112–115年" in page and "1(一)#1" in page


def test_an_import_that_drops_an_indicator_with_figures_is_refused_unless_the_lineage_maps_it(plan112, with_figures, tmp_path):
    tree = revision_tree(plan112)
    strategy_1, _first = measure_of(tree, 1, "(一)")
    strategy_1["measures"] = [m for m in strategy_1["measures"] if m["printed_number"] != "(一)"]
    _strategy, added = measure_of(tree, 2, "(七)")
    added["indicators"][0]["text"] = "各機關辦理廉政風險人員及事件檢視更新次數。"
    with pytest.raises(PlanImportError, match="已有填報資料") as refused:
        plan_import(content=as_bytes(tree), apply=True)
    assert "1(一)#1" in str(refused.value)
    assert not PlanVersion.objects.filter(code="116").exists() and not MeasureLineage.objects.exists()
    plan112.refresh_from_db()
    assert plan112.status == "in_force" and plan112.last_year is None
    # With the lineage mapping it (the command's --lineage FILE), it comes in.
    path = tmp_path / "plan-116.json"
    path.write_bytes(as_bytes(tree))
    lineage = tmp_path / "lineage.yaml"
    lineage.write_text('indicators:\n  "2(七)#1": "1(一)#1"\n', encoding="utf-8")
    out = io.StringIO()
    call_command("import_plan", str(path), "--lineage", str(lineage), stdout=out)
    assert "已套用" in out.getvalue() and "2(七)#1 ← 1(一)#1（人工指定" in out.getvalue()
    assert links("116", IndicatorLineage)[("2(七)#1", "1(一)#1")] == "manual"


def test_the_command_prints_the_proposed_matching_writes_it_and_refuses_a_bad_lineage_file(plan112, tmp_path):
    path = tmp_path / "plan-116.json"
    path.write_bytes(as_bytes(revision_tree(plan112)))
    proposed = tmp_path / "proposed.json"
    out = io.StringIO()
    call_command("import_plan", str(path), "--dry-run", "--write-lineage", str(proposed), stdout=out)
    printed = out.getvalue()
    assert "沿革對應（與「" in printed and "1(三) ← 1(四)（文字相近）" in printed and "2(七) 新增（無延續）" in printed and "1(三) 不再延續" in printed
    assert "（試算，未寫入）" in printed and not PlanVersion.objects.filter(code="116").exists()
    written = json.loads(proposed.read_text(encoding="utf-8"))
    assert written["previous_version"] == "112" and written["measures"]["1(三)"] == "1(四)" and written["measures"]["2(七)"] is None
    # AAC corrects the file: 2(七) continues 1(三) after all; then it applies.
    written["measures"]["2(七)"] = "1(三)"
    proposed.write_text(json.dumps(written, ensure_ascii=False), encoding="utf-8")
    call_command("import_plan", str(path), "--lineage", str(proposed), stdout=io.StringIO())
    assert links("116")[("2(七)", "1(三)")] == "manual"
    # A lineage file naming items that do not exist: each named, nothing written.
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"measures": {"9(二十)": "1(一)", "1(一)": "4(十五)"}}), encoding="utf-8")
    before = links("116")
    with pytest.raises(CommandError) as refused:
        call_command("import_plan", str(path), "--lineage", str(bad), stdout=io.StringIO())
    assert "新版本沒有編號「9(二十)」的項目" in str(refused.value) and "沒有編號「4(十五)」的項目" in str(refused.value)
    assert links("116") == before
    broken = tmp_path / "broken.yaml"
    broken.write_text("measures: [1, 2", encoding="utf-8")
    with pytest.raises(CommandError, match="無法讀取對應檔"):
        call_command("import_plan", str(path), "--lineage", str(broken), stdout=io.StringIO())


def test_aac_confirms_and_corrects_the_matching_in_the_preview_and_the_plan_pages_show_the_changes(plan112, with_figures, client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    people = make_personas()
    client.force_login(people.aac)
    tree = revision_tree(plan112)
    preview_url = client.post(reverse("measures:import"), {"file": SimpleUploadedFile("plan-116.json", as_bytes(tree))}).url
    page = client.get(preview_url).content.decode()
    assert 'id="lineage-table"' in page and 'name="lineage-measures:1(三)"' in page
    assert '<option value="1(四)" selected>' in page.split('name="lineage-measures:1(三)"')[1].split("</select>")[0]
    # Correct one (2(七) and its indicator continue 1(三)), preview again: the choice stays, nothing is written.
    form = {"lineage-measures:1(三)": "1(四)", "lineage-measures:2(七)": "1(三)", "lineage-indicators:2(七)#1": "1(三)#1", "action": "preview"}
    again = client.post(preview_url, form).content.decode()
    assert '<option value="1(三)" selected>' in again.split('name="lineage-measures:2(七)"')[1].split("</select>")[0]
    assert not PlanVersion.objects.filter(code="116").exists()
    # Mapping the indicator with figures to nothing is refused, with the table still there to fix it.
    refused = client.post(preview_url, {**form, "lineage-indicators:1(一)#1": "", "action": "apply"})
    assert refused.status_code == 400 and "已有填報資料" in refused.content.decode() and 'id="lineage-table"' in refused.content.decode()
    assert not PlanVersion.objects.filter(code="116").exists()
    applied = client.post(preview_url, {**form, "action": "apply"}, follow=True)
    assert "已匯入「plan-116.json」" in applied.content.decode() and "沿革對應新增" in applied.content.decode()
    assert links("116")[("2(七)", "1(三)")] == "manual"
    assert MeasureLineage.objects.filter(measure__strategy__plan__code="116", confirmed_by=people.aac).exists()
    # The plan pages: 116 against 112, through the confirmed lineage.
    overview = client.get(reverse("measures:plan", args=["116"])).content.decode()
    assert reverse("measures:changes", args=["116"]) in overview
    changes = client.get(reverse("measures:changes", args=["116"])).content.decode()
    assert 'id="lineage-summary"' in changes and "修正前：" in changes and REWORDED_MEASURE.strip("，") in changes
    assert "1(三)" in changes and 'name="lineage-' not in changes  # read-only there
    assert 'id="lineage-dropped"' not in changes  # 1(三) lives on in 2(七), by AAC's choice
    # For officers too: the plan is public within the portal.
    client.force_login(people.officer_a)
    assert client.get(reverse("measures:changes", args=["116"])).status_code == 200
    first = client.get(reverse("measures:changes", args=["101"])).content.decode()
    assert 'id="no-previous"' in first


def test_the_first_year_of_an_imported_revision_is_set_from_the_values_and_figures_it_continues(plan112):
    """Open 116 in the portal after importing the revision without values: its proposals start
    from 115's values of the measures they continue, beside 115's figure of the indicator continued."""
    import datetime

    from reporting.selectors.target_setting import agency_proposals, proposal_groups
    from reporting.services.target_setting import target_year_open

    people = make_personas()
    publish_year(115)
    old_indicator = Indicator.objects.get(measure=find_measure(plan112, 1, "(一)"), position=1)
    for number in (1, 2):
        Entry.objects.create(
            obligation=Obligation.objects.get(year=115, indicator=old_indicator, agency__name="交通部"),
            period=ReportingPeriod.objects.get(year=115, frequency=old_indicator.frequency, number=number), state="approved", quantity=3,
        )
    tree = revision_tree(plan112)
    for strategy in tree["plan"]["strategies"]:
        for measure in strategy["measures"]:
            measure["values"] = []
    plan_import(content=as_bytes(tree), apply=True)
    revision = PlanVersion.objects.get(code="116")
    opened = target_year_open(plan=revision, year=116, due_on=datetime.date(2027, 1, 31), user=people.aac)
    assert opened.source_year == 115
    new_indicator = Indicator.objects.get(measure__strategy__plan=revision, measure__strategy__number=1, measure__number=1, position=1)
    proposal = next(p for p in opened.target_year.proposals.all() if p.indicator_ids == [new_indicator.pk])
    assert proposal.previous.year == 115 and proposal.previous.measure == find_measure(plan112, 1, "(一)")
    groups = proposal_groups(proposals=agency_proposals(target_year=opened.target_year, agency=proposal.lead_agency), target_year=opened.target_year)
    line = next(line for group in groups for line in group.lines if line.proposal == proposal)
    assert line.previous_figure is not None and line.previous_figure.quantity == 6


def test_a_file_whose_lineage_names_the_wrong_items_is_refused_by_name(plan112):
    tree = revision_tree(plan112)
    _strategy, first = measure_of(tree, 1, "(一)")
    first["continues"] = [{"plan": "112", "reference": "7(九)", "basis": "text"}]
    with pytest.raises(PlanImportError, match="沒有編號「7\\(九\\)」的項目"):
        plan_import(content=as_bytes(copy.deepcopy(tree)), apply=True)
    assert not PlanVersion.objects.filter(code="116").exists()


def test_the_annual_report_sets_each_figure_beside_the_year_befores_across_the_revision(plan112):
    """116's report beside 115's figures: the reworded 1(一) indicator beside what 112's 1(一)
    indicator reached in 115, the same quarter; a new indicator beside nothing."""
    from reporting.exporters.annual_sheets import NationalReportWorkbook
    from reporting.selectors.annual_report import national_report

    publish_year(115)
    old_indicator = Indicator.objects.get(measure=find_measure(plan112, 1, "(一)"), position=1)
    for number, quantity in ((1, 4), (2, 7)):
        Entry.objects.create(
            obligation=Obligation.objects.get(year=115, indicator=old_indicator, agency__name="交通部"),
            period=ReportingPeriod.objects.get(year=115, frequency=old_indicator.frequency, number=number), state="approved", quantity=quantity,
        )
    plan_import(content=as_bytes(revision_tree(plan112)), apply=True)
    report = national_report(year=116, quarter=4)
    rows = {(row.measure.reference, row.indicator.position if row.indicator else None): row for row in report.rows}
    continued = rows[("1(一)", 1)]
    assert continued.indicator.text == REWORDED_INDICATOR and continued.previous_figure.quantity == 11
    assert rows[("2(七)", 1)].previous_figure is None  # new: nothing to compare with
    # Up to the first quarter, the year before up to its first quarter.
    first_quarter = {(row.measure.reference, row.indicator.position if row.indicator else None): row for row in national_report(year=116, quarter=1).rows}
    assert first_quarter[("1(一)", 1)].previous_figure.quantity == 4
    # The sheet carries it in its own column, as a number.
    sheet = NationalReportWorkbook(report, []).sheets()[1]
    column = [str(header) for header, _width in sheet.columns].index("上年度同期達成值")
    assert 11 in [row[column] for row in sheet.rows if len(row) > column]


def test_the_changes_page_lists_what_changed_and_everything_on_request(plan112, reader_client):
    plan_import(content=as_bytes(revision_tree(plan112)), apply=True)
    url = reverse("measures:changes", args=["116"])
    changed = reader_client.get(url).content.decode()
    for reference in ("1(一)", "1(一)#1", "1(三)", "2(七)"):
        assert f'data-reference="{reference}"' in changed
    assert 'data-reference="1(二)"' not in changed and 'data-reference="1(一)#2"' not in changed
    everything = reader_client.get(url, {"all": "1"}).content.decode()
    assert 'data-reference="1(二)"' in everything and 'data-reference="1(一)#2"' in everything
