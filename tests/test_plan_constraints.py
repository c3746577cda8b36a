"""The database itself refuses a plan that breaks an invariant, with a translated message."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from agencies.models import Agency, AgencyName
from measures.models import Measure, PerformanceTarget, PlanVersion, TargetValue

from .conftest import find_measure

pytestmark = pytest.mark.django_db


def _refused(obj, message):
    with pytest.raises(ValidationError) as raised:
        obj.validate_constraints()
    assert message in str(raised.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        obj.save()


def test_numbering_is_unique_within_a_parent(plan112):
    measure = find_measure(plan112, 1, "(一)")
    _refused(Measure(strategy=measure.strategy, number=1, text="重複"), "同一具體策略內執行措施編號不可重複")
    _refused(PerformanceTarget(measure=measure, position=1, number=99, text="重複"), "同一執行措施內順序不可重複")


def test_numeric_values_need_quantity_unit_and_comparator(plan112):
    measure = find_measure(plan112, 1, "(一)")
    value = TargetValue(measure=measure, year=113, position=1, text="x", kind="count", quantity=None)
    _refused(value, "須有非負數值、單位與比較方式")


def test_percentages_stop_at_100(plan112):
    measure = find_measure(plan112, 1, "(一)")
    value = TargetValue(measure=measure, year=113, position=1, text="x", kind="ratio", quantity=120, unit="%", comparator="at_least")
    _refused(value, "百分比不可超過 100%")


def test_due_dates_only_on_milestones(plan112):
    import datetime

    measure = find_measure(plan112, 1, "(一)")
    value = TargetValue(measure=measure, year=113, position=1, text="x", kind="report_only", due_on=datetime.date(2024, 12, 31))
    _refused(value, "只有里程碑類目標值可設定完成期限")


def test_one_version_in_force(plan112):
    _refused(PlanVersion(code="113", title="x", first_year=113, status="in_force"), "同一時間只能有一個現行版本")


def test_a_name_belongs_to_one_agency(db):
    other = Agency.objects.create(name="測試機關")
    _refused(AgencyName(agency=other, name="法務部（廉政署）".replace("（", "").replace("）", ""), key="法務部廉政署"), "此名稱已屬於另一個機關")
