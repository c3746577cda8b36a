"""import_plan takes back what export_plan writes: a preview of the difference, then all or nothing."""

import copy
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from measures.exporters import EXPORTERS
from measures.models import Indicator, PlanVersion, TargetValue, TargetYear
from measures.plan_import import PlanImportError, plan_import

from .conftest import publish_year

pytestmark = pytest.mark.django_db


def exported(plan) -> dict:
    return json.loads(EXPORTERS["json"].render(plan).content)


def as_bytes(tree) -> bytes:
    return json.dumps(tree, ensure_ascii=False).encode()


def comparable(tree) -> dict:
    tree = copy.deepcopy(tree)
    tree.pop("exported_at", None)
    for year in tree["plan"].get("years", []):
        # When and how a year arrived (set in the portal, or from this file) is not the plan.
        year.pop("published_at", None)
        year.pop("source", None)
    return tree


def snapshot():
    return sorted(TargetValue.objects.values_list("measure_id", "year", "position", "text", "quantity")), sorted(
        PlanVersion.objects.values_list("code", "title", "status")
    )


def test_the_same_file_changes_nothing(plan112):
    result = plan_import(content=EXPORTERS["json"].render(plan112).content, apply=True)
    assert result.diff.is_empty and not result.stats.changed


def test_export_import_into_an_empty_database_export_gives_the_same_plan(plan112):
    publish_year(113)
    before = exported(plan112)
    from reporting.models import Obligation, TargetProposal

    TargetProposal.objects.all().delete()
    Obligation.objects.all().delete()
    PlanVersion.objects.all().delete()  # agencies stay loaded
    TargetYear.objects.all().delete()
    result = plan_import(content=as_bytes(before), apply=True)
    assert result.diff.new_version and result.diff.count("added") > 300
    after = exported(PlanVersion.objects.get(code="112"))
    assert comparable(after) == comparable(before)
    assert sorted(TargetYear.objects.values_list("year", flat=True)) == [112, 113]


def test_a_preview_shows_before_and_after_and_writes_nothing(plan112):
    tree = exported(plan112)
    measure = tree["plan"]["strategies"][6]["measures"][4]  # 7(五)
    measure["text"] = measure["text"] + "（修正）"
    before = snapshot()
    texts = list(PlanVersion.objects.get(code="112").strategies.get(number=7).measures.values_list("text", flat=True))
    result = plan_import(content=as_bytes(tree), apply=False)
    assert [(c.kind, c.what, c.where) for c in result.diff.changes] == [("changed", "執行措施", "7(五)")]
    assert "（修正）" in result.diff.changes[0].after and "（修正）" not in result.diff.changes[0].before
    assert snapshot() == before
    assert list(PlanVersion.objects.get(code="112").strategies.get(number=7).measures.values_list("text", flat=True)) == texts
    plan_import(content=as_bytes(tree), apply=True)
    assert PlanVersion.objects.get(code="112").strategies.get(number=7).measures.get(number=5).text.endswith("（修正）")


def test_a_file_with_another_years_values_adds_that_year_and_leaves_the_others(plan112):
    tree = exported(plan112)
    for strategy in tree["plan"]["strategies"]:
        for measure in strategy["measures"]:
            # A year set later gives every milestone a date (the plan document printed some without).
            measure["values"] = [dict(v, year=113, note="", due_on=v["due_on"] or ("2024-12-31" if v["kind"] == "milestone" else None)) for v in measure["values"]]
    values_112 = sorted(TargetValue.objects.filter(year=112).values_list("pk", "quantity"))
    result = plan_import(content=as_bytes(tree), apply=True)
    assert result.diff.count("added") == 112 and result.diff.count("removed") == 0
    assert sorted(TargetValue.objects.filter(year=112).values_list("pk", "quantity")) == values_112
    assert TargetValue.objects.filter(year=113).count() == 112
    assert TargetYear.objects.get(year=113).source == TargetYear.Source.PLAN_FILE


def _first_value(tree, kind):
    for s, strategy in enumerate(tree["plan"]["strategies"]):
        for m, measure in enumerate(strategy["measures"]):
            for v, value in enumerate(measure["values"]):
                if value["kind"] == kind:
                    return value, f"plan.strategies[{s}].measures[{m}].values[{v}]"


