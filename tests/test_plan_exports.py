"""Plan exports reopened with independent readers show what the database holds."""

import io
import json
import re

import openpyxl
import pyexcel_ods3
import pytest
from django.core.management import call_command
from django.urls import reverse

from measures.exporters import JSON_FORMAT
from measures.models import Measure, TargetValue

pytestmark = pytest.mark.django_db

HEADER_112 = ["具體策略", "執行措施", "績效目標", "辦理機關", "績效衡量指標", "112年績效目標值"]


def _download(client, fmt, code="112"):
    response = client.get(reverse("measures:export", args=[code, fmt]))
    assert response.status_code == 200
    assert f'filename="plan-{code}.{fmt}"' in response["Content-Disposition"]
    return response.content


def _measure_rows(rows):
    """The measure column as the export shows it, first line of each merged block."""
    return [row[1] for row in rows[1:] if len(row) > 1 and row[1]]


def _expected_measure_cells(plan):
    return [f"{m.printed_number} {m.text}".strip() for m in Measure.objects.filter(strategy__plan=plan).order_by("strategy__position", "number")]


def test_xlsx_mirrors_the_published_table(reader_client, plan112):
    workbook = openpyxl.load_workbook(io.BytesIO(_download(reader_client, "xlsx")))
    table = workbook["具體作為"]
    rows = [list(row) for row in table.iter_rows(values_only=True)]
    assert rows[0] == HEADER_112
    assert _measure_rows(rows) == _expected_measure_cells(plan112)
    # Strategy and measure cells are merged over the rows they span.
    merged = {str(r) for r in table.merged_cells.ranges}
    assert any(r.startswith("A2:A") for r in merged)
    assert any(r.startswith("B2:B") for r in merged)
    assert rows[1][0] == "一、強化機關廉政經營責任制度，落實風險控管作為。"
    # Print setup: A4 landscape, header row repeated on every page, wrapped text.
    assert table.page_setup.orientation == "landscape"
    assert int(table.page_setup.paperSize) == int(table.PAPERSIZE_A4)
    assert table.print_title_rows.replace("$", "") == "1:1"
    assert table["B2"].alignment.wrap_text


def test_xlsx_value_sheet_has_every_value_as_a_number(reader_client, plan112):
    workbook = openpyxl.load_workbook(io.BytesIO(_download(reader_client, "xlsx")))
    sheet = workbook["112年目標值明細"]
    rows = [row[1:] for row in sheet.iter_rows(min_row=2, values_only=True)]  # column A is the year
    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == {112}
    values = list(TargetValue.objects.filter(measure__strategy__plan=plan112).order_by("measure__strategy__position", "measure__number", "position"))
    assert len(rows) == len(values)
    for row, value in zip(rows, values):
        assert row[6] == value.display_text
        if value.quantity is None:
            assert row[7] is None
        else:
            assert isinstance(row[7], (int, float)) and row[7] == value.quantity
            assert row[8] == value.unit
    assert sum(r[7] for r in rows if r[7] is not None) == sum(v.quantity for v in values if v.quantity is not None)


def test_ods_shows_the_same_rows_and_numbers(reader_client, plan112):
    xlsx = openpyxl.load_workbook(io.BytesIO(_download(reader_client, "xlsx")))
    ods = pyexcel_ods3.get_data(io.BytesIO(_download(reader_client, "ods")), file_type="ods")
    assert list(ods) == ["具體作為", "112年目標值明細", "機讀資料"]
    ods_table = [row for row in ods["具體作為"]]
    assert ods_table[0] == HEADER_112
    assert _measure_rows(ods_table) == _expected_measure_cells(plan112)
    xlsx_values = [list(r)[1:] for r in xlsx["112年目標值明細"].iter_rows(min_row=2, values_only=True)]
    ods_values = [row[1:] for row in ods["112年目標值明細"][1:]]
    assert len(ods_values) == len(xlsx_values)
    for ods_row, xlsx_row in zip(ods_values, xlsx_values):
        padded = ods_row + [""] * (len(xlsx_row) - len(ods_row))
        assert padded[6] == xlsx_row[6]
        assert (padded[7] if padded[7] != "" else None) == xlsx_row[7]


def test_ods_is_a_real_opendocument_with_merges_and_landscape_pages(reader_client, plan112):
    import zipfile

    content = _download(reader_client, "ods")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
        xml = archive.read("content.xml").decode() + archive.read("styles.xml").decode()
    assert "number-rows-spanned" in xml
    assert "table-header-rows" in xml
    assert 'print-orientation="landscape"' in xml


