"""Deriving each year's obligations from the plan's assignments."""

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from agencies.models import Agency
from measures.models import AgencyAssignment, Indicator, PlanVersion

from ..models import Obligation, ObligationScope


class ObligationError(ValueError):
    pass


def plan_for_year(year: int) -> PlanVersion:
    """The version whose years cover ``year`` and that has indicators."""
    for plan in PlanVersion.objects.filter(first_year__lte=year).order_by("-first_year"):
        if (plan.last_year is None or plan.last_year >= year) and plan.target_year is not None:
            return plan
    raise ObligationError(_("民國%(year)d年沒有適用且含績效衡量指標的方案版本。") % {"year": year})


@dataclass
class ObligationStats:
    created: int = 0
    updated: int = 0
    deleted: int = 0


def _indicators_for(assignment, indicators_by_measure):
    """Indicators an assignment reports.

    An assignment limited to some performance targets reports the indicators
    numbered like those targets where such indicators exist (1(一): targets 1–5
    ↔ indicators 1–5, target 6 ↔ indicator 6); otherwise every indicator of the measure.
    """
    indicators = indicators_by_measure.get(assignment.measure_id, [])
    if assignment.target_id is None:
        return indicators
    number = assignment.target.number
    matching = [indicator for indicator in indicators if indicator.number == number and number is not None]
    return matching or indicators


def _expand(agency: Agency, scope: ObligationScope | None, reporting_bodies, children_of) -> tuple[list[Agency], str]:
    if agency.collective == Agency.Collective.EVERY_AGENCY:
        bodies = [body for body in reporting_bodies if not scope or not scope.kinds or body.kind in scope.kinds]
        return bodies, Obligation.Source.EVERY_AGENCY
    if agency.collective == Agency.Collective.GROUP:
        # A group's members are the reporting bodies placed under it in the tree.
        members, stack = [], list(children_of.get(agency.pk, []))
        while stack:
            node = stack.pop()
            if node.collective == "" and node.is_active and node.has_integrity_unit:
                members.append(node)
            stack.extend(children_of.get(node.pk, []))
        return members, Obligation.Source.GROUP
    return ([agency] if agency.is_active else []), Obligation.Source.NAMED


@transaction.atomic
def obligations_generate(*, year: int) -> ObligationStats:
    """Make the year's obligations match the plan; idempotent.

    Lead beats assisting when an agency is both (e.g. named and also covered by 各機關).
    """
    plan = plan_for_year(year)
    scope = ObligationScope.objects.filter(year=year).first()
    agencies = list(Agency.objects.all())
    children_of = {}
    for agency in agencies:
        children_of.setdefault(agency.parent_id, []).append(agency)
    reporting_bodies = [a for a in agencies if a.collective == "" and a.is_active and a.has_integrity_unit]
    indicators_by_measure = {}
    for indicator in Indicator.objects.filter(measure__strategy__plan=plan).order_by("position"):
        indicators_by_measure.setdefault(indicator.measure_id, []).append(indicator)

    wanted: dict[tuple[int, int], tuple[str, str]] = {}
    assignments = AgencyAssignment.objects.filter(measure__strategy__plan=plan).select_related("agency", "target")
    for assignment in assignments:
        bodies, source = _expand(assignment.agency, scope, reporting_bodies, children_of)
        for indicator in _indicators_for(assignment, indicators_by_measure):
            for body in bodies:
                key = (body.pk, indicator.pk)
                current = wanted.get(key)
                if current is None or (current[0] == AgencyAssignment.Role.ASSISTING and assignment.role == AgencyAssignment.Role.LEAD):
                    wanted[key] = (assignment.role, source)

    stats = ObligationStats()
    existing = {(o.agency_id, o.indicator_id): o for o in Obligation.objects.filter(year=year).select_related("agency")}
    # A body retired during the year keeps what it already owed (and reported);
    # it only gets no new obligations.
    stale = [o.pk for key, o in existing.items() if key not in wanted and o.agency.is_active]
    # Obligations that reports already hang on are protected by the database (PROTECT).
    stats.deleted = Obligation.objects.filter(pk__in=stale).delete()[0] if stale else 0
    to_create = []
    for (agency_id, indicator_id), (role, source) in wanted.items():
        current = existing.get((agency_id, indicator_id))
        if current is None:
            to_create.append(Obligation(year=year, agency_id=agency_id, indicator_id=indicator_id, role=role, source=source))
        elif (current.role, current.source) != (role, source):
            Obligation.objects.filter(pk=current.pk).update(role=role, source=source)
            stats.updated += 1
    Obligation.objects.bulk_create(to_create, batch_size=1000)
    stats.created = len(to_create)
    return stats


@transaction.atomic
def obligation_scope_set(*, year: int, kinds: list[str], user) -> ObligationScope:
    unknown = sorted(set(kinds) - set(Agency.Kind.values))
    if unknown:
        raise ObligationError(_("不認得的機關類別：%(kinds)s") % {"kinds": "、".join(unknown)})
    scope, _created = ObligationScope.objects.update_or_create(year=year, defaults={"kinds": sorted(kinds), "updated_by": user})
    obligations_generate(year=year)
    return scope
