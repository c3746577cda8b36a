"""Reading the plan: every page and export gets its data from here."""

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from agencies.models import Agency

from .models import AgencyAssignment, KeyItem, Measure, PlanVersion, Section, Strategy, TargetValue, TargetYear
from .years import ROC_OFFSET


def plan_versions() -> QuerySet[PlanVersion]:
    return PlanVersion.objects.all()


def plan_current() -> PlanVersion | None:
    """The version in force, else the newest one."""
    return PlanVersion.objects.filter(status=PlanVersion.Status.IN_FORCE).first() or PlanVersion.objects.first()


def plan_get(*, code: str) -> PlanVersion:
    return get_object_or_404(PlanVersion, code=code)


def plan_value_years(*, plan: PlanVersion) -> list[int]:
    """The years whose target values are published for a version, newest first."""
    return list(TargetYear.objects.filter(plan=plan, state=TargetYear.State.PUBLISHED).order_by("-year").values_list("year", flat=True))


def plan_value_year(*, plan: PlanVersion, asked: int | None = None, years: list[int] | None = None) -> int | None:
    """The year whose values a plan page shows: the one asked for if published, else the
    latest published year up to this year (else the latest published at all)."""
    years = plan_value_years(plan=plan) if years is None else years
    if asked in years:
        return asked
    this_year = timezone.localdate().year - ROC_OFFSET
    return next((year for year in years if year <= this_year), years[0] if years else None)


def _measure_detail_prefetches(year: int | None = None):
    values = TargetValue.objects.select_related("agency").prefetch_related("shares__agency", "indicators", "revisions__revised_by")
    if year is not None:
        values = values.filter(year=year)
    return [
        "targets",
        Prefetch("key_items", queryset=KeyItem.objects.order_by("year")),
        "indicators",
        Prefetch("values", queryset=values),
        Prefetch("assignments", queryset=AgencyAssignment.objects.select_related("agency", "target")),
    ]


def strategies_with_counts(*, plan: PlanVersion) -> QuerySet[Strategy]:
    return (
        Strategy.objects.filter(plan=plan)
        .select_related("plan", "section__parent")
        .annotate(
            measure_count=Count("measures", distinct=True),
            indicator_count=Count("measures__indicators", distinct=True),
            value_count=Count("measures__values", distinct=True),
        )
        .order_by("position")
    )


@dataclass
class SectionNode:
    section: Section | None
    strategies: list = field(default_factory=list)
    children: list = field(default_factory=list)


def plan_outline(*, plan: PlanVersion) -> list[SectionNode]:
    """Strategies grouped by area and group for older versions; one flat node otherwise."""
    strategies = list(strategies_with_counts(plan=plan))
    sections = list(Section.objects.filter(plan=plan).order_by("number"))
    if not sections:
        return [SectionNode(section=None, strategies=strategies)]
    nodes = {section.pk: SectionNode(section=section) for section in sections}
    roots = []
    for section in sections:
        if section.parent_id:
            nodes[section.parent_id].children.append(nodes[section.pk])
        else:
            roots.append(nodes[section.pk])
    for strategy in strategies:
        nodes[strategy.section_id].strategies.append(strategy)
    return roots


def plan_totals(*, plan: PlanVersion, year: int | None) -> dict:
    measures = Measure.objects.filter(strategy__plan=plan)
    return {
        "strategies": Strategy.objects.filter(plan=plan).count(),
        "measures": measures.count(),
        "targets": measures.aggregate(n=Count("targets"))["n"],
        "indicators": measures.aggregate(n=Count("indicators"))["n"],
        "values": TargetValue.objects.filter(measure__strategy__plan=plan, year=year).count() if year else 0,
    }


def strategy_get(*, plan: PlanVersion, pk: int) -> Strategy:
    return get_object_or_404(Strategy.objects.select_related("plan", "section__parent"), plan=plan, pk=pk)


def strategy_measures(*, strategy: Strategy, year: int | None) -> QuerySet[Measure]:
    return strategy.measures.select_related("strategy__plan").prefetch_related(*_measure_detail_prefetches(year or 0)).order_by("number")


def measure_get(*, plan: PlanVersion, pk: int, year: int | None) -> Measure:
    queryset = Measure.objects.select_related("strategy__plan", "strategy__section__parent").prefetch_related(*_measure_detail_prefetches(year or 0))
    return get_object_or_404(queryset, strategy__plan=plan, pk=pk)


def plan_measures_full(*, plan: PlanVersion) -> QuerySet[Measure]:
    """Every measure of a version with everything hanging off it (exports)."""
    return (
        Measure.objects.filter(strategy__plan=plan)
        .select_related("strategy__section__parent")
        .prefetch_related(*_measure_detail_prefetches())
        .order_by("strategy__position", "number")
    )


def measure_neighbours(*, measure: Measure) -> tuple[Measure | None, Measure | None]:
    siblings = list(Measure.objects.filter(strategy__plan_id=measure.strategy.plan_id).order_by("strategy__position", "number").values_list("pk", flat=True))
    index = siblings.index(measure.pk)
    ids = (siblings[index - 1] if index > 0 else None, siblings[index + 1] if index + 1 < len(siblings) else None)
    found = Measure.objects.select_related("strategy__plan").in_bulk([pk for pk in ids if pk])
    return tuple(found.get(pk) for pk in ids)


