"""Deriving each year's obligations from the plan's assignments."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from agencies.models import Agency, Role
from measures.models import AgencyAssignment, Indicator, PlanVersion, TargetYear

from ..models import Obligation, ObligationScope, ReporterRule


class ObligationError(ValueError):
    pass


def plan_for_year(year: int) -> PlanVersion:
    """The version whose target values for ``year`` are published: obligations follow them."""
    target_year = TargetYear.objects.filter(year=year).select_related("plan").first()
    if target_year is None or not target_year.is_published:
        covering = [
            plan for plan in PlanVersion.objects.filter(first_year__lte=year).order_by("-first_year")
            if plan.last_year is None or plan.last_year >= year
        ]
        if not covering:
            raise ObligationError(_("民國%(year)d年沒有適用的方案版本。") % {"year": year})
        if target_year is None:
            raise ObligationError(_("民國%(year)d年尚未開放研訂目標值；目標值核定公布後才會產生填報義務。") % {"year": year})
        raise ObligationError(_("民國%(year)d年的目標值尚在研訂中；核定公布後才會產生填報義務。") % {"year": year})
    return target_year.plan


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

    wanted = _wanted_by_plan(plan, scope, reporting_bodies, children_of, indicators_by_measure)
    _apply_reporter_rules(wanted, year, scope, reporting_bodies, children_of, agencies)

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


def _wanted_by_plan(plan, scope, reporting_bodies, children_of, indicators_by_measure) -> dict[tuple[int, int], tuple[str, str]]:
    """{(agency id, indicator id): (role, source)} as the plan's assignments say."""
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
    return wanted


def rule_reporters(rule: ReporterRule, *, scope, reporting_bodies, children_of, agencies_by_id) -> tuple[list[Agency], str]:
    """The bodies a year's reporter rule names, and the source recorded on their obligations."""
    if rule.scope == ReporterRule.Scope.EVERY_AGENCY:
        every = Agency(collective=Agency.Collective.EVERY_AGENCY)
        return _expand(every, scope, reporting_bodies, children_of)
    if rule.scope == ReporterRule.Scope.GROUP:
        group = agencies_by_id[rule.group_id]
        if group.collective == Agency.Collective.GROUP:
            return _expand(group, scope, reporting_bodies, children_of)
        # A body and every reporting body under it (a ministry and its agencies).
        members, stack = [group] if group.is_active and group.has_integrity_unit else [], list(children_of.get(group.pk, []))
        while stack:
            node = stack.pop()
            if node.collective == "" and node.is_active and node.has_integrity_unit:
                members.append(node)
            stack.extend(children_of.get(node.pk, []))
        return members, Obligation.Source.GROUP
    return [a for a in rule.agencies.all() if a.is_active], Obligation.Source.NAMED


def _apply_reporter_rules(wanted, year, scope, reporting_bodies, children_of, agencies) -> None:
    """AAC's decisions for the year replace the plan's reporters of an indicator."""
    rules = list(ReporterRule.objects.filter(year=year, replaced_at__isnull=True).exclude(scope=ReporterRule.Scope.PLAN).prefetch_related("agencies"))
    if not rules:
        return
    agencies_by_id = {agency.pk: agency for agency in agencies}
    for rule in rules:
        by_plan = {agency_id: role for (agency_id, indicator_id), (role, _source) in wanted.items() if indicator_id == rule.indicator_id}
        for key in [key for key in wanted if key[1] == rule.indicator_id]:
            del wanted[key]
        bodies, source = rule_reporters(rule, scope=scope, reporting_bodies=reporting_bodies, children_of=children_of, agencies_by_id=agencies_by_id)
        for body in bodies:
            wanted[(body.pk, rule.indicator_id)] = (by_plan.get(body.pk, AgencyAssignment.Role.LEAD), source)


@transaction.atomic
def obligation_scope_set(*, year: int, kinds: list[str], user) -> ObligationScope:
    unknown = sorted(set(kinds) - set(Agency.Kind.values))
    if unknown:
        raise ObligationError(_("不認得的機關類別：%(kinds)s") % {"kinds": "、".join(unknown)})
    scope, _created = ObligationScope.objects.update_or_create(year=year, defaults={"kinds": sorted(kinds), "updated_by": user})
    obligations_generate(year=year)
    return scope


@transaction.atomic
def reporter_rule_set(*, year: int, indicator: Indicator, scope: str, user, reason: str, agencies=(), group: Agency | None = None) -> ReporterRule:
    """AAC narrows or widens who owes ``indicator`` in ``year`` (or goes back to the plan's
    assignments); the earlier rule is kept as replaced, and the year's obligations follow
    at once when they exist. Refused, writing nothing, if it would drop an agency that
    already reported the indicator that year."""
    from django.db.models import ProtectedError
    from django.utils import timezone

    from measures.models import TargetYear

    if not user.has_role(Role.AAC_REVIEWER, Role.ADMINISTRATOR):
        raise PermissionDenied(_("只有廉政署審查人或系統管理者可以調整填報機關。"))
    reason = (reason or "").strip()
    if not reason:
        raise ObligationError(_("調整填報機關須填寫理由。"))
    if scope not in ReporterRule.Scope.values:
        raise ObligationError(_("不認得的填報範圍「%(scope)s」。") % {"scope": scope})
    target_year = TargetYear.objects.filter(year=year).select_related("plan").first()
    if target_year is None or target_year.plan_id != indicator.measure.strategy.plan_id:
        raise ObligationError(_("民國%(year)d年尚未開放，或此指標不屬於該年度適用的方案版本。") % {"year": year})
    agencies = list(agencies)
    if scope == ReporterRule.Scope.NAMED and not agencies:
        raise ObligationError(_("指定機關時至少要選一個機關。"))
    if scope == ReporterRule.Scope.GROUP and group is None:
        raise ObligationError(_("請選擇機關群組（上級機關）。"))
    if any(a.collective for a in agencies):
        raise ObligationError(_("指定機關不可為「各機關」或群組，請改選對應的範圍。"))
    now = timezone.now()
    ReporterRule.objects.filter(year=year, indicator=indicator, replaced_at__isnull=True).update(replaced_at=now)
    rule = ReporterRule.objects.create(
        year=year, indicator=indicator, scope=scope, group=group if scope == ReporterRule.Scope.GROUP else None, reason=reason,
        created_by=user, created_at=now,
    )
    if scope == ReporterRule.Scope.NAMED:
        rule.agencies.set(agencies)
    if target_year.is_published:
        try:
            with transaction.atomic():
                obligations_generate(year=year)
        except ProtectedError as error:
            names = sorted({entry.obligation.agency.name for entry in error.protected_objects})
            raise ObligationError(
                _("下列機關已填報此指標，不能從填報機關中移除：%(names)s。") % {"names": "、".join(names[:10]) + ("…" if len(names) > 10 else "")}
            ) from None
    return rule
