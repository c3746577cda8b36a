from django.db import connection
from django.db.models import QuerySet

from ..models import Obligation
from .figures import entries_number


# A loose index scan: one index probe per year instead of reading every obligation
# (300,000 rows at full scale for ten years); both PostgreSQL and SQLite run it.
OBLIGATION_YEARS_SQL = """
WITH RECURSIVE years(year) AS (
    SELECT MAX(year) FROM {table}
    UNION ALL
    SELECT (SELECT MAX(year) FROM {table} WHERE year < years.year) FROM years WHERE years.year IS NOT NULL
)
SELECT year FROM years WHERE year IS NOT NULL
"""


def obligation_years() -> list[int]:
    """Years with obligations, newest first."""
    with connection.cursor() as cursor:
        cursor.execute(OBLIGATION_YEARS_SQL.format(table=connection.ops.quote_name(Obligation._meta.db_table)))
        return [year for (year,) in cursor.fetchall()]


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
    money (the latest for levels), Σnumerators ÷ Σdenominators × 100 for ratios;
    None for status kinds. ``including`` is an entry being saved, counted as it stands."""
    from ..models import Entry

    kind = obligation.indicator.entry_kind()
    entries = list(Entry.objects.filter(obligation=obligation).exclude(pk=getattr(including, "pk", None)).select_related("period"))
    if including is not None:
        entries.append(including)
    entries.sort(key=lambda e: e.period.number)
    return entries_number(kind=kind, aggregation=obligation.indicator.aggregation, entries=entries)
