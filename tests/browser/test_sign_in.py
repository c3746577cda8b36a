"""Signing in and out in a real browser, and what a locked-out user sees."""

import re

from playwright.sync_api import expect

from .conftest import PASSWORD


def fill_login(page, username, password):
    page.get_by_label("帳號").fill(username)
    page.get_by_label("密碼").fill(password)
    with page.expect_navigation():  # the form posts and the next page loads before the next step
        page.get_by_role("button", name="登入").click()


def test_a_wrong_password_shows_the_error_and_stays_on_the_login_page(page, site, artifacts_dir):
    page.goto(f"{site.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    fill_login(page, "officer", "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("帳號或密碼不正確。請注意兩者皆區分大小寫。")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_label("帳號")).to_have_value("officer")
    page.screenshot(path=artifacts_dir / "login-failed.png")


def test_the_right_password_lands_on_the_officers_to_do_list_and_logout_returns_to_login(page, site):
    page.goto(f"{site.url}/")
    fill_login(page, "officer", PASSWORD)
    page.wait_for_url(f"{site.url}/obligations/todo/")
    expect(page.get_by_role("heading", level=1)).to_have_text("交通部的待辦填報")
    expect(page.get_by_role("link", name="待辦")).to_be_visible()

    page.get_by_role("button", name="登出").click()
    page.wait_for_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("登入")
    page.goto(f"{site.url}/plans/112/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/plans/112/"))


def test_five_failures_show_the_lockout_page(page, site, artifacts_dir):
    page.goto(f"{site.url}/accounts/login/")
    for attempt in range(5):
        fill_login(page, "officer", f"wrong-{attempt}")
    expect(page.get_by_role("heading", level=1)).to_have_text("帳號暫停登入")
    expect(page.locator("#lockout-message")).to_contain_text("已連續登入失敗 5 次")
    expect(page.get_by_text("30 分鐘")).to_be_visible()
    page.screenshot(path=artifacts_dir / "locked-out.png", full_page=True)

    # The right password is refused too, until the lock is lifted.
    page.get_by_role("link", name="返回登入頁").click()
    fill_login(page, "officer", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("帳號暫停登入")


def test_a_weak_new_password_is_refused_with_the_reasons(signed_in, site, artifacts_dir):
    page = signed_in
    page.goto(f"{site.url}/accounts/password_change/")
    page.get_by_label("舊密碼").fill(PASSWORD)
    page.get_by_label("新密碼", exact=True).fill("12345678")
    page.get_by_label("新密碼確認").fill("12345678")
    page.get_by_role("button", name="變更密碼").click()
    expect(page.locator(".invalid-feedback")).to_contain_text(["密碼太短，必須至少 10 個字元。", "這個密碼太常見了。", "這個密碼只包含數字。"])
    page.screenshot(path=artifacts_dir / "password-change-refused.png", full_page=True)
