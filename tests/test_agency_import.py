"""Importing and exporting the agency registry: agencies/resources.py and the
import and export pages of AgencyAdmin."""

import csv
import datetime
import io
import re

import openpyxl
import pyexcel_ods3
import pytest
import tablib
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from import_export.formats.base_formats import CSV, XLSX

from agencies.models import Agency, AgencyName, Role, User
from agencies.resources import ODS, AgencyResource
from agencies.services import role_grant

pytestmark = pytest.mark.django_db

HEADERS = ["機關代碼", "機關名稱", "簡稱", "上級機關", "機關類別", "設有政風機構", "現存機關", "裁撤日期", "別名", "備註"]
IMPORT_URL = reverse("admin:agencies_agency_import")
CONFIRM_URL = reverse("admin:agencies_agency_process_import")
EXPORT_URL = reverse("admin:agencies_agency_export")
CHANGELIST_URL = reverse("admin:agencies_agency_changelist")
# Positions in AgencyAdmin's format list, as the import and export forms number them.
FORMAT_INDEX = {"xlsx": "0", "csv": "1", "ods": "2"}


# --- helpers ------------------------------------------------------------------


def sheet_rows(*rows, headers=None):
    """Rows given as {header: value}, as lists under the headers they use."""
    headers = headers or [header for header in HEADERS if any(header in row for row in rows)]
    return headers, [[row.get(header, "") for header in headers] for row in rows]


def dataset(*rows, headers=None):
    headers, values = sheet_rows(*rows, headers=headers)
    return tablib.Dataset(*values, headers=headers)


def xlsx_file(*rows, headers=None):
    headers, values = sheet_rows(*rows, headers=headers)
    workbook = openpyxl.Workbook()
    workbook.active.append(headers)
    for row in values:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_file(*rows, headers=None):
    """As Excel saves "CSV UTF-8": with a byte-order mark."""
    headers, values = sheet_rows(*rows, headers=headers)
    text = io.StringIO()
    csv.writer(text).writerows([headers, *values])
    return text.getvalue().encode("utf-8-sig")


def ods_file(*rows, headers=None):
    headers, values = sheet_rows(*rows, headers=headers)
    buffer = io.BytesIO()
    pyexcel_ods3.save_data(buffer, {"機關": [headers, *values]})
    return buffer.getvalue()


FILE_MAKERS = {"xlsx": xlsx_file, "csv": csv_file, "ods": ods_file}
FORMATS = {"xlsx": XLSX(), "csv": CSV(encoding="utf-8-sig"), "ods": ODS()}


def run(data, dry_run=False):
    return AgencyResource().import_data(data, dry_run=dry_run)


def registry():
    """Every agency and every name, field by field, to compare before and after."""
    agencies = list(Agency.objects.order_by("pk").values_list(
        "pk", "name", "short_name", "code", "parent_id", "kind", "collective", "has_integrity_unit", "is_active", "retired_on", "note"
    ))
    names = list(AgencyName.objects.order_by("pk").values_list("pk", "agency_id", "name", "key", "is_official", "note"))
    return agencies, names


def row_errors(result):
    """{row number: {column: [messages]}} of the rows the import refused."""
    return {row.number: row.error_dict for row in result.invalid_rows}


def names_of(agency):
    return sorted(agency.names.values_list("name", "is_official"), key=lambda pair: (not pair[1], pair[0]))


def alias_cell(agency_name):
    """The 別名 cell the export writes for an agency."""
    export = AgencyResource().export()
    return next(row[HEADERS.index("別名")] for row in export if row[HEADERS.index("機關名稱")] == agency_name)


@pytest.fixture
def coded(db):
    """A few codes, a retired body and a body under a coded parent, so that
    exports exercise every column."""
    Agency.objects.filter(name="交通部").update(code="A15000000G")
    Agency.objects.filter(name="法務部").update(code="A03000000E")
    Agency.objects.filter(name="法務部人事處").update(is_active=False, retired_on=datetime.date(2024, 5, 1))


# --- dry run, formats, export ---------------------------------------------------


