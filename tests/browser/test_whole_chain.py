"""The whole chain through the UI only, each person signing in as they would: the officer
enters one figure by the form (with evidence) and one by the spreadsheet and submits both;
the agency reviewer returns one and forwards the other; the officer fixes and resubmits;
AAC approves and publishes the annual report; NDC downloads its PDF and XLSX. axe-core and
the phone width are checked on the officer's and reviewer's pages along the way."""

import io
import re

import openpyxl
import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from agencies.models import Agency, Role, User
from agencies.services import role_grant
from reporting.models import Entry, Obligation, ReportingPeriod
from reporting.spreadsheets import row_key

from .accessibility import PHONE, assert_accessible, overflow_width
from .conftest import PASSWORD, sign_in

DESKTOP = {"width": 1366, "height": 900}
MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _user(username, agency, role):
    user = User.objects.create_user(username=username, password=PASSWORD, agency=Agency.objects.get(name=agency))
    role_grant(user=user, role=role, granted_by=None)
    return user


def _checked(page, where, artifacts_dir=None, *, fits_a_phone=True):
    """axe at desktop and on a phone, the phone width (officer and reviewer pages), and a screenshot."""
    assert_accessible(page, f"{where} (desktop)")
    page.set_viewport_size(PHONE)
    assert_accessible(page, f"{where} (390 px)")
    if fits_a_phone:
        assert overflow_width(page) <= 0, f"{where}: {overflow_width(page)} px wider than the phone"
    page.set_viewport_size(DESKTOP)
    if artifacts_dir is not None:
        page.screenshot(path=artifacts_dir / f"chain-{where}.png", full_page=True)


def _menu(page, name):
    return page.get_by_role("navigation", name="主選單").get_by_role("link", name=name, exact=True)


@pytest.fixture
def person(browser, site):
    """Another person in a browser of their own, signed in; closed when the test ends, so no
    page keeps polling the server after it (the report page does)."""
    contexts = []

    def open_as(username):
        context = browser.new_context(locale="zh-TW", timezone_id="Asia/Taipei", viewport=DESKTOP, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, site, username, then=None)
        return page

    yield open_as
    for context in contexts:
        context.close()


