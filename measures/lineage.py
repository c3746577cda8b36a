"""Lineage across plan versions: which measure and indicator of a newer version continues
which of the version before, so trends and year-over-year figures follow a line of work
across a revision.

An import proposes the matching (same reference with similar text, else the most similar
text) and AAC confirms or corrects it; the confirmed links are stored as MeasureLineage /
IndicatorLineage rows. Items are named by their reference, as people read them in the
plan: a measure as 「1(一)」 (strategy and measure number, an area and group first for
older versions: 「1-2/3(一)」), an indicator as 「1(一)#2」 (its position in the measure).
Those references are also the keys of a lineage file (``import_plan --lineage FILE``).
"""

import json
from dataclasses import dataclass, field
from functools import lru_cache

from django.db import transaction
from django.db.models import Exists, OuterRef, Value
from django.utils.translation import gettext as _

from .models import Indicator, IndicatorLineage, Lineage, Measure, MeasureLineage, PlanVersion

# How alike two texts must be (see similarity) to be proposed as one line of work: with the
# same reference, or by text alone.
SAME_REFERENCE_SIMILARITY = 0.35
TEXT_SIMILARITY = 0.6


class LineageError(Exception):
    """A lineage choice names an item that does not exist; ``problems`` as (where, what)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("；".join(f"{where}：{what}" for where, what in problems))


def measure_reference(section: list | tuple, strategy_number, measure_printed: str, measure_number) -> str:
    prefix = "-".join(str(part) for part in section) + "/" if section else ""
    return f"{prefix}{strategy_number}{measure_printed or measure_number}"


def indicator_reference(measure_ref: str, position: int) -> str:
    return f"{measure_ref}#{position}"


def _compact(text: str) -> str:
    return "".join((text or "").split())


@lru_cache(maxsize=8192)
def _bigrams(text: str) -> frozenset[str]:
    compact = _compact(text)
    if len(compact) < 2:
        return frozenset([compact]) if compact else frozenset()
    return frozenset(compact[i:i + 2] for i in range(len(compact) - 1))


def _dice(first: frozenset, second: frozenset) -> float:
    return 2 * len(first & second) / (len(first) + len(second)) if first and second else 0.0


def similarity(a: str, b: str) -> float:
    """How alike two texts are, 0–1: the Dice coefficient of their character pairs (spaces
    ignored). Pairs suit Chinese, where words are not spaced, and cost a set intersection,
    so a whole plan is matched against the version before in milliseconds."""
    return _dice(_bigrams(a), _bigrams(b))


@dataclass(frozen=True)
class Item:
    """A measure or an indicator, by reference; ``pk`` for stored rows."""

    reference: str
    text: str
    label: str = ""  # 「指標 2」: how the plan prints an indicator's number
    measure: str = ""  # an indicator's measure reference
    pk: int | None = None
    has_figures: bool = False


@dataclass
class Link:
    item: Item
    predecessor: Item | None
    basis: str | None  # Lineage.Basis, None for an item with no predecessor
    similarity: float = 0.0

    @property
    def basis_label(self) -> str:
        return str(Lineage.Basis(self.basis).label) if self.basis else _("新增（無延續）")

    @property
    def reworded(self) -> bool:
        return self.predecessor is not None and _compact(self.predecessor.text) != _compact(self.item.text)

    @property
    def unchanged(self) -> bool:
        """Continues the item of the same reference, word for word."""
        return self.predecessor is not None and self.predecessor.reference == self.item.reference and not self.reworded


@dataclass
class LineageProposal:
    previous: PlanVersion
    measures: list[Link] = field(default_factory=list)
    indicators: list[Link] = field(default_factory=list)
    old_measures: list[Item] = field(default_factory=list)
    old_indicators: list[Item] = field(default_factory=list)

    def indicators_of(self, measure_ref: str) -> list[Link]:
        return [link for link in self.indicators if link.item.measure == measure_ref]

    def grouped(self) -> list[tuple[Link, list[Link]]]:
        """Each measure's link with the links of its indicators, in plan order."""
        by_measure: dict[str, list[Link]] = {}
        for link in self.indicators:
            by_measure.setdefault(link.item.measure, []).append(link)
        return [(link, by_measure.get(link.item.reference, [])) for link in self.measures]

    def changed_groups(self) -> list[tuple[Link, list[Link]]]:
        """Only measures that changed or have an indicator that did (with those indicators)."""
        groups = []
        for measure_link, indicator_links in self.grouped():
            changed = [link for link in indicator_links if not link.unchanged]
            if changed or not measure_link.unchanged:
                groups.append((measure_link, changed))
        return groups

    def summary(self) -> dict[str, int]:
        links = [*self.measures, *self.indicators]
        return {
            "continued": sum(1 for link in links if link.predecessor and not link.reworded),
            "reworded": sum(1 for link in links if link.reworded),
            "added": sum(1 for link in links if link.predecessor is None),
            "dropped": len(self.dropped_measures()) + len(self.dropped_indicators()),
        }

    def dropped_measures(self) -> list[Item]:
        continued = {link.predecessor.reference for link in self.measures if link.predecessor}
        return [item for item in self.old_measures if item.reference not in continued]

    def dropped_indicators(self) -> list[Item]:
        continued = {link.predecessor.reference for link in self.indicators if link.predecessor}
        return [item for item in self.old_indicators if item.reference not in continued]

    def unmapped_with_figures(self) -> list[Item]:
        """Indicators of the version before that have figures and that nothing continues."""
        return [item for item in self.dropped_indicators() if item.has_figures]

    def choose(self, choices: dict, *, where: str, strict: bool = True) -> None:
        """Apply corrections: {"measures": {ref: old ref or None}, "indicators": {…}}. With
        ``strict`` false, choices about items no longer there are passed over."""
        problems = []
        for kind, links, old in (("measures", self.measures, self.old_measures), ("indicators", self.indicators, self.old_indicators)):
            chosen = choices.get(kind) or {}
            if not isinstance(chosen, dict):
                problems.append((f"{where} {kind}", _("應為「新版編號: 舊版編號」的對照。")))
                continue
            by_reference = {link.item.reference: link for link in links}
            old_by_reference = {item.reference: item for item in old}
            for reference, predecessor in chosen.items():
                link = by_reference.get(str(reference))
                if link is None and not strict:
                    continue
                if link is None:
                    problems.append((f"{where} {kind}.{reference}", _("新版本沒有編號「%(ref)s」的項目。") % {"ref": reference}))
                    continue
                if predecessor in (None, ""):
                    link.predecessor, link.basis, link.similarity = None, None, 0.0
                    continue
                old_item = old_by_reference.get(str(predecessor))
                if old_item is None and not strict:
                    continue
                if old_item is None:
                    problems.append((
                        f"{where} {kind}.{reference}",
                        _("「%(plan)s」沒有編號「%(ref)s」的項目。") % {"plan": self.previous, "ref": predecessor},
                    ))
                    continue
                if link.predecessor != old_item:
                    link.predecessor, link.basis = old_item, Lineage.Basis.MANUAL
                    link.similarity = similarity(old_item.text, link.item.text)
        if problems:
            raise LineageError(problems)

    def as_file(self) -> dict:
        """The matching in the shape ``--lineage FILE`` reads."""
        return {
            "previous_version": self.previous.code,
            "measures": {link.item.reference: link.predecessor.reference if link.predecessor else None for link in self.measures},
            "indicators": {link.item.reference: link.predecessor.reference if link.predecessor else None for link in self.indicators},
        }