def test_dry_run_writes_nothing_and_reports_new_updated_and_unchanged_rows():
    data = dataset(
        {"機關名稱": "數位韌性署", "上級機關": "數位發展部"},
        {"機關名稱": "交通部", "簡稱": "交部", "上級機關": "行政院"},
        {"機關名稱": "法務部", "簡稱": "法務部", "上級機關": "行政院"},
    )
    before = registry()

    result = run(data, dry_run=True)

    assert not result.has_errors() and not result.has_validation_errors()
    assert [(row.number, row.import_type) for row in result.rows] == [(2, "new"), (3, "update"), (4, "skip")]
    assert registry() == before

    result = run(data)
    assert [row.import_type for row in result.rows] == ["new", "update", "skip"]
    assert Agency.objects.get(name="數位韌性署").parent.name == "數位發展部"
    assert Agency.objects.get(name="交通部").short_name == "交部"


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "ods"])
def test_each_format_imports(fmt):
    content = FILE_MAKERS[fmt](
        {
            # Spreadsheets give a number for a code typed as digits (ODS a float).
            "機關代碼": 301000000 if fmt != "csv" else "301000000",
            "機關名稱": "國家韌性委員會",
            "簡稱": "韌委會",
            "上級機關": "行政院",
            "機關類別": "院級及獨立機關",
            "設有政風機構": "N",
            "現存機關": "是",
            "裁撤日期": "",
            "別名": "韌性委員會、國家韌性會",
            "備註": "測試用",
        },
        {"機關名稱": "國家韌性委員會秘書處", "上級機關": 301000000 if fmt != "csv" else "301000000", "機關類別": "central"},
    )
    data = FORMATS[fmt].create_dataset(content)

    result = run(data)

    assert not result.has_errors() and not result.has_validation_errors(), row_errors(result)
    agency = Agency.objects.get(code="301000000")
    assert (agency.name, agency.short_name, agency.parent.name, agency.kind) == ("國家韌性委員會", "韌委會", "行政院", Agency.Kind.INDEPENDENT)
    assert (agency.has_integrity_unit, agency.is_active, agency.retired_on, agency.note) == (False, True, None, "測試用")
    assert names_of(agency) == [("國家韌性委員會", True), ("國家韌性會", False), ("韌性委員會", False)]
    assert Agency.objects.get(name="國家韌性委員會秘書處").parent == agency


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "ods"])
def test_an_export_imports_again_without_any_change(coded, fmt):
    before = registry()
    exported = AgencyResource().export()
    assert exported.headers == HEADERS
    by_name = {row[1]: dict(zip(HEADERS, row)) for row in exported}
    assert by_name["法務部廉政署"]["上級機關"] == "A03000000E"  # the parent's code when it has one
    assert by_name["法務部"]["上級機關"] == "行政院"  # else its name
    assert by_name["最高檢察署"]["別名"] == "最高法院檢察署、最高法院檢察署（肅貪督導小組）"
    assert by_name["法務部人事處"]["現存機關"] == "否" and by_name["法務部人事處"]["裁撤日期"] == "2024-05-01"
    assert by_name["行政院"]["機關類別"] == "中央機關" and by_name["行政院"]["設有政風機構"] == "否"

    content = FORMATS[fmt].export_data(exported)
    result = run(FORMATS[fmt].create_dataset(content.encode("utf-8-sig") if isinstance(content, str) else content))

    assert not result.has_errors() and not result.has_validation_errors(), row_errors(result)
    assert result.totals["skip"] == Agency.objects.count()
    assert result.totals["new"] == result.totals["update"] == 0
    assert registry() == before


def test_an_alias_holding_a_comma_survives_the_round_trip():
    # 、 separates aliases, so an alias containing one is written with ;.
    assert alias_cell("各直轄市、縣(市)政府") == "直轄市、縣(市)政府;"
    agency = Agency.objects.get(name="監察院")
    AgencyName.objects.create(agency=agency, name="監察院、審計部")
    assert alias_cell("監察院") == "監察院、審計部;監察院相關單位"
    before = registry()
    result = run(AgencyResource().export())
    assert result.totals["skip"] == Agency.objects.count()
    assert registry() == before


