"""Review queues (AAC: forwarded entries, bulk approve; agency reviewers: submitted
entries, bulk forward) and the user's notices page.

The queue reads sit at the top as selectors (scope first, then filters); the views
only translate HTTP. Every page runs a fixed number of queries whatever the queue's size.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from agencies.models import Agency, Role
from measures.models import Strategy

from ..models import Entry, Obligation, ReportingPeriod
from ..models_notices import Notice
from ..services import entries as workflow
from ..services.notices import notices_mark_read
from .obligations import positive_id

PAGE_SIZE = 50
NOTICE_PAGE_SIZE = 50

# ------------------------------------------------------------------ selectors


def agencies_reviewed_by(user) -> QuerySet[Agency]:
    """Agencies whose submitted entries the user may forward: their own, and the bodies
    under it with oversight (the workflow's rule; national roles do not widen it)."""
    if not user.has_role(Role.AGENCY_REVIEWER) or user.agency_id is None:
        return Agency.objects.none()
    if user.oversees_subordinates:
        return Agency.objects.filter(pk__in=Agency.objects.descendants(user.agency_id, include_self=True).values("pk"))
    return Agency.objects.filter(pk=user.agency_id)


def queue_agencies(*, user, state: str) -> QuerySet[Agency]:
    """Agencies whose entries the queue of ``state`` shows the user."""
    if state == Entry.State.FORWARDED:
        return Agency.objects.visible_to(user)
    return agencies_reviewed_by(user)


def queue_scope(*, user, state: str) -> QuerySet[Entry]:
    """Every entry the user's queue may touch, in any state (bulk actions load from here,
    so a selected entry that moved on meanwhile is refused by the workflow, not skipped)."""
    if state == Entry.State.FORWARDED:
        return Entry.objects.filter(obligation__in=Obligation.objects.visible_to(user))
    return Entry.objects.filter(obligation__agency__in=queue_agencies(user=user, state=state))


@dataclass
class QueueFilters:
    strategy: Strategy | None = None
    agency: Agency | None = None
    period: ReportingPeriod | None = None

    def apply(self, entries: QuerySet[Entry]) -> QuerySet[Entry]:
        if self.strategy:
            entries = entries.filter(obligation__indicator__measure__strategy=self.strategy)
        if self.agency:
            entries = entries.filter(obligation__agency=self.agency)
        if self.period:
            entries = entries.filter(period=self.period)
        return entries


def queue_filter_options(entries: QuerySet[Entry]) -> dict:
    """What the filter menus offer: the strategies, agencies and periods present in the queue."""
    return {
        "strategies": list(
            Strategy.objects.filter(pk__in=entries.values("obligation__indicator__measure__strategy"))
            .select_related("plan").order_by("plan__first_year", "position")
        ),
        "agencies": list(Agency.objects.filter(pk__in=entries.values("obligation__agency")).order_by("name")),
        "periods": list(ReportingPeriod.objects.filter(pk__in=entries.values("period")).order_by("-year", "frequency", "number")),
    }


def next_in_queue(*, user, state: str, after: Entry) -> Entry | None:
    """The oldest entry still waiting in the user's queue of ``state``, other than ``after``:
    where a reviewer goes once they have acted on one."""
    return queue_rows(queue_scope(user=user, state=state).filter(state=state).exclude(pk=after.pk)).first()


def queue_rows(entries: QuerySet[Entry]) -> QuerySet[Entry]:
    """Oldest submission first, with what a row shows in the same query."""
    return entries.select_related("obligation__agency", "obligation__indicator__measure__strategy__plan", "period").order_by("submitted_at", "pk")


# ------------------------------------------------------------------ queues


@dataclass(frozen=True)
class Queue:
    state: str
    title: str
    intro: str
    action: str  # the bulk button's label
    done: str  # success message, with %(count)d


AAC_QUEUE = Queue(
    state=Entry.State.FORWARDED, title=_lazy("廉政署審查清單"),
    intro=_lazy("各機關轉送（或直接送出）待廉政署審查的填報資料。"),
    action=_lazy("核定所選資料"), done=_lazy("已核定 %(count)d 筆資料。"),
)
AGENCY_QUEUE = Queue(
    state=Entry.State.SUBMITTED, title=_lazy("機關審核清單"),
    intro=_lazy("本機關（及督導的所屬機關）填報人送出、待機關審核的填報資料。"),
    action=_lazy("審核通過並轉送所選資料"), done=_lazy("已轉送 %(count)d 筆資料至廉政署。"),
)


def _read_filters(request, *, agencies: QuerySet[Agency]) -> QueueFilters:
    """Filters from the query string; a value that names nothing the user may filter by
    is ignored with a warning, never an error page. An agency outside ``agencies`` is
    reported like a mistyped one, so nothing reveals that it exists."""
    filters = QueueFilters()
    fields = (
        ("strategy", _("具體策略"), Strategy.objects.all()),
        ("agency", _("機關"), agencies),
        ("period", _("填報期間"), ReportingPeriod.objects.all()),
    )
    for name, label, choices in fields:
        raw = request.GET.get(name, "").strip()
        if not raw:
            continue
        pk = positive_id(raw)
        found = choices.filter(pk=pk).first() if pk else None
        if found is None:
            messages.warning(request, _("%(field)s篩選條件「%(value)s」無效，已忽略。") % {"field": label, "value": raw})
        setattr(filters, name, found)
    return filters


def _queue_page(request, queue: Queue, *, can_act: bool, act):
    scope = queue_scope(user=request.user, state=queue.state)
    if request.method == "POST":
        if not can_act:
            raise PermissionDenied(_("您沒有執行此操作的權限。"))
        _bulk(request, queue, scope, act)
        return redirect(request.get_full_path())
    # Opening the queue is what an "awaiting review" notice asks for; marking it read here
    # lets the next submission be announced again (see services.notices.notify_awaiting_review).
    notices_mark_read(user=request.user, kind=Notice.Kind.AWAITING_REVIEW)
    waiting = scope.filter(state=queue.state)
    filters = _read_filters(request, agencies=queue_agencies(user=request.user, state=queue.state))
    page = Paginator(queue_rows(filters.apply(waiting)), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reporting/review_queue.html",
        {"queue": queue, "page": page, "filters": filters, "can_act": can_act, **queue_filter_options(waiting)},
    )


def _bulk(request, queue: Queue, scope: QuerySet[Entry], act) -> None:
    """All selected entries move, or none: one transaction, the workflow service per entry."""
    raw = request.POST.getlist("entry")
    ids = {int(value) for value in raw if value.isascii() and value.isdigit()}
    if not raw:
        messages.warning(request, _("請先勾選資料。"))
        return
    entries = sorted(scope.filter(pk__in=ids).select_related("obligation__agency", "obligation__indicator__measure__strategy", "period"), key=lambda e: e.pk)
    if len(entries) != len(raw) or len(ids) != len(raw):
        messages.error(request, _("部分勾選的資料不存在或您無權處理；未處理任何資料，請重新整理後再試。"))
        return
    current = None
    try:
        with transaction.atomic():
            for current in entries:
                act(entry=current, user=request.user)
    except (ValidationError, PermissionDenied) as error:
        reason = " ".join(getattr(error, "messages", None) or [str(error)])
        messages.error(
            request,
            _("「%(agency)s %(measure)s（%(period)s）」無法處理：%(reason)s 全部 %(count)d 筆資料均未處理。") % {
                "agency": current.obligation.agency.name, "measure": current.obligation.indicator.measure.reference,
                "period": current.period.label, "reason": reason, "count": len(entries),
            },
        )
        return
    messages.success(request, queue.done % {"count": len(entries)})


def aac_review_queue(request):
    """AAC reviewers approve; administrators may look at the queue but not approve."""
    if not request.user.has_role(Role.AAC_REVIEWER, Role.ADMINISTRATOR):
        raise PermissionDenied(_("只有廉政署審查人可以開啟審查清單。"))
    return _queue_page(request, AAC_QUEUE, can_act=request.user.has_role(Role.AAC_REVIEWER), act=workflow.entry_approve)


def agency_review_queue(request):
    if not request.user.has_role(Role.AGENCY_REVIEWER):
        raise PermissionDenied(_("只有機關審核人可以開啟機關審核清單。"))
    return _queue_page(request, AGENCY_QUEUE, can_act=True, act=workflow.entry_forward)


# ------------------------------------------------------------------ notices


def notice_list(request):
    """The user's notices, unread first, newest first within each."""
    notices = Notice.objects.filter(recipient=request.user).order_by(
        Case(When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()), "-created_at", "-pk"
    )
    page = Paginator(notices, NOTICE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "reporting/notices.html", {"page": page})


@require_POST
def notices_read(request):
    """Mark the ticked notices read, or all of them."""
    if "all" in request.POST:
        count = notices_mark_read(user=request.user)
    else:
        ids = [int(value) for value in request.POST.getlist("notice") if value.isascii() and value.isdigit()]
        count = notices_mark_read(user=request.user, ids=ids) if ids else 0
    if count:
        messages.success(request, _("已將 %(count)d 則通知標示為已讀。") % {"count": count})
    else:
        messages.info(request, _("沒有需要標示為已讀的通知。"))
    return redirect("reporting:notices")


@require_POST
def notice_open(request, pk):
    """Mark one notice read and go where it points (only ever inside the portal)."""
    notice = get_object_or_404(Notice, pk=pk, recipient=request.user)
    notices_mark_read(user=request.user, ids=[notice.pk])
    if notice.link and url_has_allowed_host_and_scheme(notice.link, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(notice.link)
    return redirect("reporting:notices")
