"""Browser tests drive Debian's Chromium through Playwright against a live server."""

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
PASSWORD = "browser-password-123"


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM}; bin/test installs Debian's chromium package"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        # Without these Chromium keeps calling home, which this network refuses.
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    }


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-TW", "timezone_id": "Asia/Taipei", "viewport": {"width": 1366, "height": 900}, "accept_downloads": True}


@pytest.fixture(scope="session", autouse=True)
def allow_orm_beside_playwright():
    """Playwright's sync API keeps an event loop in the main thread for the rest
    of the session; the ORM calls of these tests and of pytest-django's database
    set-up are still plain synchronous calls, so Django's async guard is lifted."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def site(live_server, transactional_db, django_user_model):
    """A live portal with the reference data and a user who can sign in."""
    from agencies.models import Agency, Role
    from agencies.services import role_grant

    call_command("load_reference_data", stdout=io.StringIO())
    officer = django_user_model.objects.create_user(
        username="officer", password=PASSWORD, first_name="測試", agency=Agency.objects.get(name="交通部")
    )
    role_grant(user=officer, role=Role.OFFICER, granted_by=None)
    return live_server


def sign_in(page, site, username, *, then="/plans/112/"):
    """Through the sign-in form, as a person does. It lands on the person's start page (their
    work); ``then`` is where the test goes next (None: stay on the start page)."""
    page.goto(f"{site.url}/accounts/login/")
    page.get_by_label("帳號").fill(username)
    page.get_by_label("密碼").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登入").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    if then:
        page.goto(f"{site.url}{then}")


@pytest.fixture
def signed_in(page, site):
    sign_in(page, site, "officer")
    return page
