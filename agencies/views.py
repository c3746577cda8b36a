from django.core.paginator import Paginator
from django.shortcuts import render

from . import selectors
from .models import Agency

PAGE_SIZE = 50


class TreePaginator(Paginator):
    def _check_object_list_is_ordered(self):
        """django-tree-queries orders rows in its recursive query, which Django cannot see."""


def agency_list(request):
    query = request.GET.get("q", "").strip()[:100]
    kind = request.GET.get("kind", "")
    kind = kind if kind in Agency.Kind.values else ""
    status = request.GET.get("status", "active")
    status = status if status in ("active", "retired", "all") else "active"
    page = Paginator(selectors.agency_list(user=request.user, query=query, kind=kind, status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "agencies/agency_list.html",
        {"page": page, "query": query, "kind": kind, "status": status, "kinds": Agency.Kind.choices},
    )


def agency_tree(request):
    page = TreePaginator(selectors.agency_tree(user=request.user), 100).get_page(request.GET.get("page"))
    return render(request, "agencies/agency_tree.html", {"page": page})


def agency_detail(request, pk):
    from reporting.selectors import obligation_years, obligations_for_agency

    agency = selectors.agency_get(user=request.user, pk=pk)
    years = obligation_years()
    year = _chosen_year(request, years)
    return render(
        request,
        "agencies/agency_detail.html",
        {
            "agency": agency,
            "aliases": [n for n in agency.names.all() if not n.is_official],
            "children": Agency.objects.visible_to(request.user).filter(parent=agency).order_by("name"),
            "year": year,
            "years": years,
            "obligations": obligations_for_agency(agency=agency, year=year) if year else [],
        },
    )


def _chosen_year(request, years):
    from measures.years import parse_roc_year

    raw = request.GET.get("year")
    if raw:
        try:
            year = parse_roc_year(raw)
        except ValueError:
            return years[0] if years else None
        return year if year in years else (years[0] if years else None)
    return years[0] if years else None