@pytest.mark.parametrize(
    ("kind", "change", "field", "message"),
    [
        ("count", {"kind": "amount"}, "kind", "類型「amount」不存在"),
        ("count", {"quantity": "-5"}, "quantity", "不可為負數"),
        ("count", {"quantity": "三百"}, "quantity", "不是數字"),
        ("ratio", {"quantity": "120"}, "quantity", "比率不可超過 100%"),
        ("milestone", {"due_on": None, "year": 113}, "due_on", "須有完成期限"),
    ],
)
def test_bad_values_are_named_by_json_path_and_nothing_is_written(plan112, kind, change, field, message):
    tree = exported(plan112)
    value, path = _first_value(tree, kind)
    value.update(change)
    before = snapshot()
    with pytest.raises(PlanImportError) as error:
        plan_import(content=as_bytes(tree), apply=True)
    where, what = error.value.problems[0]
    assert where == f"{path}.{field}" and message in what
    assert snapshot() == before


def test_a_duplicate_row_and_a_file_of_another_version_are_refused(plan112):
    tree = exported(plan112)
    values = tree["plan"]["strategies"][0]["measures"][0]["values"]
    values.append(dict(values[0]))
    with pytest.raises(PlanImportError, match="重複"):
        plan_import(content=as_bytes(tree), apply=True)
    with pytest.raises(PlanImportError, match="這是「112」版的方案檔，不是「101」版"):
        plan_import(content=EXPORTERS["json"].render(plan112).content, apply=True, expected_code="101")


def test_a_published_value_is_not_edited_in_place(plan112):
    tree = exported(plan112)
    value, _path = _first_value(tree, "count")
    value["quantity"], value["figure"] = "999", "999 " + value["unit"]
    before = snapshot()
    with pytest.raises(PlanImportError, match="已核定公布，不可由檔案直接修改"):
        plan_import(content=as_bytes(tree), apply=True)
    assert snapshot() == before


def test_removing_an_indicator_that_has_figures_is_refused(plan112):
    from reporting.services import obligations_generate

    obligations_generate(year=112)
    tree = exported(plan112)
    measure = tree["plan"]["strategies"][6]["measures"][4]
    measure["indicators"] = []
    for value in measure["values"]:
        value["indicators"] = []
    before = snapshot()
    with pytest.raises(PlanImportError, match="已有填報資料"):
        plan_import(content=as_bytes(tree), apply=True)
    assert snapshot() == before
    assert Indicator.objects.filter(measure__strategy__plan=plan112, measure__strategy__number=7, measure__number=5).exists()


def test_the_command_previews_applies_and_refuses_in_zh_hant(plan112, tmp_path):
    tree = exported(plan112)
    tree["plan"]["strategies"][6]["measures"][4]["text"] += "（修正）"
    path = tmp_path / "plan-112.json"
    path.write_bytes(as_bytes(tree))
    out = io.StringIO()
    call_command("import_plan", str(path), "--dry-run", stdout=out)
    assert "修改 執行措施 7(五)" in out.getvalue() and "（試算，未寫入）" in out.getvalue()
    out = io.StringIO()
    call_command("import_plan", str(path), stdout=out)
    assert "已套用" in out.getvalue()
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="JSON 格式錯誤"):
        call_command("import_plan", str(broken), stdout=io.StringIO())


