"""Reading the yearly target-setting cycle: years, each lead agency's proposals, queues, progress.

Every function runs a fixed number of queries whatever the number of proposals
(the lead agency's page is pinned in tests/test_target_setting_pages.py).
"""

from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Role
from agencies.selectors import is_agency_member
from measures.lineage import predecessors_for_year
from measures.models import AgencyAssignment, Indicator, Measure, PerformanceTarget, PlanVersion, TargetValue, TargetYear

from ..models import TargetProposal
from .figures import Figure, IndicatorKinds, indicator_figures

OPEN_STATES = (TargetProposal.State.DRAFT, TargetProposal.State.RETURNED)


def target_year_get(*, year: int) -> TargetYear:
    target_year = TargetYear.objects.select_related("plan", "opened_by", "published_by").filter(year=year).first()
    if target_year is None:
        raise Http404(_("民國%(year)d年尚未開放研訂目標值。") % {"year": year})
    return target_year


@dataclass
class YearLine:
    year: int
    target_year: TargetYear | None
    counts: dict = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def approved(self) -> int:
        return self.counts.get(TargetProposal.State.APPROVED, 0)


def target_year_lines(*, plan: PlanVersion, years) -> list[YearLine]:
    target_years = {ty.year: ty for ty in TargetYear.objects.filter(plan=plan).select_related("opened_by", "published_by")}
    counts: dict[int, dict] = {}
    for row in TargetProposal.objects.filter(target_year__plan=plan).values("target_year__year", "state").annotate(n=Count("id")).order_by():
        counts.setdefault(row["target_year__year"], {})[row["state"]] = row["n"]
    return [YearLine(year=year, target_year=target_years.get(year), counts=counts.get(year, {})) for year in sorted(years, reverse=True)]


@dataclass
class AgencyProgress:
    agency: Agency
    counts: Counter

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def open(self) -> int:
        return sum(self.counts.get(state, 0) for state in OPEN_STATES)

    @property
    def approved(self) -> int:
        return self.counts.get(TargetProposal.State.APPROVED, 0)


def agency_progress(*, target_year: TargetYear, agencies: QuerySet[Agency] | None = None) -> list[AgencyProgress]:
    """Each lead agency's proposals by state; agencies still owing proposals first."""
    rows = TargetProposal.objects.filter(target_year=target_year)
    if agencies is not None:
        rows = rows.filter(lead_agency__in=agencies)
    by_agency: dict[int, Counter] = {}
    for row in rows.values("lead_agency_id", "state").annotate(n=Count("id")).order_by():
        by_agency.setdefault(row["lead_agency_id"], Counter())[row["state"]] = row["n"]
    names = Agency.objects.in_bulk(list(by_agency))
    lines = [AgencyProgress(agency=names[pk], counts=counts) for pk, counts in by_agency.items()]
    return sorted(lines, key=lambda line: (-line.open, line.agency.name))


def agencies_yet_to_propose(*, year: int) -> list[Agency]:
    """Lead agencies that have not yet sent all of ``year``'s proposals (for pages of a year without values)."""
    ids = TargetProposal.objects.filter(target_year__year=year, state__in=OPEN_STATES).values("lead_agency_id")
    return list(Agency.objects.filter(pk__in=ids).order_by("name"))


@dataclass
class ProposalLine:
    proposal: TargetProposal
    previous: TargetValue | None
    previous_figure: Figure | None
    share_names: list  # [(agency name, quantity)]


@dataclass
class MeasureGroup:
    measure: Measure
    targets: list
    assisting: list  # printed names of the assisting agencies
    lines: list[ProposalLine] = field(default_factory=list)


def _proposal_queryset():
    return TargetProposal.objects.select_related(
        "measure__strategy", "lead_agency", "previous", "updated_by", "value_agency"
    ).order_by("measure__strategy__position", "measure__number", "position")


