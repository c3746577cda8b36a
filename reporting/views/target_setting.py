"""Setting each year's target values: thin views over selectors.target_setting and
services.target_setting. Who may see what is decided by the selectors' scoping
(Agency.objects.visible_to) and who may act by the services; the views only
translate their refusals into messages."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agencies.models import Agency, Role
from measures.models import Indicator, TargetValue
from measures.target_values import TargetValueInputError

from ..forms import OpenTargetYearForm, ReporterRuleForm, ReviewForm, TargetRevisionForm, TargetValueForm
from ..models import TargetProposal
from ..selectors import target_setting as selectors
from ..services import obligations as obligation_services
from ..services import target_setting as services


def _messages_of(error) -> str:
    if isinstance(error, TargetValueInputError):
        return str(error)
    return " ".join(getattr(error, "messages", [str(error)]))


def _require_manager(user):
    if not services.can_manage_target_years(user):
        raise PermissionDenied(_("只有廉政署審查人或系統管理者可以使用此功能。"))


def target_year_list(request):
    """Every year of the version in force, with its state; AAC opens the next one here."""
    plan = selectors.plan_in_force()
    if plan is None:
        raise Http404(_("尚未載入現行方案版本。"))
    lines = selectors.target_year_lines(plan=plan, years=services.plan_years(plan))
    can_manage = services.can_manage_target_years(request.user)
    own = None
    if request.user.agency_id and not request.user.sees_every_agency:
        own = request.user.agency_id
    next_year = next((line.year for line in reversed(lines) if line.target_year is None), None)
    form = OpenTargetYearForm(initial={"year": next_year}) if can_manage else None
    return render(request, "reporting/targets/years.html", {"plan": plan, "lines": lines, "can_manage": can_manage, "form": form, "own_agency": own})


@require_POST
def target_year_open(request):
    _require_manager(request.user)
    plan = selectors.plan_in_force()
    form = OpenTargetYearForm(request.POST)
    if form.is_valid():
        try:
            opened = services.target_year_open(
                plan=plan, year=form.cleaned_data["year"], due_on=form.cleaned_data["due_on"], user=request.user, note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            form.add_error(None, _messages_of(error))
        else:
            messages.success(
                request,
                _("已開放民國%(year)d年目標值研訂：依民國%(source)d年預填 %(count)d 項，已通知 %(agencies)d 個主辦機關。")
                % {"year": opened.target_year.year, "source": opened.source_year, "count": opened.proposals, "agencies": opened.agencies},
            )
            return redirect("targets:year", opened.target_year.year)
    lines = selectors.target_year_lines(plan=plan, years=services.plan_years(plan))
    return render(request, "reporting/targets/years.html", {"plan": plan, "lines": lines, "can_manage": True, "form": form}, status=400)


def target_year_detail(request, year):
    """AAC: progress of every lead agency and the publish step. Others: the agencies they may see."""
    target_year = selectors.target_year_get(year=year)
    visible = selectors.lead_agencies_visible(user=request.user, target_year=target_year)
    if not request.user.sees_every_agency and visible.count() == 1:
        return redirect("targets:agency", year, visible.get().pk)
    counts = services.proposal_counts(target_year=target_year)
    return render(request, "reporting/targets/year.html", {
        "target_year": target_year, "plan": target_year.plan,
        "progress": selectors.agency_progress(target_year=target_year, agencies=None if request.user.sees_every_agency else visible),
        "counts": [(state, label, counts.get(state, 0)) for state, label in TargetProposal.State.choices],
        "total": sum(counts.values()), "can_manage": services.can_manage_target_years(request.user),
        "ready": bool(counts) and counts.get(TargetProposal.State.APPROVED, 0) == sum(counts.values()),
    })


def _visible_agency(request, target_year, agency_id) -> Agency:
    agency = selectors.lead_agencies_visible(user=request.user, target_year=target_year).filter(pk=agency_id).first()
    if agency is None:
        raise Http404(_("找不到可檢視的主辦機關。"))
    return agency


def agency_proposals(request, year, agency):
    """A lead agency's page: each value it leads beside N−1's target and figure."""
    target_year = selectors.target_year_get(year=year)
    agency = _visible_agency(request, target_year, agency)
    proposals = selectors.agency_proposals(target_year=target_year, agency=agency)
    groups = selectors.proposal_groups(proposals=proposals, target_year=target_year)
    lines = [line for group in groups for line in group.lines]
    is_officer = request.user.has_role(Role.OFFICER) and request.user.agency_id == agency.pk
    return render(request, "reporting/targets/agency.html", {
        "target_year": target_year, "plan": target_year.plan, "agency": agency, "groups": groups,
        "is_officer": is_officer and not target_year.is_published,
        "is_reviewer": selectors.can_review_for(request.user, agency) and not target_year.is_published,
        "can_submit": is_officer and any(line.proposal.state in services.EDITABLE_STATES for line in lines),
        "can_forward": any(line.proposal.state == TargetProposal.State.SUBMITTED for line in lines),
        "previous_year": year - 1,
    })


def _bulk(request, year, agency_id, act, state, done_message):
    target_year = selectors.target_year_get(year=year)
    agency = _visible_agency(request, target_year, agency_id)
    done, problems = 0, []
    for proposal in selectors.agency_proposals(target_year=target_year, agency=agency).filter(state__in=state):
        try:
            act(proposal=proposal, user=request.user)
            done += 1
        except PermissionDenied:
            raise
        except (ValidationError, ValueError) as error:
            problems.append(f"{proposal.measure.reference} {proposal.label}：{_messages_of(error)}")
    if done:
        messages.success(request, done_message % {"count": done})
    for problem in problems:
        messages.error(request, problem)
    if not done and not problems:
        messages.info(request, _("沒有可處理的目標值。"))
    return redirect("targets:agency", year, agency.pk)


@require_POST
def agency_submit(request, year, agency):
    return _bulk(request, year, agency, services.proposal_submit, services.EDITABLE_STATES, _("已送出 %(count)d 項目標值。"))


@require_POST
def agency_forward(request, year, agency):
    return _bulk(request, year, agency, services.proposal_forward, [TargetProposal.State.SUBMITTED], _("已轉送 %(count)d 項目標值至廉政署。"))


def _share_agencies(proposal: TargetProposal):
    ids = [share["agency_id"] for share in proposal.shares]
    names = Agency.objects.in_bulk(ids)
    return [(pk, names[pk].name) for pk in ids if pk in names]


def proposal_edit(request, pk):
    proposal = selectors.proposal_get(user=request.user, pk=pk)
    shares = _share_agencies(proposal)
    is_officer = request.user.has_role(Role.OFFICER) and request.user.agency_id == proposal.lead_agency_id
    can_edit = is_officer and proposal.state in services.EDITABLE_STATES and not proposal.target_year.is_published
    conflict = None
    if request.method == "POST":
        form = TargetValueForm(request.POST, share_agencies=shares)
        if form.is_valid():
            data = services.ProposalInput(values=form.value_data(), expected_version=form.cleaned_data.get("version"))
            try:
                saved = services.proposal_save(proposal=proposal, user=request.user, data=data)
                if "submit" in request.POST:
                    services.proposal_submit(proposal=saved, user=request.user)
                    messages.success(request, _("已儲存並送出。"))
                else:
                    messages.success(request, _("已儲存草稿。"))
                return redirect("targets:proposal", pk)
            except services.ProposalConflict as error:
                conflict = error.current
                form.add_error(None, str(error))
                form.data = form.data.copy()
                form.data["version"] = conflict.version
            except TargetValueInputError as error:
                for name, message in error.errors.items():
                    form.add_error(name if name in form.fields else None, message)
            except ValidationError as error:
                form.add_error(None, _messages_of(error))
        status = 409 if conflict else 400
    else:
        form = TargetValueForm(initial=TargetValueForm.initial_from(proposal, shares=proposal.shares), share_agencies=shares)
        status = 200
    previous_figure = None
    groups = selectors.proposal_groups(proposals=selectors.agency_proposals(target_year=proposal.target_year, agency=proposal.lead_agency).filter(pk=pk), target_year=proposal.target_year)
    if groups:
        previous_figure = groups[0].lines[0].previous_figure
        group = groups[0]
    else:
        group = None
    return render(request, "reporting/targets/proposal.html", {
        "proposal": proposal, "target_year": proposal.target_year, "plan": proposal.target_year.plan, "form": form, "can_edit": can_edit,
        "conflict": conflict, "group": group, "previous_figure": previous_figure,
        "events": proposal.events.select_related("actor").order_by("at", "pk"),
        "return_form": ReviewForm(), "share_names": dict(shares),
        "can_forward": proposal.state == TargetProposal.State.SUBMITTED and selectors.can_review_for(request.user, proposal.lead_agency),
        "can_review": services.can_manage_target_years(request.user) and proposal.state in (TargetProposal.State.FORWARDED, TargetProposal.State.APPROVED)
        and not proposal.target_year.is_published,
    }, status=status)


ACTIONS = {
    "submit": (services.proposal_submit, _("已送出。")),
    "forward": (services.proposal_forward, _("已轉送廉政署。")),
    "approve": (services.proposal_approve, _("已核可。")),
}


@require_POST
def proposal_action(request, pk, action):
    proposal = selectors.proposal_get(user=request.user, pk=pk)
    back = request.POST.get("next") or reverse("targets:proposal", args=[pk])
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("targets:proposal", args=[pk])
    try:
        if action == "return":
            services.proposal_return(proposal=proposal, user=request.user, comment=request.POST.get("comment", ""))
            messages.success(request, _("已退回修正。"))
        elif action in ACTIONS:
            act, done = ACTIONS[action]
            act(proposal=proposal, user=request.user)
            messages.success(request, done)
        else:
            raise Http404(_("不認得的操作「%(action)s」。") % {"action": action})
    except (ValidationError, TargetValueInputError) as error:
        messages.error(request, f"{proposal.measure.reference} {proposal.label}：{_messages_of(error)}")
    return redirect(back)


def review_queue(request, year):
    """AAC's queue: proposals forwarded to AAC (or another state), approve or return each."""
    _require_manager(request.user)
    target_year = selectors.target_year_get(year=year)
    state = request.GET.get("state") or TargetProposal.State.FORWARDED
    if state not in TargetProposal.State.values:
        messages.warning(request, _("不認得的狀態「%(state)s」，已改為顯示待廉政署審查的項目。") % {"state": state})
        state = TargetProposal.State.FORWARDED
    groups = selectors.proposal_groups(proposals=selectors.review_proposals(target_year=target_year, state=state), target_year=target_year)
    return render(request, "reporting/targets/review.html", {
        "target_year": target_year, "plan": target_year.plan, "groups": groups, "state": state, "states": TargetProposal.State.choices,
        "previous_year": year - 1,
    })


