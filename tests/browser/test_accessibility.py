"""WCAG 2.1 AA on the pages each role works in, at desktop width and on a 390 px phone:
axe-core finds no serious or critical violation, the officer's and reviewer's pages are never
wider than the screen, focus is visible, and the entry form works with the keyboard alone."""

import io

from django.core.management import call_command
from playwright.sync_api import expect

from agencies.models import Agency, Role, User
from agencies.services import role_grant
from reporting.models import Entry, Obligation, ReportingPeriod

from .accessibility import PHONE, assert_accessible, overflow_width
from .conftest import PASSWORD, sign_in

DESKTOP = {"width": 1366, "height": 900}


def _user(username, agency, role):
    user = User.objects.create_user(username=username, password=PASSWORD, agency=Agency.objects.get(name=agency))
    role_grant(user=user, role=role, granted_by=None)
    return user


def _check(page, site, paths, *, fits_a_phone: bool, who: str):
    for path in paths:
        page.set_viewport_size(DESKTOP)
        page.goto(f"{site.url}{path}")
        assert_accessible(page, f"{who} {path} (desktop)")
        page.set_viewport_size(PHONE)
        page.reload()
        assert_accessible(page, f"{who} {path} (390 px)")
        if fits_a_phone:
            assert overflow_width(page) <= 0, f"{who} {path} is {overflow_width(page)} px wider than a 390 px phone"
    page.set_viewport_size(DESKTOP)


def test_every_roles_pages_pass_axe_and_the_officers_and_reviewers_fit_a_phone(page, site, browser):
    call_command("generate_obligations", "112", stdout=io.StringIO())
    _user("aac", "法務部廉政署", Role.AAC_REVIEWER)
    _user("transport-reviewer", "交通部", Role.AGENCY_REVIEWER)
    _user("ndc", "國家發展委員會", Role.NDC_ASSESSOR)
    obligation = Obligation.objects.filter(agency__name="交通部", year=112, indicator__frequency="quarterly").order_by("pk").first()
    period = ReportingPeriod.objects.get(year=112, frequency="quarterly", number=1)
    entry = Entry.objects.create(obligation=obligation, period=period, state=Entry.State.SUBMITTED, quantity=2, narrative="召開 2 次")

    sign_in(page, site, "officer", then=None)
    _check(page, site, [
        "/obligations/todo/", "/obligations/report/?year=112&quarter=1", f"/obligations/report/{obligation.pk}/{period.pk}/",
        f"/obligations/entries/{entry.pk}/", "/obligations/", "/obligations/notices/", "/plans/112/",
    ], fits_a_phone=True, who="officer")

    reviewer = browser.new_context(locale="zh-TW", viewport=DESKTOP).new_page()
    sign_in(reviewer, site, "transport-reviewer", then=None)
    _check(reviewer, site, ["/obligations/review/agency/", f"/obligations/entries/{entry.pk}/"], fits_a_phone=True, who="agency reviewer")

    aac = browser.new_context(locale="zh-TW", viewport=DESKTOP).new_page()
    sign_in(aac, site, "aac", then=None)
    _check(aac, site, ["/obligations/review/", "/dashboard/completeness/?year=112", "/targets/", "/reports/"], fits_a_phone=False, who="AAC")

    ndc = browser.new_context(locale="zh-TW", viewport=DESKTOP).new_page()
    sign_in(ndc, site, "ndc", then=None)
    _check(ndc, site, ["/dashboard/?year=112", "/reports/"], fits_a_phone=False, who="NDC")


def test_on_a_phone_the_header_stays_in_view_while_the_page_scrolls(signed_in, site):
    call_command("generate_obligations", "112", stdout=io.StringIO())
    page = signed_in
    page.set_viewport_size(PHONE)
    page.goto(f"{site.url}/obligations/report/?year=112&quarter=1")
    page.mouse.wheel(0, 2000)
    page.wait_for_function("window.scrollY > 500")
    assert page.evaluate("document.querySelector('.portal-navbar').getBoundingClientRect().top") == 0


def test_the_menu_marks_the_current_page_and_focus_shows(signed_in, site):
    page = signed_in
    page.goto(f"{site.url}/obligations/todo/")
    current = page.locator(".portal-navbar .nav-link[aria-current='page']")
    expect(current).to_have_count(1)
    expect(current).to_have_text("待辦")
    # Tab from the top, as a keyboard user does, to the menu's links: each shows where focus is.
    for _step in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('nav-link')"):
            break
    focused = page.evaluate("() => { const el = document.activeElement; const s = getComputedStyle(el); return [el.className, s.outlineStyle, s.outlineWidth]; }")
    assert "nav-link" in focused[0] and focused[1] != "none" and focused[2] != "0px", focused


def test_the_entry_form_is_filled_and_submitted_with_the_keyboard_alone(signed_in, site):
    call_command("generate_obligations", "112", stdout=io.StringIO())
    page = signed_in
    obligation = Obligation.objects.filter(agency__name="交通部", year=112, indicator__frequency="quarterly", indicator__measure__strategy__number=7).order_by("pk").first()
    period = ReportingPeriod.objects.get(year=112, frequency="quarterly", number=1)
    page.goto(f"{site.url}/obligations/report/{obligation.pk}/{period.pk}/")
    page.get_by_label("本期數值").focus()
    page.keyboard.type("3")
    page.keyboard.press("Tab")
    while page.evaluate("document.activeElement.name") != "narrative":
        page.keyboard.press("Tab")
    page.keyboard.type("以鍵盤填寫的執行情形。")
    while page.evaluate("document.activeElement.textContent.trim()") != "儲存並送出":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#entry-state")).to_contain_text("已送出")
    entry = Entry.objects.get(obligation=obligation, period=period)
    assert (entry.quantity, entry.narrative) == (3, "以鍵盤填寫的執行情形。")
