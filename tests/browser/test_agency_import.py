"""An administrator imports agencies from a spreadsheet: preview first, then confirm."""

import io

import openpyxl
from playwright.sync_api import expect

from agencies.models import Agency

PASSWORD = "admin-password-123"


def agency_workbook() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["機關代碼", "機關名稱", "簡稱", "上級機關", "機關類別", "設有政風機構", "現存機關", "裁撤日期", "別名", "備註"])
    # The child comes first: the import puts parents before children itself.
    sheet.append(["", "數位韌性署第一組", "第一組", "R-200", "中央機關", "否", "是", "", "", ""])
    sheet.append(["R-200", "數位韌性署", "韌性署", "數位發展部", "中央機關", "是", "是", "", "數位韌性中心", "測試匯入"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_import_agencies_from_xlsx_with_a_preview(page, site, django_user_model, artifacts_dir):
    django_user_model.objects.create_superuser(username="registrar", password=PASSWORD, email="registrar@example.gov.tw")
    page.goto(f"{site.url}/")
    page.get_by_label("帳號").fill("registrar")
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()
    page.wait_for_load_state()

    page.goto(f"{site.url}/admin/agencies/agency/")
    page.get_by_role("link", name="匯入", exact=True).click()
    expect(page.get_by_text("將匯入下列欄位：")).to_be_visible()
    page.get_by_label("要匯入的檔案").set_input_files(
        files=[{"name": "機關名冊.xlsx", "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "buffer": agency_workbook()}]
    )
    # The format follows the file's extension.
    expect(page.get_by_label("檔案格式")).to_have_value("0")
    page.get_by_role("button", name="送出").click()

    expect(page.get_by_role("heading", name="預覽")).to_be_visible()
    expect(page.get_by_text("以下是即將匯入的資料預覽")).to_be_visible()
    preview = page.locator("table.import-preview")
    expect(preview.locator("tbody tr")).to_have_count(2)
    expect(preview.locator("tr.new").nth(0)).to_contain_text("新增")
    expect(preview.locator("tr.new").nth(0)).to_contain_text("數位韌性署第一組")
    expect(preview.locator("tr.new").nth(1)).to_contain_text("數位韌性署")
    expect(preview.locator("tr.new").nth(1)).to_contain_text("數位發展部")
    expect(preview.locator("th").nth(1)).to_have_text("機關代碼")
    page.screenshot(path=artifacts_dir / "agency-import-preview.png", full_page=True)
    # Nothing is written before the confirmation.
    assert not Agency.objects.filter(name__startswith="數位韌性署").exists()

    page.get_by_role("button", name="確認匯入").click()

    expect(page.locator(".messagelist")).to_contain_text("機關匯入完成：新增 2 筆、更新 0 筆、刪除 0 筆、略過 0 筆。")
    expect(page.get_by_role("link", name="數位韌性署", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="數位韌性署第一組", exact=True)).to_be_visible()
    assert Agency.objects.get(name="數位韌性署第一組").parent.code == "R-200"