@require_POST
def review_approve(request, year):
    """Approve the ticked proposals of the queue in one step; each is still its own guarded transition."""
    _require_manager(request.user)
    target_year = selectors.target_year_get(year=year)
    ids = [int(pk) for pk in request.POST.getlist("ids") if pk.isdigit()]
    if not ids:
        messages.warning(request, _("請先勾選要核可的目標值。"))
        return redirect("targets:review", year)
    done, problems = 0, []
    for proposal in selectors.review_proposals(target_year=target_year).filter(pk__in=ids):
        try:
            services.proposal_approve(proposal=proposal, user=request.user)
            done += 1
        except ValidationError as error:
            problems.append(f"{proposal.measure.reference} {proposal.label}：{_messages_of(error)}")
    if done:
        messages.success(request, _("已核可 %(count)d 項目標值。") % {"count": done})
    for problem in problems:
        messages.error(request, problem)
    if done + len(problems) < len(ids):
        messages.warning(request, _("有 %(count)d 項已不在待審查狀態，未處理。") % {"count": len(ids) - done - len(problems)})
    return redirect("targets:review", year)


@require_POST
def target_year_publish(request, year):
    _require_manager(request.user)
    target_year = selectors.target_year_get(year=year)
    try:
        published = services.target_year_publish(target_year=target_year, user=request.user)
    except ValidationError as error:
        messages.error(request, _messages_of(error))
    else:
        messages.success(
            request,
            _("民國%(year)d年目標值已核定公布：%(values)d 項；新增填報義務 %(obligations)d 項。")
            % {"year": year, "values": published.values, "obligations": published.obligations_created},
        )
    return redirect("targets:year", year)


