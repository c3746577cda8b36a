"""AAC compiles the annual report in the browser, waits for it while the page polls,
downloads the PDF, and publishes it."""

import io
import subprocess

from django.core.management import call_command
from playwright.sync_api import expect

from agencies.models import Agency, Role, User
from agencies.services import role_grant
from measures.models import Indicator
from reporting.models import Entry, Obligation, ReportingPeriod

from .conftest import PASSWORD, sign_in


def test_compile_wait_download_and_publish_the_annual_report(page, site, artifacts_dir, settings, tmp_path):
    settings.REPORT_JOBS_IN_THREAD = True  # as in the demo: the job runs beside the request, the page polls
    call_command("generate_obligations", "112", stdout=io.StringIO())
    indicator = Indicator.objects.get(measure__strategy__plan__code="112", measure__strategy__number=1, measure__printed_number="(一)", number=1)
    Entry.objects.create(
        obligation=Obligation.objects.get(year=112, indicator=indicator, agency__name="交通部"),
        period=ReportingPeriod.objects.get(year=112, frequency="quarterly", number=1),
        state=Entry.State.APPROVED, quantity=12, narrative="完成廉政風險評估。",
    )
    aac = User.objects.create_user(username="aac", password=PASSWORD, agency=Agency.objects.get(name="法務部廉政署"))
    role_grant(user=aac, role=Role.AAC_REVIEWER, granted_by=None)

    sign_in(page, site, "aac")

    page.get_by_role("link", name="年度報告").click()
    page.get_by_label("報告種類").select_option("national")
    page.get_by_label("年度", exact=True).select_option("112")
    page.get_by_label("期間").select_option("4")
    page.get_by_role("button", name="開始產製").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("全國年度執行成果")
    # The page polls the job and reloads itself once it is done.
    expect(page.locator("[data-job-state]")).to_have_attribute("data-job-state", "done", timeout=90_000)
    expect(page.locator("#job-progress")).to_have_attribute("aria-valuenow", "100")
    page.screenshot(path=artifacts_dir / "report-job.png", full_page=True)

    with page.expect_download() as download_info:
        page.locator("#job-files a[data-format=pdf]").click()
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes()[:5] == b"%PDF-"
    assert "民國112年度執行成果" in download.suggested_filename
    text = subprocess.run(["pdftotext", "-layout", str(saved), "-"], capture_output=True, text=True, check=True).stdout
    assert "國家廉政建設行動方案" in text and "第 1 頁／共" in text

    page.get_by_role("button", name="發布此版本").click()
    expect(page.locator(".alert-success, .alert").first).to_contain_text("已發布第 1 版")
    expect(page.locator("#job-status .badge", has_text="已發布")).to_have_count(1)
