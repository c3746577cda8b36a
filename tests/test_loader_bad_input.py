"""A malformed or inconsistent data file stops the load with one message that
names the file, the entry and the problem, and leaves the database as it was."""

import copy

import pytest
import yaml
from django.db import IntegrityError

from agencies.loaders import load_agencies
from anticorruption.datafiles import DataFileError
from measures.loaders import PlanFile, load_plan
from measures.models import AgencyAssignment, Measure, PlanVersion, Strategy, TargetValue, TargetValueShare

from .conftest import ROOT

pytestmark = pytest.mark.django_db

VALID_PLAN = {
    "code": "t1",
    "title": "測試方案",
    "first_year": 113,
    "status": "draft",
    "target_year": 113,
    "strategies": [
        {
            "number": 1,
            "title": "測試策略",
            "measures": [
                {
                    "number": 1,
                    "printed_number": "(一)",
                    "text": "測試措施",
                    "agencies_text": "國軍退除役官兵輔導委員會、交通部",
                    "agencies": [{"role": "lead", "names": ["國軍退除役官兵輔導委員會", "交通部"]}],
                    "targets": [{"number": 1, "text": "定期召開會議。"}],
                    "indicators": [{"number": 1, "text": "召開會議次數。"}],
                    "values": [
                        {
                            "number": 1,
                            "text": "召開會議9次(國軍退除役官兵輔導委員會3次、交通部6次)。",
                            "indicators": [1],
                            "kind": "count",
                            "figure": "9次",
                            "breakdown": [{"agency": "國軍退除役官兵輔導委員會", "figure": "3次"}, {"agency": "交通部", "figure": "6次"}],
                        }
                    ],
                }
            ],
        }
    ],
}


