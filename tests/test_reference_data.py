"""load_reference_data: every plan file of fixtures/, and a rerun never undoes what came later."""

import io
import shutil

import pytest
import yaml
from django.core.management import call_command

from measures.models import KeyItem, PlanVersion, TargetValue, TargetValueRevision, TargetYear

from .conftest import ROOT, publish_year

pytestmark = pytest.mark.django_db


def snapshot():
    return {
        "versions": sorted(PlanVersion.objects.values_list("code", "status", "first_year", "last_year", "target_year")),
        "years": sorted(TargetYear.objects.values_list("plan__code", "year", "state", "source")),
        "values": sorted(TargetValue.objects.values_list("measure_id", "year", "position", "text", "quantity")),
        "revisions": sorted(TargetValueRevision.objects.values_list("value_id", "reason")),
        "key_items": sorted(KeyItem.objects.values_list("year", "measure_id")),
    }


def test_a_rerun_leaves_later_years_revisions_and_key_items_alone(plan112, django_user_model):
    from agencies.models import Agency, Role
    from agencies.services import role_grant
    from reporting.services.target_setting import target_value_revise

    publish_year(113)
    aac = django_user_model.objects.create(username="aac-rerun", agency=Agency.objects.get(name="法務部廉政署"))
    role_grant(user=aac, role=Role.AAC_REVIEWER, granted_by=None)
    value = TargetValue.objects.filter(year=112, kind="count").order_by("pk").first()
    target_value_revise(
        value=value, user=aac, reason="行政院核定調整",
        data={"text": value.text, "kind": value.kind, "quantity": value.quantity + 1, "unit": value.unit, "comparator": value.comparator},
    )
    KeyItem.objects.create(year=113, measure=value.measure)
    before = snapshot()
    out = io.StringIO()
    call_command("load_reference_data", stdout=out)
    assert "版本 112 已載入，略過" in out.getvalue()
    assert snapshot() == before


def test_every_plan_file_in_fixtures_loads_oldest_first_without_a_code_change(settings, tmp_path, reference_data):
    """A new version is a new file: plan-116.yaml beside the others becomes the version in force
    from 116, and 112's last year closes at 115."""
    folder = tmp_path / "fixtures"
    shutil.copytree(ROOT / "fixtures", folder)
    data = yaml.safe_load((folder / "plan-112.yaml").read_text(encoding="utf-8"))
    data.update(code="116", first_year=116, target_year=116, title="國家廉政建設行動方案（116年修正）")
    (folder / "plan-116.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    settings.BASE_DIR = tmp_path
    call_command("load_reference_data", stdout=io.StringIO())
    new, old = PlanVersion.objects.get(code="116"), PlanVersion.objects.get(code="112")
    assert new.status == PlanVersion.Status.IN_FORCE
    assert (old.status, old.last_year) == (PlanVersion.Status.SUPERSEDED, 115)
    assert TargetYear.objects.get(year=116).plan == new
    before = snapshot()
    call_command("load_reference_data", stdout=io.StringIO())
    assert snapshot() == before


def test_a_version_cannot_take_over_years_an_older_one_already_has_values_for(settings, tmp_path, reference_data):
    from anticorruption.datafiles import DataFileError
    from measures.loaders import load_plan

    publish_year(113)
    data = yaml.safe_load((ROOT / "fixtures" / "plan-112.yaml").read_text(encoding="utf-8"))
    data.update(code="113", first_year=113, target_year=None)
    for strategy in data["strategies"]:
        for measure in strategy["measures"]:
            measure["values"] = []
    path = tmp_path / "plan-113.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    before = snapshot()
    with pytest.raises(DataFileError, match="已有民國113年以後的年度目標值"):
        load_plan(path)
    assert snapshot() == before


def test_a_rerun_leaves_an_imported_revision_and_its_lineage_alone(plan112):
    from measures.models import IndicatorLineage, MeasureLineage
    from measures.plan_import import plan_import

    from .test_plan_revision import as_bytes, revision_tree

    plan_import(content=as_bytes(revision_tree(plan112)), apply=True, lineage={"measures": {"2(七)": "1(三)"}})

    def lineage():
        return (
            sorted(MeasureLineage.objects.values_list("measure_id", "predecessor_id", "basis")),
            sorted(IndicatorLineage.objects.values_list("indicator_id", "predecessor_id", "basis")),
        )

    before, links = snapshot(), lineage()
    assert links[0] and ("manual" in {basis for *_ids, basis in links[0]})
    call_command("load_reference_data", stdout=io.StringIO())
    assert snapshot() == before and lineage() == links
    assert PlanVersion.objects.get(code="116").status == PlanVersion.Status.IN_FORCE