def reporter_rules(request, year):
    """Who owes each indicator this year; AAC narrows or widens it with a reason."""
    target_year = selectors.target_year_get(year=year)
    if not request.user.sees_every_agency:
        raise PermissionDenied(_("只有廉政署、國發會及系統管理者可以檢視各指標的填報機關設定。"))
    return render(request, "reporting/targets/reporters.html", {
        "target_year": target_year, "plan": target_year.plan, "lines": selectors.reporter_lines(target_year=target_year),
        "can_manage": services.can_manage_target_years(request.user),
    })


def reporter_rule_edit(request, year, indicator):
    _require_manager(request.user)
    target_year = selectors.target_year_get(year=year)
    indicator = get_object_or_404(Indicator.objects.select_related("measure__strategy"), pk=indicator, measure__strategy__plan=target_year.plan)
    from ..models import ReporterRule

    history = ReporterRule.objects.filter(year=year, indicator=indicator).select_related("group", "created_by").prefetch_related("agencies").order_by("-created_at")
    current = next((rule for rule in history if rule.replaced_at is None), None)
    if request.method == "POST":
        form = ReporterRuleForm(request.POST)
        if form.is_valid():
            try:
                obligation_services.reporter_rule_set(
                    year=year, indicator=indicator, scope=form.cleaned_data["scope"], user=request.user, reason=form.cleaned_data["reason"],
                    agencies=form.cleaned_data["agencies"], group=form.cleaned_data["group"],
                )
            except obligation_services.ObligationError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("已更新 %(measure)s 指標 %(number)s 的填報機關。") % {"measure": indicator.measure.reference, "number": indicator.number or ""})
                return redirect("targets:reporters", year)
    else:
        initial = {"scope": current.scope if current else ReporterRule.Scope.PLAN}
        if current:
            initial.update(agencies=list(current.agencies.all()), group=current.group)
        form = ReporterRuleForm(initial=initial)
    return render(request, "reporting/targets/reporter_rule.html", {
        "target_year": target_year, "plan": target_year.plan, "indicator": indicator, "form": form, "history": history, "current": current,
    }, status=400 if request.method == "POST" else 200)