# Text search. Chinese has no spaces between words, so word-based full-text
# search (PostgreSQL's parsers included) cannot find a phrase inside a
# sentence; substring matching over a few hundred rows is exact and fast.
SEARCH_FIELDS = {
    "measure": "text",
    "strategy": "strategy__title",
    "agencies": "agencies_text",
    "target": "targets__text",
    "indicator": "indicators__text",
    "value": "values__text",
}


def search_terms(query: str) -> list[str]:
    return [term for term in (query or "").split() if term][:8]


# The plan mixes full-width and half-width punctuation (法務部（廉政署）/ 法務部(廉政署)),
# so a term matches in either spelling.
_HALF_TO_FULL = str.maketrans("(),:;", "（），：；")
_FULL_TO_HALF = str.maketrans("（），：；", "(),:;")


def search_variants(term: str) -> set[str]:
    return {term, term.translate(_HALF_TO_FULL), term.translate(_FULL_TO_HALF)}


def plan_search(*, plan: PlanVersion, query: str) -> QuerySet[Measure]:
    terms = search_terms(query)
    if not terms:
        return Measure.objects.none()
    measures = Measure.objects.filter(strategy__plan=plan)
    for term in terms:
        any_field = Q()
        for lookup in SEARCH_FIELDS.values():
            for variant in search_variants(term):
                any_field |= Q(**{f"{lookup}__icontains": variant})
        measures = measures.filter(pk__in=Measure.objects.filter(any_field).values("pk"))
    return measures.select_related("strategy__plan").prefetch_related("targets", "indicators", "values", "key_items").order_by("strategy__position", "number")


def agency_get(*, pk: int) -> Agency:
    return get_object_or_404(Agency.objects.select_related("parent"), pk=pk)


def agencies_in_plan(*, plan: PlanVersion) -> QuerySet[Agency]:
    """Agencies with duties in a version, with how many measures they lead or assist."""
    in_plan = Q(assignments__measure__strategy__plan=plan)
    return (
        Agency.objects.filter(in_plan)
        .annotate(
            lead_count=Count("assignments__measure", filter=in_plan & Q(assignments__role="lead"), distinct=True),
            assisting_count=Count("assignments__measure", filter=in_plan & Q(assignments__role="assisting"), distinct=True),
        )
        .select_related("parent")
        .order_by("-lead_count", "name")
    )


@dataclass
class AgencyDuty:
    measure: Measure
    roles: list  # [(role label, [performance target numbers]; empty for the whole measure)]
    values: list


def agency_duties(*, plan: PlanVersion, agency: Agency) -> list[AgencyDuty]:
    """What an agency leads or assists in a version, and the values that name it."""
    assignments = (
        AgencyAssignment.objects.filter(agency=agency, measure__strategy__plan=plan)
        .select_related("measure__strategy__plan", "target")
        .order_by("measure__strategy__position", "measure__number", "position")
    )
    values = TargetValue.objects.filter(Q(agency=agency) | Q(shares__agency=agency), measure__strategy__plan=plan).distinct().prefetch_related("shares__agency")
    values_by_measure = {}
    for value in values:
        values_by_measure.setdefault(value.measure_id, []).append(value)
    duties: dict[int, AgencyDuty] = {}
    for assignment in assignments:
        duty = duties.setdefault(assignment.measure_id, AgencyDuty(measure=assignment.measure, roles=[], values=values_by_measure.pop(assignment.measure_id, [])))
        role = assignment.get_role_display()
        targets = next((numbers for label, numbers in duty.roles if label == role), None)
        if targets is None:
            targets = []  # empty: the whole measure
            duty.roles.append((role, targets))
        if assignment.target:
            targets.append(assignment.target.number or assignment.target.position)
    if values_by_measure:  # values naming the agency on a measure it is not assigned to
        for measure in Measure.objects.filter(pk__in=values_by_measure).select_related("strategy__plan"):
            duties[measure.pk] = AgencyDuty(measure=measure, roles=[], values=values_by_measure[measure.pk])
    return sorted(duties.values(), key=lambda duty: (duty.measure.strategy.position, duty.measure.number))


def assignment_groups(assignments) -> list[tuple[str, list[tuple[Agency, list]]]]:
    """[(主辦, [(agency, [target numbers])]), (協辦, …)]; no numbers means the whole measure.

    Takes already-fetched assignments so pages with prefetched data run no query.
    """
    groups: dict[str, dict[Agency, list]] = {}
    for assignment in sorted(assignments, key=lambda a: (a.role != "lead", a.position)):
        agencies = groups.setdefault(assignment.get_role_display(), {})
        targets = agencies.setdefault(assignment.agency, [])
        if assignment.target:
            targets.append(assignment.target.number or assignment.target.position)
    return [(role, list(agencies.items())) for role, agencies in groups.items()]


def measures_with_key_marks(*, plan: PlanVersion, year: int) -> QuerySet[Measure]:
    """Every measure of a version, ``is_key_item`` telling whether it is 院列管 in ``year``."""
    from django.db.models import Exists, OuterRef

    return (
        Measure.objects.filter(strategy__plan=plan)
        .select_related("strategy__plan")
        .annotate(is_key_item=Exists(KeyItem.objects.filter(measure=OuterRef("pk"), year=year)))
        .order_by("strategy__position", "number")
    )
