"""A reader signs in, walks the plan, searches, switches versions and exports."""

import io

import openpyxl
from playwright.sync_api import expect


def test_walk_from_overview_to_a_measure_and_its_breakdown(signed_in, site, artifacts_dir):
    page = signed_in
    expect(page.get_by_role("heading", level=1)).to_have_text("國家廉政建設行動方案（核定本）")
    expect(page.locator("#count-measures")).to_have_text("58")
    page.screenshot(path=artifacts_dir / "plan-overview.png", full_page=True)

    page.get_by_role("link", name="七、強化企業誠信，凝聚私部門反貪腐共識。").click()
    expect(page.locator("article.card")).to_have_count(8)
    page.get_by_role("link", name="執行措施 (五)").click()
    expect(page.locator("#measure-text")).to_contain_text("邀集公股投資事業召開業務研討會")
    breakdown = page.get_by_role("table", name="各機關分配")
    expect(breakdown.locator("tbody tr")).to_have_count(4)
    expect(breakdown).to_contain_text("交通部")
    page.screenshot(path=artifacts_dir / "measure-7-5.png", full_page=True)

    page.get_by_role("link", name="交通部").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("交通部")
    expect(page.locator("#agency-duties")).to_contain_text("7(五)")


def test_search_then_open_the_measure(signed_in):
    page = signed_in
    page.get_by_label("搜尋方案內容").fill("透明晶質獎")
    page.get_by_role("button", name="搜尋").click()
    expect(page.locator("#result-count")).to_contain_text("找到 1 項執行措施")
    expect(page.locator("mark").first).to_have_text("透明晶質獎")
    page.get_by_role("link", name="執行措施 1(一)").click()
    expect(page.locator("#target-values")).to_contain_text("300")


def test_switch_to_the_older_version(signed_in, artifacts_dir):
    page = signed_in
    page.locator("#version-switch").click()
    page.locator(".dropdown-item", has_text="101年版").click()
    expect(page.locator("main .badge").first).to_have_text("已修正（舊版）")
    expect(page.get_by_role("heading", name="一、加強肅貪防貪")).to_be_visible()
    page.screenshot(path=artifacts_dir / "plan-101-overview.png")


def test_download_the_plan_table_as_xlsx(signed_in):
    page = signed_in
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Excel 活頁簿（XLSX）").click()
    download = download_info.value
    assert download.suggested_filename == "plan-112.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(open(download.path(), "rb").read()))
    assert workbook["具體作為"]["A1"].value == "具體策略"