def proposal_groups(*, proposals: QuerySet[TargetProposal], target_year: TargetYear) -> list[MeasureGroup]:
    """Proposals grouped by measure, each beside year N−1's value and what was achieved in N−1."""
    proposals = list(proposals)
    measure_ids = {p.measure_id for p in proposals}
    measures = (
        Measure.objects.filter(pk__in=measure_ids)
        .select_related("strategy")
        .prefetch_related(
            Prefetch("targets", queryset=PerformanceTarget.objects.order_by("position")),
            Prefetch("assignments", queryset=AgencyAssignment.objects.filter(role=AgencyAssignment.Role.ASSISTING).order_by("position")),
        )
        .in_bulk()
    )
    share_agency_ids = {share["agency_id"] for p in proposals for share in p.shares}
    share_names = dict(Agency.objects.filter(pk__in=share_agency_ids).values_list("pk", "name"))
    figures, own_figures = _previous_figures(proposals, target_year)
    groups: OrderedDict[int, MeasureGroup] = OrderedDict()
    for proposal in proposals:
        measure = measures[proposal.measure_id]
        group = groups.get(measure.pk)
        if group is None:
            group = groups[measure.pk] = MeasureGroup(
                measure=measure, targets=list(measure.targets.all()),
                assisting=list(dict.fromkeys(a.printed_name for a in measure.assignments.all())),
            )
        indicator_id = proposal.indicator_ids[0] if proposal.indicator_ids else None
        if proposal.value_agency_id and indicator_id:
            figure = own_figures.get((indicator_id, proposal.value_agency_id))
        else:
            figure = figures.get(indicator_id) if indicator_id else None
        group.lines.append(ProposalLine(
            proposal=proposal, previous=proposal.previous, previous_figure=figure,
            share_names=[(share_names.get(s["agency_id"], "?"), s["quantity"]) for s in proposal.shares],
        ))
    return list(groups.values())


def _previous_figures(proposals, target_year):
    """Year N−1's national figures (and the own-agency ones for values of one agency). When
    N−1 belongs to the version before, they are the figures of the indicators these continue."""
    previous_year = target_year.year - 1
    indicator_ids = sorted({p.indicator_ids[0] for p in proposals if p.indicator_ids})
    if not indicator_ids:
        return {}, {}
    if target_year.plan.first_year <= previous_year:  # N−1 is in this version: no lineage to follow
        carried_by = {pk: pk for pk in indicator_ids}
    else:
        carried_by = predecessors_for_year(indicator_ids, year=previous_year)  # {indicator: the one that carried it in N−1}
    if not carried_by:
        return {}, {}
    kinds = IndicatorKinds.load(sorted(set(carried_by.values())))
    found = indicator_figures(year=previous_year, quarter=4, indicators=sorted(set(carried_by.values())), kinds=kinds)
    figures = {pk: found[old] for pk, old in carried_by.items() if old in found}
    own = [(carried_by[p.indicator_ids[0]], p.value_agency_id) for p in proposals if p.value_agency_id and p.indicator_ids and p.indicator_ids[0] in carried_by]
    own_figures = {}
    if own:
        found = indicator_figures(
            year=previous_year, quarter=4, indicators=sorted({i for i, _a in own}), agencies=sorted({a for _i, a in own}),
            by=("indicator", "agency"), kinds=kinds,
        )
        carrying = defaultdict(list)
        for pk, old in carried_by.items():
            carrying[old].append(pk)
        own_figures = {(pk, agency): figure for (old, agency), figure in found.items() for pk in carrying[old]}
    return figures, own_figures


def agency_proposals(*, target_year: TargetYear, agency: Agency) -> QuerySet[TargetProposal]:
    return _proposal_queryset().filter(target_year=target_year, lead_agency=agency)


def review_proposals(*, target_year: TargetYear, state: str = TargetProposal.State.FORWARDED) -> QuerySet[TargetProposal]:
    return _proposal_queryset().filter(target_year=target_year, state=state)


