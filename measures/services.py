"""Changing plan data from the portal (the plan text itself comes from fixtures)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from agencies.models import Role

from .models import KeyItem, Measure, PlanVersion


def can_mark_key_items(user) -> bool:
    return user.has_role(Role.NDC_ASSESSOR, Role.ADMINISTRATOR)


@transaction.atomic
def key_items_set(*, plan: PlanVersion, year: int, measure_ids: set[int], user) -> tuple[int, int]:
    """Make exactly ``measure_ids`` the key items (院列管) of ``plan`` for ``year``.

    Returns (added, removed). The rest of the plan's measures are self-tracked that year.
    """
    if not can_mark_key_items(user):
        raise PermissionDenied(_("只有國發會評核人或系統管理者可標記院列管項目。"))
    if not (plan.first_year <= year and (plan.last_year is None or year <= plan.last_year)):
        raise ValidationError(_("民國%(year)d年不在此方案版本的適用年度內。") % {"year": year})
    plan_measures = set(Measure.objects.filter(strategy__plan=plan).values_list("pk", flat=True))
    foreign = measure_ids - plan_measures
    if foreign:
        raise ValidationError(_("選取的執行措施不屬於此方案版本。"))
    current = set(KeyItem.objects.filter(year=year, measure__strategy__plan=plan).values_list("measure_id", flat=True))
    removed = KeyItem.objects.filter(year=year, measure_id__in=current - measure_ids).delete()[0]
    KeyItem.objects.bulk_create([KeyItem(year=year, measure_id=pk, marked_by=user) for pk in sorted(measure_ids - current)])
    return len(measure_ids - current), removed