# ------------------------------------------------------------------ items


def tree_items(plan: dict) -> tuple[list[Item], list[Item], dict[str, list[dict]]]:
    """The measures and indicators of an export tree, and what the tree says each continues."""
    measures, indicators, continues = [], [], {}
    for strategy in plan.get("strategies") or []:
        for measure in strategy.get("measures") or []:
            reference = measure_reference(strategy.get("section") or [], strategy.get("number"), measure.get("printed_number"), measure.get("number"))
            measures.append(Item(reference=reference, text=measure.get("text") or ""))
            if measure.get("continues"):
                continues[reference] = measure["continues"]
            for position, indicator in enumerate(measure.get("indicators") or [], start=1):
                item = Item(
                    reference=indicator_reference(reference, position), text=indicator.get("text") or "", measure=reference,
                    label=_indicator_label(indicator.get("number"), position),
                )
                indicators.append(item)
                if indicator.get("continues"):
                    continues[item.reference] = indicator["continues"]
    return measures, indicators, continues


def _indicator_label(number, position) -> str:
    return _("指標 %(n)s") % {"n": number} if number else _("第 %(n)d 個指標") % {"n": position}


def stored_measure_reference(measure: Measure) -> str:
    section = measure.strategy.section
    path = ([section.parent.number, section.number] if section.parent_id else [section.number]) if section else []
    return measure_reference(path, measure.strategy.number, measure.printed_number, measure.number)