def _write(tmp_path, data, name="plan.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _database_state():
    return {
        model.__name__: sorted(map(repr, model.objects.values_list()))
        for model in (PlanVersion, Strategy, Measure, TargetValue, TargetValueShare, AgencyAssignment)
    }


def test_the_valid_sample_loads(tmp_path):
    plan, stats = load_plan(_write(tmp_path, VALID_PLAN))
    assert plan.code == "t1" and stats.changed
    value = TargetValue.objects.get(measure__strategy__plan=plan)
    assert value.quantity == 9 and value.shares.count() == 2


def _broken(mutate):
    data = copy.deepcopy(VALID_PLAN)
    mutate(data)
    return data


def _measure(data):
    return data["strategies"][0]["measures"][0]


BAD_FILES = {
    "measure with no strategy": (
        lambda d: d.update(strategies=[{"measures": d["strategies"][0]["measures"]}]),
        "第 1 個具體策略", "缺少欄位 number",
    ),
    "measure outside any strategy": (
        lambda d: d.update(measures=d["strategies"][0]["measures"]),
        "方案", "不認得的欄位：measures",
    ),
    "breakdown that does not add up": (
        lambda d: _measure(d)["values"][0]["breakdown"][1].update(figure="5次"),
        "具體策略 1 › 執行措施 (一) › 目標值第 1 項", "各機關分配數合計 8 與目標值 9 不符",
    ),
    "unknown agency name": (
        lambda d: _measure(d)["agencies"][0]["names"].append("火星事務部"),
        "辦理機關第 1 組", "不認得的機關名稱「火星事務部」",
    ),
    "duplicate measure number": (
        lambda d: d["strategies"][0]["measures"].append(copy.deepcopy(_measure(d))),
        "具體策略 1", "執行措施編號重複：1",
    ),
    "duplicate strategy number": (
        lambda d: d["strategies"].append(copy.deepcopy(d["strategies"][0])),
        "方案", "具體策略編號重複：1",
    ),
    "figure that is not a number": (
        lambda d: _measure(d)["values"][0].update(figure="九次", text="召開會議九次。", breakdown=[]),
        "目標值第 1 項", "無法解讀數值「九次」",
    ),
    "figure not in the printed text": (
        lambda d: _measure(d)["values"][0].update(figure="10次", breakdown=[]),
        "目標值第 1 項", "figure「10次」不在原文",
    ),
    "value naming a missing indicator": (
        lambda d: _measure(d)["values"][0].update(indicators=[7]),
        "目標值第 1 項", "找不到績效衡量指標 7",
    ),
    "unknown kind": (
        lambda d: _measure(d)["values"][0].update(kind="wish"),
        "目標值第 1 項", "kind 的值「wish」不在允許範圍",
    ),
    "percentage above 100": (
        lambda d: _measure(d)["values"][0].update(kind="ratio", figure="120%", text="比率達120%。", breakdown=[]),
        "目標值第 1 項", "百分比不可超過 100%",
    ),
    "assignment to a missing performance target": (
        lambda d: _measure(d)["agencies"][0].update(targets=[3]),
        "辦理機關第 1 組", "找不到績效目標 3",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_bad_plan_file_is_refused_and_changes_nothing(tmp_path, case):
    mutate, entry, problem = BAD_FILES[case]
    load_plan(_write(tmp_path, VALID_PLAN))  # an earlier good load the bad one must not disturb
    before = _database_state()
    path = _write(tmp_path, _broken(mutate))
    with pytest.raises(DataFileError) as raised:
        load_plan(path)
    message = str(raised.value)
    assert message.startswith(str(path)), message
    assert entry in message, message
    assert problem in message, message
    assert _database_state() == before


def test_unreadable_yaml_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("code: x\nstrategies: [\n  - oops: : :\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"broken\.yaml: 第 \d+ 行: YAML 格式錯誤"):
        load_plan(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DataFileError, match="找不到檔案"):
        load_plan(tmp_path / "nope.yaml")


def test_a_failure_while_writing_rolls_everything_back(plan112, monkeypatch):
    """Even a database error half-way through the write leaves no trace."""
    before = _database_state()
    plan_file = PlanFile(ROOT / "fixtures" / "plan-112.yaml")
    plan_file.plan_fields["title"] = "改過的標題"  # something to write before the failure
    from measures import loaders

    original = loaders.sync_bulk

    def failing(model, *args, **kwargs):
        if model is loaders.TargetValueShare:  # after the plan, its measures and their values
            raise IntegrityError("simulated failure")
        return original(model, *args, **kwargs)

    monkeypatch.setattr(loaders, "sync_bulk", failing)
    with pytest.raises(DataFileError, match="資料庫拒絕寫入"):
        plan_file.write()
    assert _database_state() == before
    assert PlanVersion.objects.get(code="112").title == "國家廉政建設行動方案（核定本）"


AGENCY_CASES = {
    "unknown parent": ([{"name": "甲機關", "parent": "不存在機關"}], "上級機關「不存在機關」不在檔案中"),
    "cycle": ([{"name": "甲機關", "parent": "乙機關"}, {"name": "乙機關", "parent": "甲機關"}], "上級機關形成循環"),
    "empty name": ([{"name": ""}], "缺少欄位 name"),
    "duplicate name": ([{"name": "甲機關"}, {"name": "甲機關"}], "機關名稱重複"),
    "alias owned by another body": ([{"name": "甲機關", "aliases": ["法務部"]}], "名稱「法務部」已屬於「法務部」"),
}


@pytest.mark.parametrize("case", AGENCY_CASES, ids=list(AGENCY_CASES))
def test_bad_agency_file_is_refused_and_changes_nothing(tmp_path, case, plan112):
    records, problem = AGENCY_CASES[case]
    registry = yaml.safe_load((ROOT / "fixtures" / "agencies.yaml").read_text(encoding="utf-8"))
    path = _write(tmp_path, registry + records, "agencies.yaml")
    from agencies.models import Agency, AgencyName

    before = (sorted(map(repr, Agency.objects.values_list())), sorted(map(repr, AgencyName.objects.values_list())))
    with pytest.raises(DataFileError, match=problem):
        load_agencies(path)
    assert (sorted(map(repr, Agency.objects.values_list())), sorted(map(repr, AgencyName.objects.values_list()))) == before


def test_breakdown_must_add_up_in_the_database(plan112):
    """On PostgreSQL a constraint trigger refuses shares that do not add up to the value."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the breakdown trigger exists on PostgreSQL only; SQLite relies on validation")
    share = TargetValueShare.objects.filter(value__measure__strategy__plan=plan112).first()
    share.quantity += 1
    with pytest.raises(IntegrityError, match="targetvalue_breakdown_sums_to_total|各機關分配數合計"):
        with transaction.atomic():
            share.save()
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS targetvalue_breakdown_sums_to_total IMMEDIATE")


def test_admin_shows_published_values_but_never_changes_them_in_place(admin_client, plan112):
    """A published value changes only by a revision with a reason (年度目標值 › 修正)."""
    from django.urls import reverse

    value = TargetValue.objects.filter(measure__strategy__plan=plan112, shares__isnull=False).distinct().first()
    url = reverse("admin:measures_targetvalue_change", args=[value.pk])
    page = admin_client.get(url)
    assert page.status_code == 200 and "adminform" in page.context
    assert not page.context["has_change_permission"]
    response = admin_client.post(url, {"quantity": "1", "text": "改寫"})
    assert response.status_code == 403
    value.refresh_from_db()
    assert value.quantity != 1 and value.text != "改寫"