def test_aac_uploads_previews_and_applies_in_the_browser_pages(client, plan112, django_user_model, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from .personas import make_personas

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    people = make_personas()
    tree = exported(plan112)
    tree["plan"]["strategies"][6]["measures"][4]["text"] += "（修正）"
    client.force_login(people.officer_a)
    assert client.post(reverse("measures:import"), {"file": SimpleUploadedFile("plan.json", as_bytes(tree))}).status_code == 403
    client.force_login(people.aac)
    refused = client.post(reverse("measures:import"), {"file": SimpleUploadedFile("plan.pdf", b"%PDF")})
    assert refused.status_code == 400 and "不是本系統匯出的方案檔" in refused.content.decode()
    broken = dict(tree)
    response = client.post(reverse("measures:import"), {"file": SimpleUploadedFile("plan.json", as_bytes(tree))})
    preview_url = response.url
    preview = client.get(preview_url).content.decode()
    assert "修改" in preview and "7(五)" in preview and "（修正）" in preview
    assert not plan112.strategies.get(number=7).measures.get(number=5).text.endswith("（修正）")
    applied = client.post(preview_url, follow=True)
    assert "已匯入「plan.json」：新增 0、修改 1、移除 0 項" in applied.content.decode()
    assert plan112.strategies.get(number=7).measures.get(number=5).text.endswith("（修正）")
    # A bad file: every problem named, nothing written.
    value, path = _first_value(broken, "count")
    value["quantity"] = "-1"
    response = client.post(reverse("measures:import"), {"file": SimpleUploadedFile("bad.json", as_bytes(broken))})
    page = client.get(response.url)
    assert page.status_code == 400 and f"{path}.quantity" in page.content.decode() and "不可為負數" in page.content.decode()


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_a_workbook_comes_back_in_and_a_round_trip_through_an_empty_database_gives_the_same_plan(plan112, fmt):
    publish_year(113)
    workbook = EXPORTERS[fmt].render(plan112).content
    assert plan_import(content=workbook, apply=False).diff.is_empty
    before = exported(plan112)
    from reporting.models import Obligation, TargetProposal

    TargetProposal.objects.all().delete()
    Obligation.objects.all().delete()
    PlanVersion.objects.all().delete()
    TargetYear.objects.all().delete()
    plan_import(content=workbook, apply=True)
    plan = PlanVersion.objects.get(code="112")
    assert comparable(exported(plan)) == comparable(before)
    assert EXPORTERS[fmt].render(plan).content and plan_import(content=EXPORTERS[fmt].render(plan).content, apply=False).diff.is_empty


def _edit_xlsx(content: bytes, sheet: str, cell: str, value) -> bytes:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(content))
    workbook[sheet][cell] = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_an_edited_cell_of_a_new_years_sheet_comes_in_and_a_bad_one_is_named_by_its_address(plan112):
    publish_year(113)
    TargetYear.objects.filter(year=113).delete()  # 113 as a file brings it, not yet in the database
    TargetValue.objects.filter(year=113).delete()
    import openpyxl

    content = EXPORTERS["xlsx"].render(plan112).content
    assert "113年目標值明細" not in openpyxl.load_workbook(io.BytesIO(content)).sheetnames
    publish_year(113)
    content = EXPORTERS["xlsx"].render(plan112).content
    sheet = openpyxl.load_workbook(io.BytesIO(content))["113年目標值明細"]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet[f"G{r}"].value == "數量")
    bad = _edit_xlsx(content, "113年目標值明細", f"I{row}", "三百")
    before = snapshot()
    with pytest.raises(PlanImportError) as error:
        plan_import(content=bad, apply=True)
    assert error.value.problems[0][0] == f"工作表「113年目標值明細」儲存格 I{row}" and "不是數字" in error.value.problems[0][1]
    assert snapshot() == before
    # 113 is published, so a changed figure in its sheet is refused as an in-place edit.
    changed = _edit_xlsx(content, "113年目標值明細", f"I{row}", 4321)
    with pytest.raises(PlanImportError, match="民國113年的目標值已核定公布"):
        plan_import(content=changed, apply=True)
    assert snapshot() == before


def test_the_benchmark_prints_preview_and_apply_beside_a_bare_openpyxl_read(plan112):
    out = io.StringIO()
    call_command("benchmark_plan_import", "--runs", "1", stdout=out)
    lines = out.getvalue().splitlines()
    assert "民國112、113、114年目標值" in lines[0]
    assert lines[1].startswith("預覽：") and "openpyxl 讀取（唯讀模式）" in lines[1] and "倍" in lines[1] and "資料庫查詢" in lines[1]
    assert lines[2].startswith("套用：") and "資料庫查詢" in lines[2]
    assert lines[3].startswith("套用（改寫一項執行措施）：") and "倍" in lines[3]
    assert lines[4].startswith("基準：openpyxl 唯讀模式")
    assert not plan112.strategies.get(number=1).measures.get(number=1).text.endswith("（修正）")  # rolled back too
    assert not TargetYear.objects.filter(year__gt=112).exists()  # the years made for it are rolled back


@pytest.mark.parametrize("apply", [False, True])
def test_a_no_change_import_of_the_whole_plan_takes_a_fixed_handful_of_queries(plan112, apply, django_assert_max_num_queries):
    """Each kind of row is read once for the whole plan and written in bulk: re-importing the
    112 plan with three years of values must not cost a query per measure (it once took ~1,350)."""
    publish_year(114)
    content = EXPORTERS["xlsx"].render(plan112).content
    # About 45 for the rows and both trees, and a fixed dozen for the lineage with the version before.
    with django_assert_max_num_queries(60):
        result = plan_import(content=content, filename="plan.xlsx", apply=apply)
    assert result.diff.is_empty and not result.stats.changed
