"""An officer enters a figure, saves a draft and submits; the agency reviewer
returns it with a comment; the officer sees the comment, fixes and resubmits."""

import io
import re

from django.core.management import call_command
from playwright.sync_api import expect

from agencies.models import Agency, Role, User
from agencies.services import role_grant

from .conftest import PASSWORD, sign_in


def test_enter_submit_return_fix_resubmit(page, site, browser, artifacts_dir):
    call_command("generate_obligations", "112", stdout=io.StringIO())
    reviewer = User.objects.create_user(username="reviewer", password=PASSWORD, agency=Agency.objects.get(name="交通部"))
    role_grant(user=reviewer, role=Role.AGENCY_REVIEWER, granted_by=None)

    sign_in(page, site, "officer")
    page.get_by_role("link", name="填報項目").click()
    row = page.locator("tr.item-row").filter(has_text="各公股股權管理機關邀集定期召開會議")
    row.get_by_role("link", name="112年第1季").click()
    page.get_by_label("本期數值").fill("２")
    page.get_by_label("執行情形").fill("3月召開業務研討會。")
    page.get_by_role("button", name="儲存草稿").click()
    expect(page.locator("#entry-state")).to_have_text("草稿")
    expect(page.locator("#entry-value")).to_have_text("2")
    page.get_by_role("link", name="修改").click()
    page.get_by_role("button", name="儲存並送出").click()
    expect(page.locator("#entry-state")).to_have_text("已送出（待機關審核）")
    entry_url = page.url

    reviewer_page = browser.new_context(locale="zh-TW").new_page()
    sign_in(reviewer_page, site, "reviewer")
    reviewer_page.goto(entry_url)
    reviewer_page.get_by_label("退回意見（必填）").fill("請補充召開日期與與會人員。")
    reviewer_page.get_by_role("button", name="退回修正").click()
    # Nothing else waits: the reviewer is back at the queue, told so.
    expect(reviewer_page.get_by_text("清單中已沒有待審的資料。", exact=False)).to_be_visible()
    expect(reviewer_page).to_have_url(re.compile(r"/obligations/review/agency/$"))
    reviewer_page.goto(entry_url)
    expect(reviewer_page.locator("#entry-state")).to_have_text("退回修正")
    expect(reviewer_page.get_by_role("link", name="機關審核清單")).to_be_visible()
    reviewer_page.close()

    page.goto(entry_url)
    expect(page.locator("#review-comment")).to_contain_text("請補充召開日期與與會人員。")
    page.get_by_role("link", name="修改").click()
    expect(page.locator("#review-comment")).to_contain_text("請補充召開日期與與會人員。")
    page.get_by_label("執行情形").fill("3月15日召開業務研討會，與會 12 人。")
    page.screenshot(path=artifacts_dir / "entry-form-returned.png", full_page=True)
    page.get_by_role("button", name="儲存並送出").click()
    expect(page.locator("#entry-state")).to_have_text("已送出（待機關審核）")
    expect(page.locator("#entry-history")).to_contain_text("退回")
    page.screenshot(path=artifacts_dir / "entry-history.png", full_page=True)


def test_typed_input_survives_a_closed_tab(page, site, browser):
    """What an officer typed but did not save is restored when they come back."""
    call_command("generate_obligations", "112", stdout=io.StringIO())
    sign_in(page, site, "officer")
    page.get_by_role("link", name="填報項目").click()
    row = page.locator("tr.item-row").filter(has_text="各公股股權管理機關邀集定期召開會議")
    row.get_by_role("link", name="112年第1季").click()
    form_url = page.url
    page.get_by_label("本期數值").fill("3")
    page.get_by_label("執行情形").fill("尚未儲存的長篇說明")
    page.goto(f"{site.url}/plans/112/")  # leave without saving
    page.goto(form_url)
    expect(page.locator("#draft-restored")).to_be_visible()
    expect(page.get_by_label("本期數值")).to_have_value("3")
    expect(page.get_by_label("執行情形")).to_have_value("尚未儲存的長篇說明")