# --- refused files ----------------------------------------------------------------

GOOD_ROW = {"機關名稱": "數位韌性署", "上級機關": "數位發展部", "別名": "韌性署"}

# Each file below starts with GOOD_ROW (row 2); the rows after it are bad in one way.
BAD_FILES = {
    "empty name": ([{"機關名稱": "", "簡稱": "無名"}], {3: {"機關名稱"}}),
    "unknown parent": ([{"機關名稱": "甲署", "上級機關": "不存在部"}], {3: {"上級機關"}}),
    "code twice in the file": (
        [{"機關代碼": "T0001", "機關名稱": "甲署"}, {"機關代碼": "T0001", "機關名稱": "乙署"}],
        {4: {"機關代碼"}},
    ),
    "code of another agency": ([{"機關代碼": "A15000000G", "機關名稱": "內政部"}], {3: {"機關代碼"}}),
    "name twice in the file": ([{"機關名稱": "甲署"}, {"機關名稱": "甲 署"}], {4: {"機關名稱"}}),
    "a row's alias is another row's name": ([{"機關名稱": "甲署", "別名": "乙署"}, {"機關名稱": "乙署"}], {4: {"機關名稱"}}),
    "cycle within the file": (
        [{"機關名稱": "甲署", "上級機關": "乙署"}, {"機關名稱": "乙署", "上級機關": "甲署"}],
        {3: {"上級機關"}, 4: {"上級機關"}},
    ),
    # 法務部's parent is 行政院 in the database.
    "cycle through the database": ([{"機關名稱": "行政院", "上級機關": "法務部"}], {3: {"上級機關"}}),
    "own parent": ([{"機關名稱": "甲署", "上級機關": "甲署"}], {3: {"上級機關"}}),
    "alias of another agency": ([{"機關名稱": "甲署", "別名": "乙處、廉政署"}], {3: {"別名"}}),
    "unknown kind": ([{"機關名稱": "甲署", "機關類別": "外星機關"}], {3: {"機關類別"}}),
    "bad dates": (
        [{"機關名稱": "甲署", "現存機關": "否", "裁撤日期": "113/02/30"}, {"機關名稱": "乙署", "現存機關": "否", "裁撤日期": "去年"}],
        {3: {"裁撤日期"}, 4: {"裁撤日期"}},
    ),
    "retired on while still active": ([{"機關名稱": "甲署", "現存機關": "是", "裁撤日期": "2024-05-01"}], {3: {"裁撤日期"}}),
    "retired on for an active agency": ([{"機關名稱": "交通部", "裁撤日期": "2024-05-01"}], {3: {"裁撤日期"}}),
    "not yes or no": ([{"機關名稱": "甲署", "設有政風機構": "也許"}], {3: {"設有政風機構"}}),
    "name too long": ([{"機關名稱": "甲" * 101}], {3: {"機關名稱"}}),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_row_refuses_the_whole_file(coded, case):
    bad_rows, expected = BAD_FILES[case]
    before = registry()

    result = run(dataset(GOOD_ROW, *bad_rows))

    assert result.has_validation_errors() and not result.has_errors()
    errors = row_errors(result)
    assert {number: set(columns) for number, columns in errors.items()} == expected
    for number, columns in errors.items():
        for column, messages in columns.items():
            assert all(message.startswith(f"第 {number} 列「{column}」：") for message in messages), messages
    assert registry() == before
    assert not Agency.objects.filter(name="數位韌性署").exists()


def test_every_bad_row_is_listed_at_once(coded):
    rows = [GOOD_ROW]
    expected = {}
    for bad_rows, errors in BAD_FILES.values():
        first = len(rows) + 2
        # Rename the 甲署/乙署 rows of each case so that cases do not collide.
        for row in bad_rows:
            rows.append({header: re.sub(r"([甲乙])(\s*)署", rf"\1\2署{first}", value) for header, value in row.items()})
        expected.update({first + number - 3: columns for number, columns in errors.items()})
    before = registry()

    result = run(dataset(*rows))

    assert {number: set(columns) for number, columns in row_errors(result).items()} == expected
    assert registry() == before


def test_a_row_the_model_refuses_rolls_back_the_rows_before_it(monkeypatch):
    """A rule only the model knows is reported like the others, and the rows
    already written in the same import are undone."""
    model_clean = Agency.clean

    def clean(agency):
        model_clean(agency)
        if agency.name == "乙署":
            raise ValidationError({"short_name": "模型不接受這個簡稱。"})

    monkeypatch.setattr(Agency, "clean", clean)
    before = registry()

    result = run(dataset({"機關名稱": "甲署", "簡稱": "甲"}, {"機關名稱": "乙署", "簡稱": "乙"}))

    assert row_errors(result) == {3: {"簡稱": ["第 3 列「簡稱」：模型不接受這個簡稱。"]}}
    assert [row.import_type for row in result.rows] == ["new", "invalid"]
    assert registry() == before


def test_the_cycle_message_names_the_chain():
    result = run(dataset({"機關名稱": "行政院", "上級機關": "法務部"}))
    assert row_errors(result)[2]["上級機關"] == ["第 2 列「上級機關」：上級機關形成循環：行政院 → 法務部 → 行政院。"]


def test_a_file_with_an_unknown_column_is_refused_as_a_whole():
    before = registry()
    result = run(dataset({"機關名稱": "甲署", "機關地址": "臺北市"}, headers=["機關名稱", "機關地址"]))
    assert result.has_errors()
    assert "無法辨識的欄位：機關地址" in str(result.base_errors[0].error)
    assert result.base_errors[0].traceback == ""
    assert result.rows == []
    assert registry() == before


def test_a_file_without_the_name_column_is_refused():
    result = run(dataset({"簡稱": "甲"}))
    assert "檔案缺少「機關名稱」欄" in str(result.base_errors[0].error)


def test_the_callers_dataset_is_left_as_given():
    data = dataset({"機關名稱": "子署", "上級機關": "母署"}, {"機關名稱": "母署"})
    run(data, dry_run=True)
    assert data.headers == ["機關名稱", "上級機關"] and data[0] == ("子署", "母署")


# --- what an import does -------------------------------------------------------------


def test_parent_by_code_by_name_or_by_alias(coded):
    result = run(dataset(
        {"機關名稱": "甲署", "上級機關": "A03000000E"},
        {"機關名稱": "乙署", "上級機關": "內政部"},
        {"機關名稱": "丙署", "上級機關": "廉政署"},
        {"機關名稱": "丁署", "上級機關": "法務部 廉政署"},
    ))
    assert not result.has_validation_errors(), row_errors(result)
    parents = dict(Agency.objects.filter(name__in=["甲署", "乙署", "丙署", "丁署"]).values_list("name", "parent__name"))
    assert parents == {"甲署": "法務部", "乙署": "內政部", "丙署": "法務部廉政署", "丁署": "法務部廉政署"}


def test_a_parent_may_come_after_its_child_in_the_file():
    result = run(dataset(
        {"機關名稱": "韌性署第一組", "上級機關": "R-200"},
        {"機關代碼": "R-200", "機關名稱": "數位韌性署", "上級機關": "韌性院"},
        {"機關名稱": "韌性院", "上級機關": "行政院"},
    ))
    assert not result.has_validation_errors(), row_errors(result)
    assert [(row.number, row.import_type) for row in result.rows] == [(2, "new"), (3, "new"), (4, "new")]
    leaf = Agency.objects.get(name="韌性署第一組")
    assert [leaf.parent.name, leaf.parent.parent.name, leaf.parent.parent.parent.name] == ["數位韌性署", "韌性院", "行政院"]


def test_a_parent_can_move_under_its_former_child():
    """行政院 → 法務部 becomes 法務部 → 行政院: both rows in one file."""
    result = run(dataset({"機關名稱": "行政院", "上級機關": "法務部"}, {"機關名稱": "法務部", "上級機關": ""}))
    assert not result.has_validation_errors(), row_errors(result)
    assert Agency.objects.get(name="行政院").parent.name == "法務部"
    assert Agency.objects.get(name="法務部").parent is None


def test_aliases_are_merged_not_duplicated():
    agency = Agency.objects.get(name="法務部廉政署")
    assert names_of(agency) == [("法務部廉政署", True), ("廉政署", False)]

    result = run(dataset({"機關名稱": "法務部廉政署", "別名": "ACC、廉政署、法務部 廉政署、Agency Against Corruption"}))

    assert [row.import_type for row in result.rows] == ["update"]
    assert names_of(agency) == [("法務部廉政署", True), ("ACC", False), ("Agency Against Corruption", False), ("廉政署", False)]
    # Aliases left out of a later file are kept; nothing new means nothing to do.
    result = run(dataset({"機關名稱": "法務部廉政署", "別名": "ACC"}))
    assert [row.import_type for row in result.rows] == ["skip"]
    assert names_of(agency) == [("法務部廉政署", True), ("ACC", False), ("Agency Against Corruption", False), ("廉政署", False)]


def test_a_row_found_by_code_renames_and_keeps_the_old_name_as_an_alias(coded):
    result = run(dataset({"機關代碼": "A15000000G", "機關名稱": "交通及建設部"}))

    assert [row.import_type for row in result.rows] == ["update"]
    agency = Agency.objects.get(code="A15000000G")
    assert agency.name == "交通及建設部"
    assert names_of(agency) == [("交通及建設部", True), ("交通部", False)]
    # Plans printed with the old name still find the body.
    assert AgencyName.objects.get(key="交通部").agency == agency


def test_a_row_found_by_an_alias_keeps_the_official_name():
    result = run(dataset({"機關名稱": "廉政署", "簡稱": "廉署"}))
    assert [row.import_type for row in result.rows] == ["update"]
    agency = Agency.objects.get(name="法務部廉政署")
    assert agency.short_name == "廉署"
    assert names_of(agency) == [("法務部廉政署", True), ("廉政署", False)]


def test_a_new_name_with_an_old_name_as_alias_is_refused():
    """Renaming goes by code: a new row may not take another body's name as its alias."""
    result = run(dataset({"機關名稱": "環境資源部", "別名": "環境部"}))
    assert row_errors(result) == {2: {"別名": ["第 2 列「別名」：別名「環境部」已屬於「環境部」。"]}}


def test_semicolons_separate_names_that_hold_a_comma():
    result = run(dataset({"機關名稱": "監察院", "別名": "監察院、審計部；ACC;\n監察院相關單位"}))
    assert not result.has_validation_errors(), row_errors(result)
    assert names_of(Agency.objects.get(name="監察院")) == [("監察院", True), ("ACC", False), ("監察院、審計部", False), ("監察院相關單位", False)]


@pytest.mark.parametrize("printed", [
    "113/05/01", "113/5/1", "113-05-01", "113.05.01", "113年5月1日", "民國113年5月1日", "中華民國113年05月01日",
    "１１３／０５／０１", "2024-05-01", "2024/5/1", "2024-05-01 00:00:00",
    datetime.date(2024, 5, 1), datetime.datetime(2024, 5, 1),
])
def test_roc_and_iso_dates_are_accepted(printed):
    result = run(dataset({"機關名稱": "法務部人事處", "現存機關": "否", "裁撤日期": printed}))
    assert not result.has_validation_errors(), row_errors(result)
    assert Agency.objects.get(name="法務部人事處").retired_on == datetime.date(2024, 5, 1)


@pytest.mark.parametrize(("printed", "value"), [
    ("是", True), ("否", False), ("Y", True), ("n", False), ("true", True), ("FALSE", False), ("1", True), (0, False), (1.0, True),
])
def test_yes_and_no_spellings(printed, value):
    run(dataset({"機關名稱": "交通部", "設有政風機構": printed}))
    assert Agency.objects.get(name="交通部").has_integrity_unit is value


@pytest.mark.parametrize("printed", ["地方政府", "local", "LOCAL"])
def test_kind_by_label_or_value(printed):
    run(dataset({"機關名稱": "交通部", "機關類別": printed}))
    assert Agency.objects.get(name="交通部").kind == Agency.Kind.LOCAL


def test_blank_kind_and_flags_keep_the_current_values():
    Agency.objects.filter(name="交通部").update(kind=Agency.Kind.OTHER, has_integrity_unit=False)
    result = run(dataset({"機關名稱": "交通部", "機關類別": "", "設有政風機構": "", "現存機關": ""}))
    assert [row.import_type for row in result.rows] == ["skip"]
    agency = Agency.objects.get(name="交通部")
    assert (agency.kind, agency.has_integrity_unit, agency.is_active) == (Agency.Kind.OTHER, False, True)


def test_retiring_keeps_everything_that_points_at_the_agency(django_user_model):
    ministry = Agency.objects.get(name="法務部")
    children = set(ministry.children.values_list("pk", flat=True))
    officer = django_user_model.objects.create_user(username="moj", password="moj-password-123", agency=ministry)
    count = Agency.objects.count()

    result = run(dataset({"機關名稱": "法務部", "現存機關": "否", "裁撤日期": "民國115年1月1日"}))

    assert [row.import_type for row in result.rows] == ["update"]
    ministry.refresh_from_db()
    assert (ministry.is_active, ministry.retired_on) == (False, datetime.date(2026, 1, 1))
    assert set(ministry.children.values_list("pk", flat=True)) == children and children
    officer.refresh_from_db()
    assert officer.agency == ministry
    assert Agency.objects.count() == count
    assert names_of(ministry) == [("法務部", True)]


def test_a_column_left_out_is_left_alone(coded):
    result = run(dataset({"機關名稱": "法務部廉政署", "簡稱": "廉署"}))
    assert [row.import_type for row in result.rows] == ["update"]
    agency = Agency.objects.get(name="法務部廉政署")
    assert (agency.short_name, agency.parent.name, agency.kind) == ("廉署", "法務部", Agency.Kind.CENTRAL)


# --- the admin pages ------------------------------------------------------------------


def upload(client, content, fmt="xlsx", name=None):
    return client.post(IMPORT_URL, {
        "resource": "0",
        "format": FORMAT_INDEX[fmt],
        "import_file": SimpleUploadedFile(name or f"agencies.{fmt}", content),
    })


def test_the_admin_import_page_reads_in_chinese(admin_client):
    page = admin_client.get(IMPORT_URL).content.decode()
    for text in ["匯入", "將匯入下列欄位：", "機關代碼, 機關名稱, 簡稱, 上級機關, 機關類別, 設有政風機構, 現存機關, 裁撤日期, 別名, 備註", "要匯入的檔案", "檔案格式", "送出", "首頁"]:
        assert text in page
    # The three formats and no other.
    assert [label for _value, label in admin_client.get(IMPORT_URL).context["form"].fields["format"].choices] == ["---", "xlsx", "csv", "ods"]
    changelist = admin_client.get(CHANGELIST_URL).content.decode()
    assert IMPORT_URL in changelist and EXPORT_URL in changelist and ">匯入</a>" in changelist and ">匯出</a>" in changelist


def test_the_admin_previews_then_imports_on_confirmation(admin_client):
    content = xlsx_file(
        {"機關名稱": "韌性署第一組", "上級機關": "數位韌性署"},
        {"機關代碼": "R-200", "機關名稱": "數位韌性署", "上級機關": "數位發展部", "別名": "韌性署"},
        {"機關名稱": "交通部", "簡稱": "交部"},
    )
    before = registry()

    preview = upload(admin_client, content)

    assert preview.status_code == 200
    page = preview.content.decode()
    assert registry() == before  # the preview is a dry run
    for text in ["預覽", "以下是即將匯入的資料預覽", "新增", "更新", "韌性署第一組", "數位韌性署", "確認匯入"]:
        assert text in page
    result = preview.context["result"]
    assert [(row.number, row.import_type) for row in result.rows] == [(2, "new"), (3, "new"), (4, "update")]
    confirm = preview.context["confirm_form"]
    assert f'action="{CONFIRM_URL}"' in page

    response = admin_client.post(CONFIRM_URL, {**confirm.initial, "confirm": "確認匯入"}, follow=True)

    assert response.redirect_chain[-1][0] == CHANGELIST_URL
    assert "機關匯入完成：新增 2 筆、更新 1 筆、刪除 0 筆、略過 0 筆。" in response.content.decode()
    assert Agency.objects.get(name="韌性署第一組").parent == Agency.objects.get(code="R-200")
    assert Agency.objects.get(code="R-200").parent.name == "數位發展部"
    assert Agency.objects.get(name="交通部").short_name == "交部"
    assert LogEntry.objects.count() == 3


def test_the_admin_lists_every_bad_row_and_offers_no_confirmation(admin_client):
    content = ods_file(
        GOOD_ROW,
        {"機關名稱": "甲署", "上級機關": "不存在部"},
        {"機關名稱": "", "簡稱": "無名"},
        {"機關名稱": "乙署", "機關類別": "外星機關", "裁撤日期": "113/02/30"},
    )
    before = registry()

    response = upload(admin_client, content, fmt="ods")

    page = response.content.decode()
    assert "部分資料列未通過檢查" in page and "請修正檔案中的下列錯誤" in page
    for message in [
        "第 3 列「上級機關」：找不到「不存在部」",
        "第 4 列「機關名稱」：機關名稱不可空白。",
        "第 5 列「機關類別」：「外星機關」不是機關類別",
        "第 5 列「裁撤日期」：「113/02/30」不是有效的日期",
    ]:
        assert message in page
    assert [row.number for row in response.context["result"].invalid_rows] == [3, 4, 5]
    assert "confirm_form" not in response.context
    assert "確認匯入" not in page and CONFIRM_URL not in page
    assert registry() == before


def test_the_admin_confirmation_writes_nothing_if_the_registry_changed_since_the_preview(admin_client):
    preview = upload(admin_client, csv_file({"機關名稱": "數位韌性署", "別名": "韌性署"}, {"機關名稱": "交通部", "簡稱": "交部"}), fmt="csv")
    confirm = preview.context["confirm_form"]
    # Meanwhile someone gives the alias to another body.
    AgencyName.objects.create(agency=Agency.objects.get(name="數位發展部"), name="韌性署")
    before = registry()

    response = admin_client.post(CONFIRM_URL, {**confirm.initial, "confirm": "確認匯入"}, follow=True)

    assert response.redirect_chain[-1][0] == IMPORT_URL
    assert "未匯入任何資料" in response.content.decode()
    assert registry() == before
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "ods"])
def test_the_admin_export_imports_again_as_unchanged(admin_client, coded, fmt):
    page = admin_client.get(EXPORT_URL).content.decode()
    assert "將匯出下列欄位：" in page and "檔案格式" in page and "匯出" in page

    response = admin_client.post(EXPORT_URL, {"resource": "0", "format": FORMAT_INDEX[fmt]})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="agencies-') and response["Content-Disposition"].endswith(f'.{fmt}"')
    content = response.content
    if fmt == "csv":
        assert content.startswith("\ufeff機關代碼,機關名稱".encode())  # Excel needs the byte-order mark
    before = registry()
    preview = upload(admin_client, content, fmt=fmt)
    result = preview.context["result"]
    assert not result.has_validation_errors() and not result.has_errors()
    assert result.totals["skip"] == Agency.objects.count()
    assert "略過（無變動）" in preview.content.decode()
    assert registry() == before


def test_import_needs_permission_to_add_and_change_agencies(client):
    user = User.objects.create_user(username="viewer", password="viewer-password-123", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_agency"))
    role_grant(user=user, role=Role.AAC_REVIEWER, granted_by=None)
    client.force_login(user)

    assert client.get(IMPORT_URL).status_code == 403
    changelist = client.get(CHANGELIST_URL).content.decode()
    assert IMPORT_URL not in changelist and EXPORT_URL in changelist
    assert client.post(EXPORT_URL, {"resource": "0", "format": FORMAT_INDEX["csv"]}).status_code == 200
