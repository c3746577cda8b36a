"""The database holds the approved plans exactly as the seeds print them."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from agencies.loaders import AgencyDirectory
from agencies.models import Agency
from measures.loaders import load_plan
from measures.models import AgencyAssignment, Indicator, Measure, PerformanceTarget, PlanVersion, Section, Strategy, TargetValue

from .conftest import ROOT, find_measure

EXPECTED_VALUES = ROOT / "tests" / "data" / "plan112_numeric_values.csv"

pytestmark = pytest.mark.django_db


def test_112_has_4_goals_9_strategies_and_58_measures(plan112):
    assert list(plan112.goals.values_list("title", flat=True)) == ["不願貪", "不必貪", "不能貪", "不敢貪"]
    counts = [s.measures.count() for s in Strategy.objects.filter(plan=plan112).order_by("position")]
    assert counts == [4, 6, 3, 3, 2, 3, 8, 20, 9]
    assert Measure.objects.filter(strategy__plan=plan112).count() == 58
    assert plan112.status == PlanVersion.Status.IN_FORCE
    assert plan112.target_year == 112
    assert plan112.basis.startswith("聯合國反貪腐公約施行法第四條")


def test_every_measure_has_targets_indicators_and_values(plan112):
    for measure in Measure.objects.filter(strategy__plan=plan112):
        assert measure.targets.exists(), measure.reference
        assert measure.indicators.exists(), measure.reference
        assert measure.values.filter(year=112).exists(), measure.reference
        assert measure.assignments.exists(), measure.reference


def _expected_rows():
    with open(EXPECTED_VALUES, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_numeric_value_matches_the_hand_read_seed(plan112):
    """Each count, ratio, amount and maintain-at-least value, with unit and measure,
    against tests/data/plan112_numeric_values.csv (read from the seed by hand)."""
    expected = {
        (int(r["strategy"]), int(r["measure"]), int(r["value_number"]) if r["value_number"] else None,
         int(r["part"]) if r["part"] else None, r["agency"]): (r["kind"], Decimal(r["quantity"]), r["unit"])
        for r in _expected_rows()
    }
    directory = AgencyDirectory()
    actual = {}
    for value in TargetValue.objects.filter(measure__strategy__plan=plan112, kind__in=TargetValue.NUMERIC_KINDS).select_related("measure__strategy", "agency"):
        key = (value.measure.strategy.number, value.measure.number, value.number, value.part, value.agency.name if value.agency else "")
        actual[key] = (value.kind, value.quantity, value.unit)
    expected = {(*key[:4], directory.resolve(key[4])[0].name if key[4] else ""): item for key, item in expected.items()}
    assert actual == expected


def test_issue_examples_are_parsed(plan112):
    def value(strategy, measure, **filters):
        return TargetValue.objects.get(measure=find_measure(plan112, strategy, measure), **filters)

    assert (value(4, "(一)").quantity, value(4, "(一)").unit) == (15000, "件")
    money = value(9, "(四)", number=1)
    assert (money.kind, money.quantity, money.unit) == ("money", 160000000, "元")
    assert (value(3, "(一)").quantity, value(3, "(一)").unit) == (5500000, "人次")
    maintain = value(6, "(一)")
    assert (maintain.kind, maintain.quantity, maintain.unit, maintain.comparator) == ("maintain", 4600, "門", "at_least")
    grade = TargetValue.objects.get(measure=find_measure(plan112, 3, "(二)"), kind="grade")
    assert grade.grade == "B" and grade.agency.name == "國防部"
    about = value(7, "(八)", number=1)
    assert about.comparator == "about" and about.quantity == 1250
    milestone = value(2, "(二)", number=2)
    assert milestone.kind == "milestone" and milestone.due_on.isoformat() == "2023-11-30"
    assert value(8, "(十七)").kind == "report_only"


def test_values_holding_several_figures_are_split(plan112):
    meetings = list(TargetValue.objects.filter(measure=find_measure(plan112, 8, "(四)")).order_by("position"))
    assert [(v.part, v.quantity, v.unit) for v in meetings] == [(1, 80, "次"), (2, 250, "件")]
    assert all(v.text == "每年召開會議合計80次,檢討肅貪案件合計250件。" for v in meetings)
    assert meetings[0].part_text == "每年召開會議合計80次"
    chairing = list(TargetValue.objects.filter(measure=find_measure(plan112, 1, "(一)"), number=3).order_by("part"))
    assert [(v.part, v.kind, v.quantity) for v in chairing] == [(1, "ratio", 80), (2, "ratio", 75)]


def test_per_agency_breakdown_is_kept(plan112):
    value = TargetValue.objects.get(measure=find_measure(plan112, 7, "(五)"))
    assert (value.quantity, value.unit) == (11, "次")
    shares = [(s.agency.name, s.quantity) for s in value.shares.order_by("position")]
    assert shares == [("國軍退除役官兵輔導委員會", 3), ("經濟部", 1), ("交通部", 6), ("金融監督管理委員會", 1)]
    assert sum(q for _, q in shares) == value.quantity


def test_per_agency_blocks_keep_their_agency(plan112):
    values = TargetValue.objects.filter(measure=find_measure(plan112, 9, "(五)")).select_related("agency")
    by_agency = {}
    for value in values:
        by_agency.setdefault(value.agency.name, []).append(value)
    assert set(by_agency) == {"行政院洗錢防制辦公室", "法務部調查局", "法務部檢察司"}
    assert sorted(v.quantity for v in by_agency["法務部調查局"]) == [7, 300, 600]


def test_source_disagreement_is_kept_and_noted(plan112):
    measure = find_measure(plan112, 8, "(五)")
    assert "100 件" in measure.indicators.get().text
    value = measure.values.get()
    assert value.quantity == 120
    assert "100" in value.note and "120" in value.note


def test_fragments_cut_at_page_breaks_are_joined(plan112):
    assert find_measure(plan112, 1, "(三)").text.endswith("並確保公共工程施工品質。")
    value = TargetValue.objects.get(measure=find_measure(plan112, 1, "(一)"), number=5)
    assert value.text == "全年完成涉嫌貪瀆起訴案件檢討因應70%。"


def test_assignments_per_performance_target(plan112):
    measure = find_measure(plan112, 1, "(一)")
    lead = AgencyAssignment.objects.filter(measure=measure, role="lead")
    assert {a.target.number for a in lead} == {1, 2, 3, 4, 5}
    assert {a.agency.name for a in lead} == {"各機關", "法務部廉政署"}
    assisting = AgencyAssignment.objects.filter(measure=measure, role="assisting")
    assert {a.target.number for a in assisting} == {6}
    assisting_names = {a.agency.name for a in assisting}
    assert {"內政部", "內政部警政署刑事警察局", "中央銀行", "教育部"} <= assisting_names
    every = Agency.objects.get(name="各機關")
    assert every.collective == Agency.Collective.EVERY_AGENCY


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("法務部(廉政署)", ["法務部廉政署"]),
        ("法務部（廉政署）", ["法務部廉政署"]),
        ("法務部 (廉政署)", ["法務部廉政署"]),
        ("法務部廉政署", ["法務部廉政署"]),
        ("法務部(檢察司、調查局)", ["法務部檢察司", "法務部調查局"]),
        ("內政部(含警政署刑事警察局)", ["內政部", "內政部警政署刑事警察局"]),
        ("臺灣高等法院檢察署", ["臺灣高等檢察署"]),
        ("行政院農業委員會", ["農業部"]),
    ],
)
def test_agency_names_resolve_through_aliases(db, printed, expected):
    assert [agency.name for agency in AgencyDirectory().resolve(printed)] == expected


def test_older_revision_is_a_second_version_in_its_own_shape(plan101):
    assert plan101.status == PlanVersion.Status.SUPERSEDED
    assert plan101.target_year is None
    areas = Section.objects.filter(plan=plan101, parent=None).order_by("number")
    assert areas.count() == 8
    assert areas.first().title == "加強肅貪防貪"
    assert list(areas.first().children.values_list("title", flat=True)) == ["肅貪", "防貪"]
    assert Strategy.objects.filter(plan=plan101).count() == 48
    assert Measure.objects.filter(strategy__plan=plan101).count() == 91
    assert not Indicator.objects.filter(measure__strategy__plan=plan101).exists()
    assert not TargetValue.objects.filter(measure__strategy__plan=plan101).exists()
    # Older names map to today's bodies.
    high_prosecutors = Agency.objects.get(name="臺灣高等檢察署")
    assert AgencyAssignment.objects.filter(measure__strategy__plan=plan101, agency=high_prosecutors, printed_name="臺灣高等法院檢察署").exists()


def test_loading_again_changes_nothing(plan112):
    before = _snapshot()
    out = io.StringIO()
    call_command("load_reference_data", stdout=out)
    assert out.getvalue().count("新增 0 筆、更新 0 筆、刪除 0 筆") == 1  # the agency registry
    assert out.getvalue().count("已載入，略過") == 2  # both plan versions
    # load_plan on the same file, the explicit tool, also changes nothing.
    out = io.StringIO()
    call_command("load_plan", str(ROOT / "fixtures" / "plan-112.yaml"), stdout=out)
    assert "新增 0 筆、更新 0 筆、刪除 0 筆" in out.getvalue()
    assert _snapshot() == before


def test_loading_a_file_twice_never_duplicates(plan112):
    path = ROOT / "fixtures" / "plan-112.yaml"
    _plan, stats = load_plan(path)
    assert not stats.changed
    assert TargetValue.objects.filter(measure__strategy__plan=plan112).count() == len(set(
        TargetValue.objects.filter(measure__strategy__plan=plan112).values_list("measure", "year", "position")
    ))


def _snapshot():
    """Every plan row with its content, to compare before and after."""
    models = [PlanVersion, Strategy, Section, Measure, PerformanceTarget, Indicator, TargetValue, AgencyAssignment, Agency]
    return {model.__name__: sorted(map(repr, model.objects.values_list())) for model in models}
