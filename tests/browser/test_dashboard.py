"""AAC opens the national dashboard, filters it, drills down to one agency's entry,
and downloads an export that holds the same figure."""

import io
import re

import openpyxl
from django.core.management import call_command
from playwright.sync_api import expect

from agencies.models import Agency, Role, User
from agencies.services import role_grant
from measures.models import Indicator
from reporting.models import Entry, Obligation, ReportingPeriod

from .conftest import PASSWORD, sign_in


def _entries_for_counted_indicator():
    """1(一) indicator 1 (every agency, quarterly, summed): 交通部 3 + 5, 經濟部 4 → 12."""
    indicator = Indicator.objects.get(measure__strategy__plan__code="112", measure__strategy__number=1, measure__printed_number="(一)", number=1)
    for name, quarter, quantity in [("交通部", 1, 3), ("交通部", 2, 5), ("經濟部", 1, 4)]:
        Entry.objects.create(
            obligation=Obligation.objects.get(year=112, indicator=indicator, agency__name=name),
            period=ReportingPeriod.objects.get(year=112, frequency="quarterly", number=quarter),
            state=Entry.State.APPROVED, quantity=quantity, narrative="辦理廉政風險評估。",
        )
    return indicator


def test_dashboard_filter_drill_down_and_export(page, site, artifacts_dir):
    call_command("generate_obligations", "112", stdout=io.StringIO())
    indicator = _entries_for_counted_indicator()
    aac = User.objects.create_user(username="aac", password=PASSWORD, agency=Agency.objects.get(name="法務部廉政署"))
    role_grant(user=aac, role=Role.AAC_REVIEWER, granted_by=None)

    sign_in(page, site, "aac")

    page.get_by_role("link", name="儀表板").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("全國執行進度儀表板")
    expect(page.locator("figure.chart canvas")).to_have_count(1)
    page.screenshot(path=artifacts_dir / "dashboard-national.png", full_page=True)

    page.get_by_label("年度", exact=True).select_option("112")
    page.get_by_label("截至", exact=True).select_option("2")
    page.get_by_label("具體策略", exact=True).select_option(label=page.locator("#f-strategy option").nth(1).inner_text())
    page.get_by_role("button", name="套用").click()
    expect(page).to_have_url(re.compile(r"strategy=\d+"))
    row = page.locator("#values tbody tr").filter(has_text=indicator.text[:20]).first
    expect(row.locator(".figure-link")).to_have_text("12")
    row.locator(".figure-link").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("衡量指標")
    agency_row = page.locator("#agency-entries tbody tr").filter(has_text="交通部").first
    expect(agency_row.locator("td").last).to_have_text("8")
    page.screenshot(path=artifacts_dir / "dashboard-indicator.png", full_page=True)

    with page.expect_download() as download_info:
        page.locator(".export-links a[data-format='xlsx']").first.click()
    download_info.value.save_as(artifacts_dir / "dashboard-indicator.xlsx")
    workbook = openpyxl.load_workbook(artifacts_dir / "dashboard-indicator.xlsx")
    rows = {r[0]: r for r in workbook.active.iter_rows(min_row=2, values_only=True)}
    assert rows["交通部"][-2] == 8 and rows["經濟部"][-2] == 4

    agency_row.locator("a.entry-link").first.click()
    expect(page.locator("#entry-value")).to_have_text("3")
    expect(page.locator("#entry-state")).to_have_text("已核定")