def test_older_version_exports_its_four_columns_and_area_headings(reader_client, plan101):
    workbook = openpyxl.load_workbook(io.BytesIO(_download(reader_client, "xlsx", "101")))
    rows = [list(r) for r in workbook["具體作為"].iter_rows(values_only=True)]
    assert rows[0] == ["具體策略", "執行措施", "績效目標", "辦理機關"]
    assert rows[1][0] == "一、加強肅貪防貪"
    assert rows[2][0] == "(一)肅貪"
    assert workbook.sheetnames == ["具體作為", "機讀資料"]


def test_json_holds_the_whole_tree(reader_client, plan112):
    data = json.loads(_download(reader_client, "json"))
    assert data["format"] == JSON_FORMAT
    plan = data["plan"]
    assert plan["code"] == "112" and len(plan["goals"]) == 4
    assert [len(s["measures"]) for s in plan["strategies"]] == [4, 6, 3, 3, 2, 3, 8, 20, 9]
    measure = next(m for m in plan["strategies"][6]["measures"] if m["printed_number"] == "(五)")
    value = measure["values"][0]
    assert value["quantity"] == "11" and value["unit"] == "次"
    assert [share["quantity"] for share in value["breakdown"]] == ["3", "1", "6", "1"]
    all_values = [v for s in plan["strategies"] for m in s["measures"] for v in m["values"]]
    assert len(all_values) == TargetValue.objects.filter(measure__strategy__plan=plan112).count()


def test_unknown_export_format_is_not_found(reader_client, plan112):
    assert reader_client.get(reverse("measures:export", args=["112", "pdf"])).status_code == 404


def test_export_command_writes_each_format(plan112, tmp_path):
    for fmt in ["xlsx", "ods", "json"]:
        target = tmp_path / f"out.{fmt}"
        call_command("export_plan", "112", "--format", fmt, "--output", str(target), stdout=io.StringIO())
        assert target.stat().st_size > 1000
    assert openpyxl.load_workbook(tmp_path / "out.xlsx").sheetnames == ["具體作為", "112年目標值明細", "機讀資料"]


def test_export_command_names_the_known_versions_when_asked_for_another(plan112):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="找不到版本「999」.*112"):
        call_command("export_plan", "999", stdout=io.StringIO())


def test_json_quantities_are_plain_decimals(reader_client, plan112):
    text = _download(reader_client, "json").decode()
    data = json.loads(text)
    quantities = [v["quantity"] for s in data["plan"]["strategies"] for m in s["measures"] for v in m["values"] if v["quantity"] is not None]
    quantities += [b["quantity"] for s in data["plan"]["strategies"] for m in s["measures"] for v in m["values"] for b in v["breakdown"]]
    assert quantities and all(re.fullmatch(r"\d+(\.\d+)?", q) for q in quantities), [q for q in quantities if "E" in q]
    assert "300" in quantities and "160000000" in quantities
    assert data["plan"]["years"] == [{"year": 112, "state": "published", "source": "plan_file", "published_at": data["plan"]["years"][0]["published_at"]}]


def test_each_published_year_has_its_own_column_and_sheet(reader_client, plan112):
    from .conftest import publish_year

    publish_year(113)
    workbook = openpyxl.load_workbook(io.BytesIO(_download(reader_client, "xlsx")))
    assert workbook.sheetnames == ["具體作為", "112年目標值明細", "113年目標值明細", "機讀資料"]
    header = [cell.value for cell in workbook["具體作為"][1]]
    assert header == [*HEADER_112, "113年績效目標值"]
    for year in (112, 113):
        years = {row[0] for row in workbook[f"{year}年目標值明細"].iter_rows(min_row=2, values_only=True)}
        assert years == {year}
    # The 7(五) row holds 112's 11次 in the 112 column and 113's own figure in the 113 column.
    rows = [list(r) for r in workbook["具體作為"].iter_rows(min_row=2, values_only=True)]
    row = next(r for r in rows if r[5] and "邀集公股投資事業召開業務研討會議11次" in r[5])
    assert row[6] and "11次" not in row[6]
    data = json.loads(_download(reader_client, "json"))
    assert [y["year"] for y in data["plan"]["years"]] == [112, 113]
    assert {v["year"] for s in data["plan"]["strategies"] for m in s["measures"] for v in m["values"]} == {112, 113}
