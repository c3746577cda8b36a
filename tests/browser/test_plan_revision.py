"""A plan revision through the browser: AAC uploads a 116 修正 file, reads the proposed
matching with 112, corrects one line, previews again, applies, and reads the new version's
changes against 112 on the plan pages."""

import json

from playwright.sync_api import expect

from agencies.models import Agency, Role, User
from agencies.services import role_grant
from measures.models import MeasureLineage, PlanVersion
from tests.test_plan_revision import ADDED_MEASURE, revision_tree

from .conftest import PASSWORD, sign_in


def test_aac_imports_a_revision_and_corrects_its_lineage(page, site, tmp_path, artifacts_dir):
    aac = User.objects.create_user(username="aac", password=PASSWORD, agency=Agency.objects.get(name="法務部廉政署"))
    role_grant(user=aac, role=Role.AAC_REVIEWER, granted_by=None)
    plan_file = tmp_path / "plan-116.json"
    plan_file.write_text(json.dumps(revision_tree(PlanVersion.objects.get(code="112")), ensure_ascii=False), encoding="utf-8")

    sign_in(page, site, "aac")
    page.get_by_role("link", name="匯入方案檔").click()
    page.get_by_label("方案檔（JSON、XLSX 或 ODS）").set_input_files(str(plan_file))
    page.get_by_role("button", name="上傳並預覽").click()
    expect(page.locator("#lineage-summary")).to_contain_text("與「國家廉政建設行動方案（核定本）（112年版）」比較")
    moved = page.get_by_label("1(三) 延續自", exact=True)
    expect(moved).to_have_value("1(四)")  # renumbered: found by its text
    added = page.get_by_label("2(七) 延續自", exact=True)
    expect(added).to_have_value("")
    page.screenshot(path=artifacts_dir / "plan-revision-preview.png", full_page=False)

    # AAC decides 2(七) carries on 1(三)'s work, and previews again: nothing written yet.
    added.select_option("1(三)")
    page.get_by_label("2(七)#1 延續自", exact=True).select_option("1(三)#1")
    page.get_by_role("button", name="依所選對應重新試算").click()
    expect(page.get_by_label("2(七) 延續自", exact=True)).to_have_value("1(三)")
    expect(page.locator("#lineage-dropped")).to_have_count(0)
    assert not PlanVersion.objects.filter(code="116").exists()

    page.get_by_role("button", name="全部套用").click()
    expect(page.locator(".alert-success, .alert")).to_contain_text("已匯入「plan-116.json」")
    page.wait_for_url(f"{site.url}/plans/116/")
    assert MeasureLineage.objects.filter(measure__strategy__plan__code="116", predecessor__strategy__number=1, predecessor__number=3, confirmed_by=aac).exists()

    page.get_by_role("link", name="與前一版本「國家廉政建設行動方案（核定本）（112年版）」的差異").click()
    table = page.locator("#lineage-table")
    expect(table.locator('tr[data-reference="2(七)"]')).to_contain_text(ADDED_MEASURE[:10])
    expect(table.locator('tr[data-reference="2(七)"]')).to_contain_text("人工指定")
    expect(table.locator('tr[data-reference="1(一)"]')).to_contain_text("修正前：")
    page.screenshot(path=artifacts_dir / "plan-revision-changes.png", full_page=False)