def value_revise(request, pk):
    """A published value changes only by a revision with a reason (AAC and administrators)."""
    _require_manager(request.user)
    value = get_object_or_404(TargetValue.objects.select_related("measure__strategy__plan"), pk=pk)
    share_agencies = [(share.agency_id, share.agency.name) for share in value.shares.select_related("agency")]
    if request.method == "POST":
        form = TargetRevisionForm(request.POST, share_agencies=share_agencies)
        if form.is_valid():
            data = form.value_data()
            if not share_agencies:
                data.pop("shares")
            try:
                services.target_value_revise(value=value, user=request.user, data=data, reason=form.cleaned_data["reason"])
            except TargetValueInputError as error:
                for name, message in error.errors.items():
                    form.add_error(name if name in form.fields else None, message)
            except ValidationError as error:
                form.add_error(None, _messages_of(error))
            else:
                messages.success(request, _("已修正目標值，並記錄修正理由。"))
                return redirect(f"{value.measure.get_absolute_url()}?year={value.year}#value-{value.pk}")
        status = 400
    else:
        shares = [{"agency_id": s.agency_id, "quantity": s.quantity} for s in value.shares.all()]
        form = TargetRevisionForm(initial=TargetValueForm.initial_from(value, shares=shares), share_agencies=share_agencies)
        status = 200
    return render(request, "reporting/targets/revise.html", {
        "value": value, "plan": value.measure.strategy.plan, "form": form, "history": selectors.value_history(value=value),
    }, status=status)
