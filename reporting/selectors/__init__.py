from django.db.models import QuerySet

from ..models import Obligation


def obligation_years() -> list[int]:
    """Years with obligations, newest first."""
    return list(Obligation.objects.order_by("-year").values_list("year", flat=True).distinct())


def obligations_for_agency(*, agency, year: int) -> QuerySet[Obligation]:
    return (
        Obligation.objects.filter(agency=agency, year=year)
        .select_related("indicator__measure__strategy__plan")
        .order_by("indicator__measure__strategy__position", "indicator__measure__number", "indicator__position")
    )


def obligation_table(*, user, year: int, strategy: int | None = None, agency: int | None = None, role: str = "", source: str = "") -> QuerySet[Obligation]:
    """The national table (or the user's part of it), filtered."""
    obligations = Obligation.objects.visible_to(user).filter(year=year)
    if strategy:
        obligations = obligations.filter(indicator__measure__strategy__number=strategy)
    if agency:
        obligations = obligations.filter(agency_id=agency)
    if role:
        obligations = obligations.filter(role=role)
    if source:
        obligations = obligations.filter(source=source)
    return obligations.select_related("agency", "indicator__measure__strategy__plan").order_by(
        "indicator__measure__strategy__position", "indicator__measure__number", "indicator__position", "agency__name"
    )


def year_figure(*, obligation, including=None):
    """An agency's year-to-date figure for one obligation: the sum for counts and
    money, Σnumerators ÷ Σdenominators × 100 for ratios; None for status kinds."""
    from ..models import Entry

    kind = obligation.indicator.entry_kind()
    entries = list(Entry.objects.filter(obligation=obligation).exclude(pk=getattr(including, "pk", None)).select_related("period"))
    if including is not None:
        entries.append(including)
    if kind == "quantity":
        entries.sort(key=lambda e: e.period.number)
        values = [e.quantity for e in entries if e.quantity is not None]
        if obligation.indicator.aggregation == obligation.indicator.Aggregation.LATEST:
            return values[-1] if values else None  # a level (維持 150 家): the latest, not a sum
        return sum(values) if values else None
    if kind == "ratio":
        pairs = [(e.numerator, e.denominator) for e in entries if e.numerator is not None and e.denominator]
        if not pairs:
            return None
        return sum(n for n, _ in pairs) * 100 / sum(d for _, d in pairs)
    return None
