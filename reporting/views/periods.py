"""AAC reviewers set period dates, close and lock periods, and reopen them with a reason."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agencies.models import Agency, Role

from ..models import ReportingPeriod
from ..services import periods as period_services
from ..values import EntryValueError, parse_date


def _require_period_manager(user):
    if not user.has_role(Role.AAC_REVIEWER, Role.ADMINISTRATOR):
        raise PermissionDenied(_("只有廉政署審查人可以管理填報期間。"))


def period_list(request):
    _require_period_manager(request.user)
    years = sorted(set(ReportingPeriod.objects.values_list("year", flat=True)), reverse=True)
    try:
        year = int(request.GET.get("year") or (years[0] if years else 0))
    except ValueError:
        year = years[0] if years else 0
        messages.warning(request, _("年度「%(value)s」無效，已改為顯示最近年度。") % {"value": request.GET.get("year")})
    periods = ReportingPeriod.objects.filter(year=year).prefetch_related("reopenings__agency", "reopenings__reopened_by").order_by("frequency", "number")
    return render(request, "reporting/periods.html", {"year": year, "years": years, "periods": periods, "states": ReportingPeriod.State.choices})


@require_POST
def period_update(request, pk):
    _require_period_manager(request.user)
    period = get_object_or_404(ReportingPeriod, pk=pk)
    try:
        opens_on = parse_date(request.POST.get("opens_on"), field="opens_on")
        due_on = parse_date(request.POST.get("due_on"), field="due_on")
        if opens_on is None or due_on is None:
            raise EntryValueError({"due_on": _("請填寫開放日期與截止日期。")})
        period_services.period_set_dates(period=period, opens_on=opens_on, due_on=due_on, user=request.user)
        state = request.POST.get("state")
        if state in ReportingPeriod.State.values and state != period.state:
            period_services.period_set_state(period=period, state=state, user=request.user)
    except EntryValueError as error:
        messages.error(request, f"{period.label}：" + "；".join(error.errors.values()))
    except ValidationError as error:
        messages.error(request, f"{period.label}：" + " ".join(error.messages))
    else:
        messages.success(request, _("已更新 %(period)s。") % {"period": period.label})
    return _back(period)


@require_POST
def period_reopen(request, pk):
    _require_period_manager(request.user)
    period = get_object_or_404(ReportingPeriod, pk=pk)
    agency = None
    if raw := request.POST.get("agency", "").strip():
        agency = Agency.objects.filter(pk=raw).first() if raw.isdigit() else Agency.objects.filter(names__key=raw.replace(" ", "")).first()
        if agency is None:
            messages.error(request, _("找不到機關「%(value)s」。") % {"value": raw})
            return _back(period)
    try:
        period_services.period_reopen(period=period, user=request.user, reason=request.POST.get("reason", ""), agency=agency)
    except ValidationError as error:
        messages.error(request, f"{period.label}：" + " ".join(error.messages))
    else:
        messages.success(request, _("已重新開放 %(period)s（%(who)s）。") % {"period": period.label, "who": agency.name if agency else _("所有機關")})
    return _back(period)


def _back(period):
    return redirect(f"{reverse('reporting:periods')}?year={period.year}")