def test_the_whole_chain_through_the_ui(page, site, person, artifacts_dir, tmp_path, settings):
    settings.REPORT_JOBS_IN_THREAD = True  # as in the demo: the report runs beside the request while the page polls
    call_command("generate_obligations", "112", stdout=io.StringIO())
    _user("transport-reviewer", "交通部", Role.AGENCY_REVIEWER)
    _user("aac", "法務部廉政署", Role.AAC_REVIEWER)
    _user("ndc", "國家發展委員會", Role.NDC_ASSESSOR)
    quarter = ReportingPeriod.objects.get(year=112, frequency="quarterly", number=1)
    by_form = Obligation.objects.get(year=112, agency__name="交通部", indicator__measure__strategy__number=7, indicator__measure__number=5)
    by_sheet = Obligation.objects.filter(year=112, agency__name="交通部", indicator__frequency="quarterly", indicator__measure__strategy__number=2).order_by("pk").first()

    # ---- the officer: by the form, with evidence
    sign_in(page, site, "officer", then=None)
    expect(page.get_by_role("heading", level=1)).to_have_text("交通部的待辦填報")
    _checked(page, "officer-todo", artifacts_dir)
    page.locator(f'section[data-period="{quarter.pk}"]').get_by_role("link", name=re.compile(r"^7\(五\)")).click()
    page.get_by_label("本期數值").fill("2")
    page.get_by_label("執行情形").fill("3月召開業務研討會 2 次。")
    page.get_by_role("button", name="儲存草稿").click()
    expect(page.locator("#entry-state")).to_have_text("草稿")
    evidence = tmp_path / "會議紀錄.pdf"
    evidence.write_bytes(MINIMAL_PDF)
    page.get_by_label("上傳佐證檔案").set_input_files(str(evidence))
    page.locator("#evidence").get_by_role("button", name="上傳", exact=True).click()
    expect(page.locator("#evidence")).to_contain_text("會議紀錄.pdf")
    _checked(page, "officer-entry", artifacts_dir)
    page.locator("#entry-actions").get_by_role("button", name="送出").click()
    expect(page.locator("#entry-state")).to_have_text("已送出（待機關審核）")

    # ---- the officer: by the spreadsheet
    _menu(page, "填報項目").click()
    _checked(page, "officer-items")
    with page.expect_download() as download:
        page.get_by_role("link", name="下載 Excel（XLSX）").click()
    sheet = tmp_path / "sheet.xlsx"
    download.value.save_as(sheet)
    workbook = openpyxl.load_workbook(sheet)
    worksheet = workbook["填報資料"]
    headers = {cell.value: cell.column for cell in worksheet[1]}
    row = next(r for r in range(2, worksheet.max_row + 1) if worksheet.cell(row=r, column=headers["項目代碼（請勿修改）"]).value == row_key(by_sheet.pk, quarter.pk))
    worksheet.cell(row=row, column=headers["本期數值"]).value = 3
    worksheet.cell(row=row, column=headers["執行情形"]).value = "辦理宣導說明會 3 場。"
    workbook.save(sheet)
    page.get_by_role("link", name="上傳填好的試算表").click()
    page.locator('input[type="file"]').set_input_files(str(sheet))
    page.get_by_role("button", name="上傳並預覽").click()
    expect(page.get_by_text("本期數值：— → 3", exact=False)).to_be_visible()
    _checked(page, "officer-sheet-preview", artifacts_dir)
    page.get_by_role("button", name="套用").click()
    _menu(page, "待辦").click()
    page.locator(f'section[data-period="{quarter.pk}"]').get_by_role("link", name=re.compile(r"^2\(")).first.click()
    expect(page.get_by_label("本期數值")).to_have_value("3")
    page.get_by_role("button", name="儲存並送出").click()
    expect(page.locator("#entry-state")).to_have_text("已送出（待機關審核）")
    form_entry = Entry.objects.get(obligation=by_form, period=quarter)
    sheet_entry = Entry.objects.get(obligation=by_sheet, period=quarter)

    # ---- the agency reviewer: returns the first, forwards the next, back at the queue
    reviewer = person("transport-reviewer")
    expect(reviewer).to_have_url(re.compile(r"/obligations/review/agency/$"))
    _checked(reviewer, "reviewer-queue", artifacts_dir)
    reviewer.get_by_role("link", name="檢視").first.click()
    _checked(reviewer, "reviewer-entry")
    first = reviewer.url
    reviewer.get_by_label("退回意見（必填）").fill("請補附會議簽到表。")
    reviewer.get_by_role("button", name="退回修正").click()
    expect(reviewer.get_by_text("下一筆待審資料", exact=False)).to_be_visible()
    assert reviewer.url != first
    reviewer.get_by_role("button", name="審核通過並轉送廉政署").click()
    expect(reviewer.get_by_text("清單中已沒有待審的資料", exact=False)).to_be_visible()
    returned = Entry.objects.get(state=Entry.State.RETURNED)
    assert {returned.pk, Entry.objects.get(state=Entry.State.FORWARDED).pk} == {form_entry.pk, sheet_entry.pk}

    # ---- the officer fixes and resubmits
    _menu(page, "待辦").click()
    expect(page.locator("#todo-returned")).to_contain_text("請補附會議簽到表。")
    page.locator("#todo-returned").get_by_role("link").first.click()
    expect(page.locator("#review-comment")).to_contain_text("請補附會議簽到表。")
    page.get_by_label("執行情形").fill("已補附會議簽到表。")
    page.get_by_role("button", name="儲存並送出").click()
    expect(page.locator("#entry-state")).to_have_text("已送出（待機關審核）")
    reviewer.reload()
    reviewer.goto(f"{site.url}/obligations/review/agency/")
    reviewer.get_by_role("link", name="檢視").first.click()
    reviewer.get_by_role("button", name="審核通過並轉送廉政署").click()
    expect(reviewer.get_by_text("清單中已沒有待審的資料", exact=False)).to_be_visible()

    # ---- AAC approves both and publishes the annual report
    aac = person("aac")
    expect(aac).to_have_url(re.compile(r"/obligations/review/$"))
    _checked(aac, "aac-queue", artifacts_dir, fits_a_phone=False)
    aac.locator("#select-all").check()
    aac.get_by_role("button", name="核定所選資料").click()
    expect(aac.get_by_text("已核定 2 筆資料", exact=False)).to_be_visible()
    assert set(Entry.objects.values_list("state", flat=True)) == {Entry.State.APPROVED}
    _menu(aac, "年度報告").click()
    aac.get_by_label("報告種類").select_option("national")
    aac.get_by_label("年度", exact=True).select_option("112")
    aac.get_by_label("期間").select_option("4")
    aac.get_by_role("button", name="開始產製").click()
    expect(aac.locator("[data-job-state]")).to_have_attribute("data-job-state", "done", timeout=90_000)
    _checked(aac, "aac-report", artifacts_dir, fits_a_phone=False)
    aac.get_by_role("button", name="發布此版本").click()
    expect(aac.locator(".alert").first).to_contain_text("已發布第 1 版")

    # ---- NDC downloads the PDF and the XLSX
    ndc = person("ndc")
    expect(ndc).to_have_url(re.compile(r"/dashboard/"))
    _checked(ndc, "ndc-dashboard", artifacts_dir, fits_a_phone=False)
    _menu(ndc, "年度報告").click()
    ndc.get_by_role("link", name=re.compile("全國年度執行成果")).first.click()
    _checked(ndc, "ndc-report", fits_a_phone=False)
    for fmt, magic in (("pdf", b"%PDF-"), ("xlsx", b"PK")):
        with ndc.expect_download() as download:
            ndc.locator(f"#job-files a[data-format={fmt}]").click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        assert saved.read_bytes()[: len(magic)] == magic and "民國112年度執行成果" in saved.name
    ndc.screenshot(path=artifacts_dir / "chain-ndc-report.png", full_page=True)
