from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _

from agencies.models import Agency
from measures.models import AgencyAssignment, Strategy
from measures.years import parse_roc_year

from .. import selectors
from ..models import Obligation
from ..services import plan_for_year

PAGE_SIZE = 100


def positive_id(value):
    """A query-string id, or None when it is missing or not a positive whole number."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def obligation_list(request):
    """The national obligations table for AAC/NDC; an agency user sees their own rows."""
    years = selectors.obligation_years()
    year = years[0] if years else None
    problems = []
    if raw_year := request.GET.get("year"):
        try:
            asked = parse_roc_year(raw_year)
        except ValueError as error:
            problems.append(str(error))
        else:
            if asked in years:
                year = asked
            else:
                problems.append(_("民國%(year)d年沒有填報義務資料，改為顯示最近年度。") % {"year": asked})
    strategy = positive_id(request.GET.get("strategy"))
    agency = positive_id(request.GET.get("agency"))
    for name, value in (("strategy", strategy), ("agency", agency)):
        if request.GET.get(name) and value is None:
            problems.append(_("篩選條件「%(value)s」無效，已忽略。") % {"value": request.GET.get(name)})
    role = request.GET.get("role", "")
    role = role if role in AgencyAssignment.Role.values else ""
    source = request.GET.get("source", "")
    source = source if source in Obligation.Source.values else ""
    for problem in problems:
        messages.warning(request, problem)
    rows = selectors.obligation_table(user=request.user, year=year, strategy=strategy, agency=agency, role=role, source=source) if year else Obligation.objects.none()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reporting/obligation_list.html",
        {
            "page": page,
            "years": years,
            "year": year,
            "strategies": Strategy.objects.filter(plan=plan_for_year(year)).order_by("position") if year else [],
            "agencies": Agency.objects.visible_to(request.user).filter(obligations__year=year).distinct().order_by("name") if year else [],
            "filters": {"strategy": strategy, "agency": agency, "role": role, "source": source},
            "roles": AgencyAssignment.Role.choices,
            "sources": Obligation.Source.choices,
        },
    )
