"""The officer's page and the entry pages: thin views over selectors and the workflow services."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from agencies.models import Agency, Role
from agencies.selectors import is_agency_member

from .. import selectors_entries as selectors
from ..forms import EntryForm, ReviewForm
from ..models import Entry, Obligation, ReportingPeriod
from ..selectors.target_setting import year_without_values_message
from ..services import entries as workflow
from ..services.entries import EntryConflict, EntryInput, WorkflowError
from ..values import EntryValueError
from .evidence import evidence_panel
from .review import next_in_queue


def _year_and_quarter(request, years):
    from measures.years import parse_roc_year

    year = years[0] if years else None
    if raw := request.GET.get("year"):
        try:
            asked = parse_roc_year(raw)
            year = asked if asked in years else year
        except ValueError as error:
            messages.warning(request, str(error))
    try:
        quarter = min(max(int(request.GET.get("quarter", 1)), 1), 4)
    except ValueError:
        quarter = 1
    return year, quarter


def my_items(request):
    """What an agency owes for a quarter: officers and reviewers see their own agency;
    national roles and overseeing reviewers pick one of the agencies they may see."""
    visible = Agency.objects.visible_to(request.user)
    asked = request.GET.get("agency", "").strip()
    agency = None
    if asked:
        # People pick an agency by its name (the list offers them); an id still works for links.
        agency = (visible.filter(pk=asked) if asked.isdigit() else visible.filter(name=asked)).first()
        if agency is None:
            messages.warning(request, _("找不到您可檢視的機關「%(name)s」，改為顯示本機關。") % {"name": asked[:50]})
    if agency is None:
        agency = visible.filter(pk=request.user.agency_id).first()
    if agency is None:
        raise Http404(_("找不到可檢視的機關。"))
    years = sorted(set(ReportingPeriod.objects.values_list("year", flat=True)), reverse=True)
    year, quarter = _year_and_quarter(request, years)
    groups = selectors.agency_items(agency=agency, year=year, quarter=quarter) if year else {}
    can_pick = request.user.sees_every_agency or request.user.oversees_subordinates
    return render(
        request,
        "reporting/my_items.html",
        {
            "agency": agency, "year": year, "years": years, "quarter": quarter, "groups": groups,
            "can_pick_agency": can_pick,
            # The agencies with items that year, by name, for the picker's list.
            "agency_choices": visible.filter(pk__in=Obligation.objects.filter(year=year).values("agency_id")).order_by("name").values_list("name", flat=True) if can_pick and year else [],
            # This year's values not yet published: say so rather than show last year's items only.
            "this_year_note": year_without_values_message(year=this_year) if (this_year := timezone.localdate().year - 1911) not in years else "",
        },
    )


def entry_edit(request, obligation, period):
    obligation = selectors.obligation_for_user(user=request.user, pk=obligation)
    period = get_object_or_404(ReportingPeriod, pk=period, year=obligation.year, frequency=obligation.indicator.frequency)
    entry = Entry.objects.filter(obligation=obligation, period=period).select_related("updated_by").first()
    kind = obligation.indicator.entry_kind()
    conflict = None
    if request.method == "POST":
        form = EntryForm(request.POST, kind=kind, unit=workflow.target_unit(obligation))
        if form.is_valid():
            data = form.cleaned_data
            values = {name: data.get(name) for name in ("quantity", "numerator", "denominator", "milestone", "reached_on", "grade", "text")}
            entry_input = EntryInput(values=values, narrative=data["narrative"], shortfall_reason=data["shortfall_reason"], expected_version=data["version"])
            try:
                if "submit" in request.POST:
                    entry = workflow.entry_save_and_submit(obligation=obligation, period=period, user=request.user, data=entry_input)
                    messages.success(request, _("已送出。"))
                else:
                    entry = workflow.entry_save(obligation=obligation, period=period, user=request.user, data=entry_input)
                    messages.success(request, _("草稿已儲存。"))
                return redirect("reporting:entry_detail", pk=entry.pk)
            except EntryValueError as error:
                for name, message in error.errors.items():
                    form.add_error(name if name in form.fields else None, message)
            except EntryConflict as error:
                conflict = error.current
                # Keep what this person typed; the next save knowingly replaces the other version.
                form.data = form.data.copy()
                form.data["version"] = conflict.version
                form.add_error(None, str(error))
            except (WorkflowError, PermissionDenied) as error:
                form.add_error(None, " ".join(getattr(error, "messages", [str(error)])))
    else:
        form = EntryForm(initial=EntryForm.initial_from(entry), kind=kind, unit=workflow.target_unit(obligation))
    can_edit = request.user.has_role(Role.OFFICER) and request.user.agency_id == obligation.agency_id and (entry is None or entry.state in workflow.EDITABLE_STATES)
    return render(
        request,
        "reporting/entry_form.html",
        {
            "obligation": obligation, "period": period, "entry": entry, "form": form, "kind": kind, "conflict": conflict,
            "can_edit": can_edit, "locked": not workflow.period_accepts_changes(period, obligation.agency_id),
            "targets": obligation.indicator.values.filter(year=obligation.year).prefetch_related("shares__agency"),
            "evidence_panel": evidence_panel(request, entry),
        },
    )


def entry_detail(request, pk):
    entry = selectors.entry_for_user(user=request.user, pk=pk)
    user = request.user
    agency_id = entry.obligation.agency_id
    actions = {
        "submit": entry.state in workflow.EDITABLE_STATES and user.has_role(Role.OFFICER) and user.agency_id == agency_id,
        "forward": entry.state == Entry.State.SUBMITTED and is_agency_member(user, agency_id, Role.AGENCY_REVIEWER),
        "return": (entry.state == Entry.State.FORWARDED and user.has_role(Role.AAC_REVIEWER))
        or (entry.state == Entry.State.SUBMITTED and is_agency_member(user, agency_id, Role.AGENCY_REVIEWER)),
        "approve": entry.state == Entry.State.FORWARDED and user.has_role(Role.AAC_REVIEWER),
        "reopen": entry.state == Entry.State.APPROVED and user.has_role(Role.AAC_REVIEWER),
    }
    return render(
        request,
        "reporting/entry_detail.html",
        {
            "entry": entry, "events": entry.events.select_related("actor"), "actions": actions, "review_form": ReviewForm(),
            "evidence_panel": evidence_panel(request, entry), "queue_link": _queue_link(user),
        },
    )


def _queue_link(user) -> tuple[str, str] | None:
    """A reviewer reads an entry from their queue: the breadcrumb leads back there."""
    if user.has_role(Role.AAC_REVIEWER):
        return reverse("reporting:review_queue"), _("審查清單")
    if user.has_role(Role.AGENCY_REVIEWER):
        return reverse("reporting:agency_review_queue"), _("機關審核清單")
    return None


@require_POST
def entry_action(request, pk, action):
    entry = selectors.entry_for_user(user=request.user, pk=pk)
    comment = request.POST.get("comment", "")
    steps = {
        "submit": lambda: workflow.entry_submit(entry=entry, user=request.user),
        "forward": lambda: workflow.entry_forward(entry=entry, user=request.user),
        "return": lambda: workflow.entry_return(entry=entry, user=request.user, comment=comment),
        "approve": lambda: workflow.entry_approve(entry=entry, user=request.user),
        "reopen": lambda: workflow.entry_reopen(entry=entry, user=request.user, reason=comment),
    }
    if action not in steps:
        raise Http404
    queue_state = entry.state  # a review step takes the entry out of the queue of this state
    try:
        steps[action]()
    except EntryValueError as error:
        messages.error(request, "；".join(error.errors.values()))
        if action == "submit":
            return redirect("reporting:entry", obligation=entry.obligation_id, period=entry.period_id)
    except (WorkflowError, ValidationError) as error:
        messages.error(request, " ".join(error.messages))
    else:
        done = _("已完成：%(action)s。") % {"action": dict(ACTION_LABELS)[action]}
        if action in REVIEW_ACTIONS and queue_state in QUEUE_PAGES:
            return _to_next_in_queue(request, entry, state=queue_state, done=done)
        messages.success(request, done)
    return redirect("reporting:entry_detail", pk=entry.pk)


REVIEW_ACTIONS = {"forward", "return", "approve"}
QUEUE_PAGES = {Entry.State.SUBMITTED: "reporting:agency_review_queue", Entry.State.FORWARDED: "reporting:review_queue"}


def _to_next_in_queue(request, entry, *, state, done):
    """After a review step, on to the next entry waiting in the same queue, or back to it."""
    following = next_in_queue(user=request.user, state=state, after=entry)
    if following is None:
        messages.success(request, done + _("清單中已沒有待審的資料。"))
        return redirect(QUEUE_PAGES[state])
    messages.success(request, done + _("以下是下一筆待審資料：%(agency)s %(reference)s %(period)s。") % {
        "agency": following.obligation.agency.name, "reference": following.obligation.indicator.measure.reference, "period": following.period.label,
    })
    return redirect("reporting:entry_detail", pk=following.pk)


ACTION_LABELS = [("submit", _lazy("送出")), ("forward", _lazy("轉送廉政署")), ("return", _lazy("退回")), ("approve", _lazy("核定")), ("reopen", _lazy("重新開放"))]
