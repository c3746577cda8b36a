from django.db.models import QuerySet

from .models import Obligation


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
