"""An officer who edits a URL to reach another agency's page gets nothing of it."""

from playwright.sync_api import expect

from agencies.models import Agency


def test_cross_agency_url_is_denied(signed_in, site, artifacts_dir):
    page = signed_in
    own = Agency.objects.get(name="交通部")
    other = Agency.objects.get(name="經濟部")
    page.goto(f"{site.url}/registry/{own.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("交通部")
    response = page.goto(f"{site.url}/registry/{other.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("找不到這個頁面")
    expect(page.locator("main")).not_to_contain_text("經濟部")
    page.screenshot(path=artifacts_dir / "cross-agency-denied.png")
    # The registry list offers only the officer's own agency.
    page.goto(f"{site.url}/registry/?q=經濟部")
    expect(page.locator("#agency-count")).to_contain_text("共 0 個機關")
