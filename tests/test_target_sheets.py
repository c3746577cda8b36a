"""The year's target sheet (年度目標值提報表): download, fill in offline, upload, preview, apply
— every row through proposal_save, all rows or none."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from agencies.models import Agency
from measures.models import TargetValue
from reporting.models import TargetProposal, TargetProposalEvent
from reporting.spreadsheets import read_sheet
from reporting.target_sheets import EXPORTERS, HEADERS, SHEET_TITLE, row_key, sheet_apply, sheet_check

from .test_target_setting import fast_passwords, opened, people, save  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
YEAR = 113


@pytest.fixture
def aac_agency():
    return Agency.objects.get(name="法務部廉政署")


def _proposals(agency, **filters):
    return TargetProposal.objects.filter(target_year__year=YEAR, lead_agency=agency, **filters).order_by("measure__strategy__position", "measure__number", "position")


def _download(client, user, agency, fmt="xlsx"):
    client.force_login(user)
    response = client.get(reverse("targets:sheet", args=[YEAR, agency.pk, fmt]))
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content) if response.streaming else response.content


class Workbook:
    """The downloaded sheet opened with openpyxl, cells addressed by proposal and column."""

    def __init__(self, content: bytes):
        self.book = load_workbook(io.BytesIO(content))
        self.sheet = self.book[SHEET_TITLE]
        self.columns = {cell.value: cell.column for cell in self.sheet[1]}
        self.rows = {self.sheet.cell(row=r, column=1).value: r for r in range(2, self.sheet.max_row + 1)}

    def cell(self, proposal, column):
        return self.sheet.cell(row=self.rows[row_key(proposal.pk)], column=self.columns[column])

    def address(self, proposal, column) -> str:
        return self.cell(proposal, column).coordinate

    def set(self, proposal, column, value):
        self.cell(proposal, column).value = value

    def append_copy_of(self, proposal):
        source = self.rows[row_key(proposal.pk)]
        target = self.sheet.max_row + 1
        for column in range(1, self.sheet.max_column + 1):
            self.sheet.cell(row=target, column=column).value = self.sheet.cell(row=source, column=column).value
        return target

    def content(self) -> bytes:
        buffer = io.BytesIO()
        self.book.save(buffer)
        return buffer.getvalue()


def _snapshot(target_year):
    return sorted(TargetProposal.objects.filter(target_year=target_year).values_list("pk", "version", "quantity", "text", "kind", "due_on", "note"))


def _errors(plan):
    return [message for row in plan.rows for _column, message in row.errors] + plan.errors


# ------------------------------------------------------------------ download


def test_the_sheet_lists_the_agencys_proposals_beside_the_year_before(client, opened, people, aac_agency):
    content = _download(client, people.officer_aac, aac_agency)
    book = Workbook(content)
    assert [cell.value for cell in book.sheet[1]] == list(HEADERS)
    proposals = list(_proposals(aac_agency))
    assert set(book.rows) == {row_key(p.pk) for p in proposals}
    first = proposals[0]
    assert first.previous.year == 112
    assert first.previous.display_text in book.cell(first, "前一年度目標值").value
    assert book.cell(first, "前一年度達成").value == "無資料"  # no approved 112 entries in this test
    assert book.cell(first, "目標值").value == first.text
    assert book.cell(first, "版本").value == first.version
    # The previous year's columns are locked; the value columns are open while a proposal is a draft.
    assert book.cell(first, "前一年度目標值").protection.locked
    assert not book.cell(first, "數值").protection.locked
    assert book.sheet.protection.sheet


def test_an_officer_downloads_only_their_own_agency_and_aac_downloads_any_or_all(client, opened, people, aac_agency):
    client.force_login(people.officer_b)
    assert client.get(reverse("targets:sheet", args=[YEAR, aac_agency.pk, "xlsx"])).status_code == 404
    assert client.get(reverse("targets:sheet_all", args=[YEAR, "xlsx"])).status_code == 403
    client.force_login(people.aac)
    assert client.get(reverse("targets:sheet", args=[YEAR, aac_agency.pk, "ods"])).status_code == 200
    response = client.get(reverse("targets:sheet_all", args=[YEAR, "xlsx"]))
    assert response.status_code == 200
    keys = {row[1][0].value for row in read_sheet(response.content, sheet_title=SHEET_TITLE)[1:]}
    assert len(keys) == TargetProposal.objects.filter(target_year=opened.target_year).count()


def test_the_agency_page_links_the_download_and_the_upload(client, opened, people, aac_agency):
    client.force_login(people.officer_aac)
    page = client.get(reverse("targets:agency", args=[YEAR, aac_agency.pk])).content.decode()
    assert reverse("targets:sheet", args=[YEAR, aac_agency.pk, "xlsx"]) in page
    assert reverse("targets:sheet", args=[YEAR, aac_agency.pk, "ods"]) in page
    assert reverse("targets:sheet_upload", args=[YEAR]) in page


# ------------------------------------------------------------------ round trip


def test_round_trip_download_edit_upload_preview_apply(client, opened, people, aac_agency):
    count = _proposals(aac_agency, kind=TargetValue.Kind.COUNT).first()
    milestone = _proposals(aac_agency, kind=TargetValue.Kind.MILESTONE).first()
    book = Workbook(_download(client, people.officer_aac, aac_agency))
    book.set(count, "數值", int(count.quantity) + 20)
    book.set(count, "說明", "依112年達成情形上修。")
    book.set(milestone, "完成期限", "113/11/30")
    response = client.post(reverse("targets:sheet_upload", args=[YEAR]), {"file": _upload(book.content())})
    assert response.status_code == 302
    preview = client.get(response.url)
    page = preview.content.decode()
    assert preview.status_code == 200
    plan = preview.context["sheet"]
    assert plan.counts == {"new": 0, "changed": 2, "unchanged": len(plan.rows) - 2, "error": 0}
    assert f"數值：{count.quantity.normalize():f} → {int(count.quantity) + 20}" in page
    assert "完成期限：" in page and "→ 2024-11-30" in page
    count.refresh_from_db()
    assert count.version == 1  # the preview wrote nothing
    applied = client.post(response.url)
    assert applied.status_code == 302 and applied.url == reverse("targets:agency", args=[YEAR, aac_agency.pk])
    count.refresh_from_db()
    milestone.refresh_from_db()
    assert count.quantity == count.previous.quantity + 20 and count.note == "依112年達成情形上修。" and count.version == 2
    assert str(milestone.due_on) == "2024-11-30"
    assert TargetProposalEvent.objects.filter(proposal=count, action="saved", actor=people.officer_aac).count() == 1


def test_an_ods_download_uploads_again_unchanged(client, opened, people, aac_agency):
    content = _download(client, people.officer_aac, aac_agency, fmt="ods")
    plan = sheet_check(user=people.officer_aac, year=YEAR, content=content)
    assert _errors(plan) == []
    assert plan.counts["unchanged"] == _proposals(aac_agency).count() and plan.counts["changed"] == 0


def _upload(content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("sheet.xlsx", content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# ------------------------------------------------------------------ bad input


@pytest.fixture
def sheet(client, opened, people, aac_agency):
    return Workbook(_download(client, people.officer_aac, aac_agency))


def _refused(sheet, people, target_year):
    """Check and apply the edited sheet: it must be refused and write nothing."""
    before = _snapshot(target_year)
    preview = sheet_check(user=people.officer_aac, year=YEAR, content=sheet.content())
    applied = sheet_apply(user=people.officer_aac, year=YEAR, content=sheet.content())
    assert not applied.applied and applied.has_errors
    assert _snapshot(target_year) == before
    return _errors(preview)


def test_text_where_a_number_belongs_names_the_cell(sheet, people, opened, aac_agency):
    count = _proposals(aac_agency, kind=TargetValue.Kind.COUNT).first()
    sheet.set(count, "數值", "三百")
    errors = _refused(sheet, people, opened.target_year)
    assert errors == [f"儲存格 {sheet.address(count, '數值')}：數值「三百」不是數字（可寫 320、1,200 或 1萬5,000）。"]


def test_a_wrong_kind_is_refused(sheet, people, opened, aac_agency):
    count = _proposals(aac_agency, kind=TargetValue.Kind.COUNT).first()
    sheet.set(count, "類型", "很多")
    [error] = _refused(sheet, people, opened.target_year)
    assert error.startswith(f"儲存格 {sheet.address(count, '類型')}（類型）：類型須為：數量、比率")


def test_a_negative_count_is_refused(sheet, people, opened, aac_agency):
    count = _proposals(aac_agency, kind=TargetValue.Kind.COUNT).first()
    sheet.set(count, "數值", -5)
    assert _refused(sheet, people, opened.target_year) == [f"儲存格 {sheet.address(count, '數值')}（數值）：不可為負數。"]


def test_a_ratio_over_100_percent_is_refused(sheet, people, opened, aac_agency):
    ratio = _proposals(aac_agency, kind=TargetValue.Kind.RATIO, unit="%").first()
    sheet.set(ratio, "數值", 120)
    assert _refused(sheet, people, opened.target_year) == [f"儲存格 {sheet.address(ratio, '數值')}（數值）：比率不可超過 100%（「120」）。"]


def test_a_milestone_without_a_date_is_refused_once_the_row_is_changed(sheet, people, opened, aac_agency):
    milestone = _proposals(aac_agency, kind=TargetValue.Kind.MILESTONE, due_on__isnull=True).first()
    sheet.set(milestone, "說明", "改由本署自辦。")
    assert _refused(sheet, people, opened.target_year) == [f"儲存格 {sheet.address(milestone, '完成期限')}（完成期限）：里程碑類目標值須填寫完成期限。"]


def test_an_incomplete_prefilled_row_left_as_downloaded_is_not_an_error(sheet, people, opened, aac_agency):
    plan = sheet_check(user=people.officer_aac, year=YEAR, content=sheet.content())
    assert _errors(plan) == []
    notes = [row.note for row in plan.rows if row.note]
    assert notes and all("里程碑類目標值須填寫完成期限" in note for note in notes)


def test_a_duplicate_row_is_refused(sheet, people, opened, aac_agency):
    count = _proposals(aac_agency, kind=TargetValue.Kind.COUNT).first()
    sheet.set(count, "數值", 999)
    row = sheet.append_copy_of(count)
    errors = _refused(sheet, people, opened.target_year)
    assert errors == [f"第 {row} 列（提案代碼（請勿修改））：與第 {sheet.rows[row_key(count.pk)]} 列是同一項目標值，每項只能有一列。"]


def test_a_row_of_another_agency_is_refused_and_nothing_is_written(client, sheet, people, opened, aac_agency):
    count = _proposals(aac_agency, kind=TargetValue.Kind.COUNT).first()
    sheet.set(count, "數值", 999)  # a good change, refused with the rest
    mjib = _proposals(Agency.objects.get(name="法務部調查局")).first()
    row = sheet.append_copy_of(count)
    sheet.sheet.cell(row=row, column=1).value = row_key(mjib.pk)
    errors = _refused(sheet, people, opened.target_year)
    assert errors == [f"第 {row} 列（提案代碼（請勿修改））：提案代碼「{row_key(mjib.pk)}」不是本機關主辦的目標值；只能上傳本機關的目標值提報表。"]


def test_an_officer_cannot_upload_rows_of_another_agency(client, opened, people):
    mjib = Agency.objects.get(name="法務部調查局")
    content = EXPORTERS["xlsx"].render(target_year=opened.target_year, agency=mjib).content
    book = Workbook(content)
    first = _proposals(mjib).first()
    book.set(first, "數值", 1)
    before = _snapshot(opened.target_year)
    plan = sheet_apply(user=people.officer_aac, year=YEAR, content=book.content())
    assert not plan.applied
    assert all(row.status == "error" for row in plan.rows)
    assert _snapshot(opened.target_year) == before
    # … nor through the pages: AAC reviewers do not upload, and the officer's upload is refused whole.
    client.force_login(people.aac)
    assert client.get(reverse("targets:sheet_upload", args=[YEAR])).status_code == 403


def test_a_row_of_another_year_is_refused(sheet, people, opened, aac_agency, plan112):
    from reporting.services.target_setting import target_year_open

    later = target_year_open(plan=plan112, year=114, due_on=None, user=people.aac)
    other = TargetProposal.objects.filter(target_year=later.target_year, lead_agency=aac_agency).first()
    count = _proposals(aac_agency, kind=TargetValue.Kind.COUNT).first()
    row = sheet.append_copy_of(count)
    sheet.sheet.cell(row=row, column=1).value = row_key(other.pk)
    errors = _refused_or_checked(sheet, people)
    assert f"第 {row} 列（提案代碼（請勿修改））：這一列是民國114年的目標值，這裡上傳的是民國113年的提報表。" in errors


def _refused_or_checked(sheet, people):
    plan = sheet_check(user=people.officer_aac, year=YEAR, content=sheet.content())
    assert plan.has_errors
    return _errors(plan)


def test_a_row_whose_proposal_changed_since_the_download_is_refused_naming_who_saved_it(sheet, people, opened, aac_agency):
    from .test_target_setting import staff_of
    from agencies.models import Role

    count = _proposals(aac_agency, kind=TargetValue.Kind.COUNT).first()
    colleague = staff_of(aac_agency, Role.OFFICER)
    colleague.first_name = "王小明"
    colleague.save()
    save(count, colleague, quantity=count.quantity + 1)
    sheet.set(count, "數值", int(count.quantity) + 50)
    [error] = _refused(sheet, people, opened.target_year)
    assert error.startswith(f"儲存格 {sheet.address(count, '版本')}（版本）：您下載的是版本 1，但 王小明 已於")
    assert "儲存了版本 2" in error


def test_a_formula_is_refused(sheet, people, opened, aac_agency):
    count = _proposals(aac_agency, kind=TargetValue.Kind.COUNT).first()
    sheet.set(count, "數值", "=1+1")
    assert _refused(sheet, people, opened.target_year) == [f"儲存格 {sheet.address(count, '數值')}（數值）：請輸入數值，不要使用公式。"]


def test_a_submitted_proposal_is_not_changed_by_the_sheet(sheet, people, opened, aac_agency):
    from reporting.services.target_setting import proposal_submit

    count = _proposals(aac_agency, kind=TargetValue.Kind.COUNT).first()
    proposal_submit(proposal=count, user=people.officer_aac)
    sheet.set(count, "數值", 1)
    [error] = _refused(sheet, people, opened.target_year)
    assert "目前為「已送出（待機關審核）」，不能修改" in error


def test_many_good_rows_and_one_bad_write_nothing(sheet, people, opened, aac_agency):
    counts = list(_proposals(aac_agency, kind=TargetValue.Kind.COUNT)[:5])
    for proposal in counts[:4]:
        sheet.set(proposal, "數值", int(proposal.quantity) + 1)
    sheet.set(counts[4], "數值", -1)
    errors = _refused(sheet, people, opened.target_year)
    assert len(errors) == 1
    assert all(p.version == 1 for p in _proposals(aac_agency, pk__in=[p.pk for p in counts]))
    assert Decimal(counts[0].quantity) == _proposals(aac_agency).get(pk=counts[0].pk).quantity