def stored_items(plan: PlanVersion, *, figures: bool = False) -> tuple[list[Item], list[Item]]:
    """A stored version's measures and indicators (two queries of plain rows); with
    ``figures``, each indicator marked when entries hang on it (an EXISTS per indicator,
    which reads the index, not the entries)."""
    measures = Measure.objects.filter(strategy__plan=plan).order_by("strategy__position", "number").values_list(
        "pk", "text", "printed_number", "number", "strategy__number", "strategy__section__number", "strategy__section__parent__number",
    )
    references, measure_items = {}, []
    for pk, text, printed, number, strategy_number, section, area in measures:
        path = [area, section] if area is not None else ([section] if section is not None else [])
        references[pk] = measure_reference(path, strategy_number, printed, number)
        measure_items.append(Item(reference=references[pk], text=text, pk=pk))
    indicators = Indicator.objects.filter(measure__strategy__plan=plan).order_by("measure__strategy__position", "measure__number", "position")
    if figures:
        # Through the reverse relations (obligations → entries): measures needs no import of reporting.
        with_entries = Indicator.objects.filter(pk=OuterRef("pk"), obligations__entries__isnull=False)
        indicators = indicators.annotate(has_figures=Exists(with_entries))
    else:
        indicators = indicators.annotate(has_figures=Value(False))
    indicator_items = [
        Item(
            reference=indicator_reference(references[measure_id], position), text=text, measure=references[measure_id],
            label=_indicator_label(number, position), pk=pk, has_figures=has_figures,
        )
        for pk, measure_id, position, number, text, has_figures in indicators.values_list("pk", "measure_id", "position", "number", "text", "has_figures")
    ]
    return measure_items, indicator_items


def previous_version(*, code: str, first_year: int | None) -> PlanVersion | None:
    """The version a file's version follows: the latest one that starts before it."""
    if first_year is None:
        return None
    return PlanVersion.objects.exclude(code=code).filter(first_year__lt=first_year).order_by("-first_year").first()


def stored_choices(plan: PlanVersion, previous: PlanVersion) -> dict:
    """The lineage already confirmed for a stored version, as choices by reference."""
    measures = {
        stored_measure_reference(link.measure): stored_measure_reference(link.predecessor)
        for link in MeasureLineage.objects.filter(measure__strategy__plan=plan, predecessor__strategy__plan=previous).select_related(
            "measure__strategy__section__parent", "predecessor__strategy__section__parent"
        )
    }
    indicators = {
        indicator_reference(stored_measure_reference(link.indicator.measure), link.indicator.position):
            indicator_reference(stored_measure_reference(link.predecessor.measure), link.predecessor.position)
        for link in IndicatorLineage.objects.filter(indicator__measure__strategy__plan=plan, predecessor__measure__strategy__plan=previous).select_related(
            "indicator__measure__strategy__section__parent", "predecessor__measure__strategy__section__parent"
        )
    }
    return {"measures": measures, "indicators": indicators}


# ------------------------------------------------------------------ proposing


def _best(item: Item, candidates: list[Item], taken: set[str], threshold: float) -> tuple[Item | None, float]:
    best, best_score, own = None, threshold, _bigrams(item.text)
    for candidate in candidates:
        if candidate.reference in taken:
            continue
        score = _dice(_bigrams(candidate.text), own)
        if score >= best_score:
            best, best_score = candidate, score
    return best, best_score if best else 0.0


def _match(items: list[Item], old: list[Item], *, same_place) -> list[Link]:
    """Same place (reference) with similar text first, then the most similar text left over."""
    links, taken = {}, set()
    old_by_reference = {item.reference: item for item in old}
    for item in items:
        candidate = old_by_reference.get(same_place(item))
        if candidate is not None:
            score = similarity(candidate.text, item.text)
            if score >= SAME_REFERENCE_SIMILARITY:
                links[item.reference] = Link(item, candidate, Lineage.Basis.REFERENCE, score)
                taken.add(candidate.reference)
    for item in items:
        if item.reference in links:
            continue
        candidate, score = _best(item, old, taken, TEXT_SIMILARITY)
        if candidate is not None:
            links[item.reference] = Link(item, candidate, Lineage.Basis.TEXT, score)
            taken.add(candidate.reference)
        else:
            links[item.reference] = Link(item, None, None)
    return [links[item.reference] for item in items]


