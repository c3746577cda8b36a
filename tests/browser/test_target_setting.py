"""The yearly cycle through the browser: AAC opens 113, a lead agency's officer proposes
(a refused figure, then a saved one), the agency reviewer forwards, AAC returns one value,
the officer fixes it, AAC approves and publishes; the officer's 113 page and the
dashboard then show the new target."""

import io
import re

from django.core.management import call_command
from playwright.sync_api import expect

from agencies.models import Agency, Role, User
from agencies.services import role_grant
from tests.test_target_setting import approve_all

from .conftest import PASSWORD, sign_in

NEW_TEXT = "提報跨國情資交換統計，每年與其他國家對等機關交換訊息至少 340 件。"


def _user(username, agency, role, **grant):
    user = User.objects.create_user(username=username, password=PASSWORD, agency=Agency.objects.get(name=agency))
    role_grant(user=user, role=role, granted_by=None, **grant)
    return user


def _person(browser, site, username):
    page = browser.new_context(locale="zh-TW", timezone_id="Asia/Taipei", viewport={"width": 1366, "height": 900}).new_page()
    sign_in(page, site, username)
    return page


def test_the_yearly_cycle_through_the_browser(page, site, browser, artifacts_dir):
    call_command("generate_obligations", "112", stdout=io.StringIO())
    _user("aac", "法務部廉政署", Role.AAC_REVIEWER)
    _user("mjib", "法務部調查局", Role.OFFICER)
    _user("moj-reviewer", "法務部", Role.AGENCY_REVIEWER, oversees_subordinates=True)
    mjib = Agency.objects.get(name="法務部調查局")

    # AAC opens 113, typing the year as people do.
    sign_in(page, site, "aac")
    page.get_by_role("link", name="年度目標值").first.click()
    page.get_by_label("年度").fill("民國113年")
    page.get_by_label("提報期限").fill("113/01/31")
    page.get_by_role("button", name="開放研訂").click()
    expect(page.locator("body")).to_contain_text("提報期限民國113年1月31日已經過去")
    page.get_by_label("提報期限").fill("")
    page.get_by_role("button", name="開放研訂").click()
    expect(page.locator("#year-state")).to_have_text("研訂中")
    expect(page.locator("body")).to_contain_text("已開放民國113年目標值研訂")

    # Every other lead agency goes through the chain outside this test's view.
    from measures.models import TargetYear

    approve_all(TargetYear.objects.get(year=113), User.objects.get(username="aac"), except_agency=mjib)

    # The officer of 法務部調查局: a refused figure, then a saved one, then everything sent.
    officer = _person(browser, site, "mjib")
    officer.get_by_role("link", name="年度目標值").first.click()
    officer.get_by_role("link", name="民國113年（2024）").click()
    expect(officer.locator("h1")).to_contain_text("法務部調查局：民國113年目標值")
    row = officer.locator("tr", has_text="交換訊息至少 300 件").first
    expect(row.locator(".previous-figure")).to_be_visible()
    row.get_by_role("link", name="填寫").click()
    expect(officer.locator("#previous-value")).to_contain_text("300")
    officer.get_by_label("目標值", exact=True).fill(NEW_TEXT)
    officer.get_by_label("數值").fill("三百四十")
    officer.get_by_label("說明").fill("依 112 年實際交換量調高")
    officer.get_by_role("button", name="儲存草稿").click()
    expect(officer.locator(".invalid-feedback")).to_contain_text("不是數字")
    expect(officer.get_by_label("說明")).to_have_value("依 112 年實際交換量調高")  # nothing typed is lost
    officer.get_by_label("數值").fill("３４０")
    officer.get_by_role("button", name="儲存草稿").click()
    expect(officer.locator("body")).to_contain_text("已儲存草稿")
    expect(officer.locator("#history")).to_contain_text("300 → 340")
    officer.get_by_role("link", name="法務部調查局").click()
    officer.get_by_role("button", name="送出全部草稿").click()
    expect(officer.locator("body")).to_contain_text("已送出 7 項目標值")

    # The agency reviewer (法務部, overseeing 調查局) forwards them all.
    reviewer = _person(browser, site, "moj-reviewer")
    reviewer.goto(f"{site.url}/targets/113/")
    reviewer.get_by_role("link", name="法務部調查局").click()
    reviewer.get_by_role("button", name="審核通過並全部轉送廉政署").click()
    expect(reviewer.locator("body")).to_contain_text("已轉送 7 項目標值至廉政署")

    # AAC returns the changed value with a reason.
    page.goto(f"{site.url}/targets/113/review/")
    changed = page.locator("tr", has_text="至少 340 件").first
    changed.get_by_placeholder("退回理由（必填）").fill("請附 112 年交換件數統計")
    changed.get_by_role("button", name="退回修正").click()
    expect(page.locator("body")).to_contain_text("已退回修正")

    # The officer sees the reason, adds to the note and sends it again; the reviewer forwards.
    officer.goto(f"{site.url}/targets/113/agencies/{mjib.pk}/")
    returned = officer.locator("tr[data-state=returned]")
    expect(returned.locator(".review-comment")).to_have_text("請附 112 年交換件數統計")
    returned.get_by_role("link", name="填寫").click()
    expect(officer.locator("#review-comment")).to_contain_text("請附 112 年交換件數統計")
    officer.get_by_label("說明").fill("依 112 年實際交換量調高；112 年交換 352 件")
    officer.get_by_role("button", name="儲存並送出").click()
    expect(officer.locator("body")).to_contain_text("已儲存並送出")
    reviewer.goto(f"{site.url}/targets/113/agencies/{mjib.pk}/")
    reviewer.get_by_role("button", name="審核通過並全部轉送廉政署").click()
    expect(reviewer.locator("body")).to_contain_text("已轉送 1 項目標值至廉政署")

    # AAC approves the queue and publishes the year.
    page.goto(f"{site.url}/targets/113/review/")
    page.get_by_role("button", name="全選").click()
    page.get_by_role("button", name="核可勾選的項目").click()
    expect(page.locator("body")).to_contain_text("已核可 7 項目標值")
    expect(page.locator("#queue-empty")).to_be_visible()
    page.goto(f"{site.url}/targets/113/")
    page.screenshot(path=artifacts_dir / "targets-year-ready.png", full_page=True)
    page.get_by_role("button", name="核定公布民國113年目標值").click()
    expect(page.locator("#year-state")).to_have_text("已核定公布")
    expect(page.locator("body")).to_contain_text(re.compile(r"民國113年目標值已核定公布：112 項"))

    # The officer's 113 page and the dashboard read the new target.
    officer.goto(f"{site.url}/obligations/report/?year=113&quarter=1")
    expect(officer.locator("body")).to_contain_text("340")
    officer.screenshot(path=artifacts_dir / "targets-officer-113.png", full_page=True)
    page.goto(f"{site.url}/dashboard/?year=113&quarter=4")
    expect(page.locator("body")).to_contain_text("交換訊息至少 340 件")
    page.screenshot(path=artifacts_dir / "targets-dashboard-113.png", full_page=True)
    for other in (officer, reviewer):
        other.context.close()