def proposal_get(*, user, pk: int) -> TargetProposal:
    """A proposal the user may see: national roles every one; others their agency's (or the bodies they oversee)."""
    proposal = (
        TargetProposal.objects.select_related("target_year__plan", "measure__strategy__plan", "lead_agency", "previous", "updated_by", "value_agency")
        .filter(pk=pk, lead_agency__in=Agency.objects.visible_to(user))
        .first()
    )
    if proposal is None:
        raise Http404(_("找不到這項目標值提案。"))
    return proposal


def lead_agencies_visible(*, user, target_year: TargetYear) -> QuerySet[Agency]:
    ids = TargetProposal.objects.filter(target_year=target_year).values("lead_agency_id")
    return Agency.objects.visible_to(user).filter(pk__in=ids).order_by("name")


def can_review_for(user, agency: Agency) -> bool:
    return is_agency_member(user, agency.pk, Role.AGENCY_REVIEWER)


def reporter_lines(*, target_year: TargetYear) -> list[tuple[Indicator, object, int]]:
    """Every indicator of the year's version with its current reporter rule (or None) and how many agencies owe it."""
    from ..models import Obligation, ReporterRule

    indicators = list(
        Indicator.objects.filter(measure__strategy__plan=target_year.plan).select_related("measure__strategy")
        .order_by("measure__strategy__position", "measure__number", "position")
    )
    rules = {
        rule.indicator_id: rule
        for rule in ReporterRule.objects.filter(year=target_year.year, replaced_at__isnull=True).select_related("group", "created_by").prefetch_related("agencies")
    }
    owed = dict(Obligation.objects.filter(year=target_year.year).values_list("indicator_id").annotate(n=Count("id")).order_by())
    return [(indicator, rules.get(indicator.pk), owed.get(indicator.pk, 0)) for indicator in indicators]


def value_history(*, value: TargetValue):
    return value.revisions.select_related("revised_by").order_by("revised_at", "pk")


def plan_in_force() -> PlanVersion | None:
    return PlanVersion.objects.filter(status=PlanVersion.Status.IN_FORCE).first()


def year_without_values_message(*, year: int) -> str:
    """What a page says for a year whose target values are not published: the year is not
    open yet, or which lead agencies have still to send their proposals."""
    target_year = TargetYear.objects.filter(year=year).first()
    if target_year is None:
        next_year = timezone.localdate().year - 1911 + 1  # the furthest year anyone sets values for
        covering = PlanVersion.objects.filter(first_year__lte=year).filter(Q(last_year__gte=year) | Q(last_year__isnull=True))
        if year > next_year or not covering.exists():
            return ""  # no version applies, or a year too far ahead: the caller's own message says so
        return _("民國%(year)d年尚未開放研訂目標值，目標值核定公布後才能填報及檢視達成情形。") % {"year": year}
    if target_year.is_published:
        return ""
    waiting = agencies_yet_to_propose(year=year)
    if not waiting:
        return _("民國%(year)d年的目標值研訂中：各主辦機關均已送出提案，待審核後核定公布。") % {"year": year}
    names = "、".join(agency.name for agency in waiting[:10]) + ("…" if len(waiting) > 10 else "")
    return _("民國%(year)d年的目標值研訂中，尚未核定公布。尚未送出提案的主辦機關（%(count)d 個）：%(names)s。") % {
        "year": year, "count": len(waiting), "names": names,
    }


def proposals_matching(*, target_year: TargetYear, query: str = "") -> QuerySet[TargetProposal]:
    """The year's proposals, those whose text, measure or lead agency contains ``query``."""
    proposals = _proposal_queryset().filter(target_year=target_year)
    if query:
        proposals = proposals.filter(Q(text__icontains=query) | Q(measure__text__icontains=query) | Q(lead_agency__name__icontains=query))
    return proposals