def lineage_propose(*, previous: PlanVersion, measures: list[Item], indicators: list[Item]) -> LineageProposal:
    old_measures, old_indicators = stored_items(previous, figures=True)
    proposal = LineageProposal(previous=previous, old_measures=old_measures, old_indicators=old_indicators)
    proposal.measures = _match(measures, old_measures, same_place=lambda item: item.reference)
    predecessor_of = {link.item.reference: link.predecessor.reference for link in proposal.measures if link.predecessor}

    def same_place(indicator: Item) -> str | None:
        # The same position in the measure it continues (which may have moved).
        old_measure = predecessor_of.get(indicator.measure)
        return indicator_reference(old_measure, int(indicator.reference.rsplit("#", 1)[1])) if old_measure else None

    proposal.indicators = _match(indicators, old_indicators, same_place=same_place)
    return proposal


def read_lineage_file(content: bytes, *, name: str) -> dict:
    """A lineage file: JSON or YAML {"measures": {new: old|null}, "indicators": {new: old|null}}."""
    import yaml

    try:
        text = content.decode("utf-8-sig")
        data = json.loads(text) if name.lower().endswith(".json") else yaml.safe_load(text)
    except (UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as error:
        raise LineageError([(name, _("無法讀取對應檔：%(error)s") % {"error": error})]) from None
    if not isinstance(data, dict) or not set(data) <= {"previous_version", "measures", "indicators"}:
        raise LineageError([(name, _("對應檔應有 measures 與 indicators 兩段「新版編號: 舊版編號」的對照。"))])
    return data


# ------------------------------------------------------------------ writing


@transaction.atomic
def lineage_write(*, plan: PlanVersion, proposal: LineageProposal, user=None) -> tuple[int, int]:
    """Store the confirmed matching for ``plan``: its links to the version before are
    replaced by these; links that stay as they were keep who confirmed them and when.
    Returns how many links were added and removed."""
    added = removed = 0
    stored_measures, stored_indicators = stored_items(plan)
    measures = {item.reference: item.pk for item in stored_measures}
    indicators = {item.reference: item.pk for item in stored_indicators}
    for model, own, links, scope in (
        (MeasureLineage, measures, proposal.measures, {"measure__strategy__plan": plan, "predecessor__strategy__plan": proposal.previous}),
        (IndicatorLineage, indicators, proposal.indicators, {"indicator__measure__strategy__plan": plan, "predecessor__measure__strategy__plan": proposal.previous}),
    ):
        subject = "measure" if model is MeasureLineage else "indicator"
        wanted = {(own[link.item.reference], link.predecessor.pk): link.basis for link in links if link.predecessor and link.item.reference in own}
        existing = {(getattr(row, f"{subject}_id"), row.predecessor_id): row for row in model.objects.filter(**scope)}
        stale = [row.pk for key, row in existing.items() if key not in wanted]
        model.objects.filter(pk__in=stale).delete()
        new = [model(**{f"{subject}_id": key[0]}, predecessor_id=key[1], basis=basis, confirmed_by=user) for key, basis in wanted.items() if key not in existing]
        model.objects.bulk_create(new)
        added, removed = added + len(new), removed + len(stale)
    return added, removed


# ------------------------------------------------------------------ reading it back


def indicator_ancestry(indicator: Indicator) -> list[Indicator]:
    """The indicator and those it continues, newest first (one predecessor per version:
    the first confirmed), so a trend can follow one line of work back across revisions."""
    chain, seen = [indicator], {indicator.pk}
    current = indicator
    while True:
        link = IndicatorLineage.objects.filter(indicator=current).select_related("predecessor__measure__strategy__plan").order_by("pk").first()
        if link is None or link.predecessor_id in seen:
            return chain
        current = link.predecessor
        chain.append(current)
        seen.add(current.pk)


def predecessors_for_year(indicator_ids, *, year: int) -> dict[int, int]:
    """{indicator id: the indicator that carried its line in ``year``}: itself when its version
    covers the year, else the one it continues there; indicators with neither are left out.
    One query when every indicator's version covers the year."""
    result = {}
    pending = {pk: pk for pk in indicator_ids}  # original → the step reached so far
    for _depth in range(10):  # versions are few; a cycle cannot run away
        if not pending:
            break
        steps = Indicator.objects.filter(pk__in=set(pending.values())).values_list("pk", "measure__strategy__plan__first_year", "measure__strategy__plan__last_year")
        earlier = set()
        for pk, first_year, last_year in steps:
            if first_year <= year and (last_year is None or year <= last_year):
                for original, step in pending.items():
                    if step == pk:
                        result[original] = pk
            elif year < first_year:
                earlier.add(pk)
        if not earlier:
            break
        links = {}
        for link in IndicatorLineage.objects.filter(indicator_id__in=earlier).order_by("pk").values_list("indicator_id", "predecessor_id"):
            links.setdefault(*link)
        pending = {original: links[step] for original, step in pending.items() if step in links}
    return result


def lineage_continues(plan: PlanVersion) -> dict[tuple[str, int], list[dict]]:
    """{("measure" | "indicator", pk): [{"plan", "reference", "basis"}]} for a version's items
    that continue items of earlier versions: the export's ``continues`` (two queries)."""
    result: dict[tuple[str, int], list[dict]] = {}
    measure_links = MeasureLineage.objects.filter(measure__strategy__plan=plan).select_related("predecessor__strategy__section__parent", "predecessor__strategy__plan")
    for link in measure_links.order_by("pk"):
        result.setdefault(("measure", link.measure_id), []).append(
            {"plan": link.predecessor.strategy.plan.code, "reference": stored_measure_reference(link.predecessor), "basis": link.basis}
        )
    indicator_links = IndicatorLineage.objects.filter(indicator__measure__strategy__plan=plan).select_related(
        "predecessor__measure__strategy__section__parent", "predecessor__measure__strategy__plan"
    )
    for link in indicator_links.order_by("pk"):
        predecessor = link.predecessor
        result.setdefault(("indicator", link.indicator_id), []).append({
            "plan": predecessor.measure.strategy.plan.code,
            "reference": indicator_reference(stored_measure_reference(predecessor.measure), predecessor.position),
            "basis": link.basis,
        })
    return result


@dataclass
class LineageStep:
    indicator: Indicator
    reference: str
    years: str  # 「民國112–115年」


def lineage_steps(indicator: Indicator) -> list[LineageStep]:
    """The indicators a trend is drawn from, newest first, each with the years it covers."""
    steps = []
    for step in indicator_ancestry(indicator):
        plan = step.measure.strategy.plan
        last = plan.last_year
        years = _("民國%(first)d年起") % {"first": plan.first_year} if last is None else (
            _("民國%(first)d年") % {"first": plan.first_year} if last == plan.first_year else _("民國%(first)d–%(last)d年") % {"first": plan.first_year, "last": last}
        )
        steps.append(LineageStep(indicator=step, reference=indicator_reference(stored_measure_reference(step.measure), step.position), years=years))
    return steps


def stored_lineage(plan: PlanVersion) -> LineageProposal | None:
    """A stored version against the version before, through its confirmed lineage: what each
    item continues (and whether it was reworded), what is new, what was dropped."""
    previous = previous_version(code=plan.code, first_year=plan.first_year)
    if previous is None:
        return None
    measures, indicators = stored_items(plan)
    proposal = LineageProposal(previous=previous)
    proposal.old_measures, proposal.old_indicators = stored_items(previous, figures=True)
    old = {item.pk: item for item in proposal.old_measures}, {item.pk: item for item in proposal.old_indicators}
    for kind, items, model, subject, olds in (
        ("measures", measures, MeasureLineage, "measure", old[0]),
        ("indicators", indicators, IndicatorLineage, "indicator", old[1]),
    ):
        links = {}
        for own, predecessor, basis in model.objects.filter(**{f"{subject}__in": [item.pk for item in items]}, predecessor__in=list(olds)).order_by("pk").values_list(
            f"{subject}_id", "predecessor_id", "basis"
        ):
            links.setdefault(own, (olds[predecessor], basis))
        setattr(proposal, kind, [
            Link(item, *links[item.pk], similarity=similarity(links[item.pk][0].text, item.text)) if item.pk in links else Link(item, None, None)
            for item in items
        ])
    return proposal
