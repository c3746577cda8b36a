"""The entry workflow: save, submit, forward, return, approve, reopen.

Every step locks the entry row, checks who is acting and the current state
inside the transaction, writes the new state and one EntryEvent. Nothing else
changes an entry's state.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Role
from agencies.selectors import is_agency_member

from ..queueing import after_commit
from ..models import Entry, EntryEvent, Obligation, PeriodReopening, ReportingPeriod
from ..values import VALUE_FIELDS, EntryValueError, clean_entry_values

EDITABLE_STATES = Entry.EDITABLE_STATES
TRACKED_FIELDS = (*VALUE_FIELDS, "narrative", "shortfall_reason")


class EntryConflict(Exception):
    """Someone else saved the entry after it was opened; carries what they saved."""

    def __init__(self, current: Entry):
        self.current = current
        who = current.updated_by.get_full_name() or current.updated_by.username if current.updated_by else _("其他使用者")
        super().__init__(
            _("%(who)s 已於 %(when)s 儲存了這筆資料；您輸入的內容尚未儲存，請對照對方的版本後再儲存。")
            % {"who": who, "when": timezone.localtime(current.updated_at).strftime("%Y-%m-%d %H:%M")}
        )


class WorkflowError(ValidationError):
    pass


@dataclass
class EntryInput:
    """What a form or a spreadsheet row asks to save."""

    values: dict
    narrative: str = ""
    shortfall_reason: str = ""
    expected_version: int | None = None  # None: a new entry
    extra: dict = field(default_factory=dict)


def period_accepts_changes(period: ReportingPeriod, agency_id: int) -> bool:
    """Open and closed periods take changes; a locked one only where AAC reopened it."""
    if period.state != ReportingPeriod.State.LOCKED:
        return True
    return PeriodReopening.objects.filter(period=period, closed_at__isnull=True).filter(Q(agency__isnull=True) | Q(agency_id=agency_id)).exists()


def target_unit(obligation: Obligation) -> str:
    """The unit the year's target values of the obligation's indicator share (件, 人, 元, %), or ""."""
    units = {v.unit for v in obligation.indicator.values.all() if v.year == obligation.year}
    return units.pop() if len(units) == 1 else ""


def _log(entry, actor, action, from_state, changes=None, comment=""):
    EntryEvent.objects.create(entry=entry, actor=actor, action=action, from_state=from_state, to_state=entry.state, changes=changes or {}, comment=comment)


def _jsonable(value):
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@transaction.atomic
def entry_save(*, obligation: Obligation, period: ReportingPeriod, user, data: EntryInput) -> Entry:
    """Save a draft (new or existing). Refuses a stale version with EntryConflict."""
    if not is_agency_member(user, obligation.agency_id, Role.OFFICER):
        raise PermissionDenied(_("只有本機關的填報人可以填寫這筆資料。"))
    if period.year != obligation.year or period.frequency != obligation.indicator.frequency:
        raise WorkflowError(_("這個填報期間不適用於此項填報義務。"))
    if not period_accepts_changes(period, obligation.agency_id):
        raise WorkflowError(_("%(period)s 已鎖定，無法再修改；如需補正請洽廉政署重新開放。") % {"period": period.label})
    # Lock only the entry row: PostgreSQL cannot lock the nullable side of the outer join.
    entry = Entry.objects.select_for_update(of=("self",)).filter(obligation=obligation, period=period).select_related("updated_by").first()
    if entry is not None and data.expected_version != entry.version:
        raise EntryConflict(entry)
    if entry is not None and entry.state not in EDITABLE_STATES:
        raise WorkflowError(_("這筆資料目前為「%(state)s」，不能修改。") % {"state": entry.get_state_display()})
    values = clean_entry_values(kind=obligation.indicator.entry_kind(), data=data.values, period=period, unit=target_unit(obligation))
    values.update(narrative=(data.narrative or "").strip(), shortfall_reason=(data.shortfall_reason or "").strip())
    if entry is None:
        entry = Entry(obligation=obligation, period=period, state=Entry.State.DRAFT)
        before = {name: None for name in TRACKED_FIELDS}
    else:
        before = {name: getattr(entry, name) for name in TRACKED_FIELDS}
        entry.version += 1
    for name, value in values.items():
        setattr(entry, name, value)
    entry.updated_by = user
    entry.save()
    changes = {name: [_jsonable(before[name]), _jsonable(values[name])] for name in TRACKED_FIELDS if before[name] != values[name] and not (before[name] in (None, "") and values[name] in (None, ""))}
    _log(entry, user, EntryEvent.Action.SAVED, entry.state, changes)
    return entry


def _locked(entry: Entry) -> Entry:
    return Entry.objects.select_for_update(of=("self",)).select_related("obligation__agency", "obligation__indicator", "period").get(pk=entry.pk)


def _move(entry, user, *, to_state, action, comment="", review_comment=None, extra_fields=()):
    """Write a state change (with the optional review comment) and its history event."""
    before, entry.state = entry.state, to_state
    fields = ["state", "version", "updated_at", *extra_fields]
    if review_comment is not None:
        entry.review_comment = review_comment
        fields.append("review_comment")
    entry.version += 1
    entry.save(update_fields=fields)
    _log(entry, user, action, before, comment=comment)
    return entry


def _require_state(entry, *states):
    if entry.state not in states:
        raise WorkflowError(_("這筆資料目前為「%(state)s」，無法執行此操作。") % {"state": entry.get_state_display()})


def _missing_before_submit(entry: Entry) -> dict:
    kind = entry.obligation.indicator.entry_kind()
    problems = {}
    required = {"quantity": ("quantity",), "ratio": ("numerator", "denominator"), "milestone": ("milestone",), "grade": ("grade",), "text": ("text",)}[kind]
    for name in required:
        if getattr(entry, name) in (None, ""):
            problems[name] = _("送出前請填寫此欄。")
    if not entry.narrative:
        problems["narrative"] = _("送出前請填寫執行情形。")
    if entry.period.is_last_of_year and not entry.shortfall_reason and entry_below_target(entry):
        problems["shortfall_reason"] = _("全年未達目標值，請填寫未達成原因及策進作為。")
    return problems


def entry_below_target(entry: Entry) -> bool:
    """At year end: is the year's figure below the indicator's target value?"""
    from ..selectors import year_figure

    obligation = entry.obligation
    targets = [v for v in obligation.indicator.values.all() if v.year == obligation.year and v.quantity is not None]
    if len(targets) != 1:
        return False  # no single numeric target to compare with
    target = targets[0]
    # Only a target that is this agency's own can be missed by it: a value for the
    # agency, its share of a breakdown, or a named duty it carries alone.
    share = next((s for s in target.shares.all() if s.agency_id == obligation.agency_id), None)
    if share is not None:
        goal = share.quantity
    elif target.agency_id == obligation.agency_id or (
        target.agency_id is None and not target.shares.exists() and obligation.source == Obligation.Source.NAMED
        and Obligation.objects.filter(indicator=obligation.indicator, year=obligation.year, role="lead").count() == 1
    ):
        goal = target.quantity
    else:
        return False
    figure = year_figure(obligation=obligation, including=entry)
    if figure is None:
        return False
    if target.comparator == target.Comparator.AT_MOST:
        return figure > goal
    return figure < goal


@transaction.atomic
def entry_submit(*, entry: Entry, user) -> Entry:
    entry = _locked(entry)
    if not is_agency_member(user, entry.obligation.agency_id, Role.OFFICER):
        raise PermissionDenied(_("只有本機關的填報人可以送出這筆資料。"))
    _require_state(entry, *EDITABLE_STATES)
    if not period_accepts_changes(entry.period, entry.obligation.agency_id):
        raise WorkflowError(_("%(period)s 已鎖定，無法送出。") % {"period": entry.period.label})
    if problems := _missing_before_submit(entry):
        raise EntryValueError(problems)
    entry.submitted_at = timezone.now()
    to_state = Entry.State.SUBMITTED if entry.obligation.agency.uses_agency_review else Entry.State.FORWARDED
    _move(entry, user, to_state=to_state, action=EntryEvent.Action.SUBMITTED, extra_fields=["submitted_at"])
    after_commit("notify_awaiting_review", entry.pk)
    return entry


@transaction.atomic
def entry_save_and_submit(*, obligation: Obligation, period: ReportingPeriod, user, data: EntryInput) -> Entry:
    """Save what was typed and submit it as one step: a refused submit writes nothing, not
    even the draft, so the officer's next save is not taken for somebody else's edit."""
    entry = entry_save(obligation=obligation, period=period, user=user, data=data)
    return entry_submit(entry=entry, user=user)


@transaction.atomic
def entry_forward(*, entry: Entry, user) -> Entry:
    entry = _locked(entry)
    if not is_agency_member(user, entry.obligation.agency_id, Role.AGENCY_REVIEWER):
        raise PermissionDenied(_("只有本機關的機關審核人可以轉送。"))
    _require_state(entry, Entry.State.SUBMITTED)
    _move(entry, user, to_state=Entry.State.FORWARDED, action=EntryEvent.Action.FORWARDED)
    after_commit("notify_awaiting_review", entry.pk)
    return entry


@transaction.atomic
def entry_return(*, entry: Entry, user, comment: str) -> Entry:
    """Send back to the officer with a required comment (AAC, or the agency reviewer before forwarding)."""
    entry = _locked(entry)
    comment = (comment or "").strip()
    if not comment:
        raise EntryValueError({"review_comment": _("退回時必須填寫審查意見。")})
    if entry.state == Entry.State.FORWARDED:
        if not user.has_role(Role.AAC_REVIEWER):
            raise PermissionDenied(_("只有廉政署審查人可以退回待審查的資料。"))
    elif entry.state == Entry.State.SUBMITTED:
        if not is_agency_member(user, entry.obligation.agency_id, Role.AGENCY_REVIEWER):
            raise PermissionDenied(_("只有本機關的機關審核人可以退回。"))
    else:
        _require_state(entry, Entry.State.FORWARDED, Entry.State.SUBMITTED)
    _move(entry, user, to_state=Entry.State.RETURNED, action=EntryEvent.Action.RETURNED, comment=comment, review_comment=comment)
    after_commit("notify_returned", entry.pk)
    return entry


@transaction.atomic
def entry_approve(*, entry: Entry, user) -> Entry:
    entry = _locked(entry)
    if not user.has_role(Role.AAC_REVIEWER):
        raise PermissionDenied(_("只有廉政署審查人可以核定。"))
    _require_state(entry, Entry.State.FORWARDED)
    _move(entry, user, to_state=Entry.State.APPROVED, action=EntryEvent.Action.APPROVED, review_comment="")
    return entry


@transaction.atomic
def entry_reopen(*, entry: Entry, user, reason: str) -> Entry:
    """An approved entry changes only after AAC reopens it with a reason."""
    entry = _locked(entry)
    reason = (reason or "").strip()
    if not user.has_role(Role.AAC_REVIEWER):
        raise PermissionDenied(_("只有廉政署審查人可以重新開放已核定的資料。"))
    if not reason:
        raise EntryValueError({"review_comment": _("重新開放時必須填寫理由。")})
    _require_state(entry, Entry.State.APPROVED)
    _move(entry, user, to_state=Entry.State.RETURNED, action=EntryEvent.Action.REOPENED, comment=reason, review_comment=reason)
    after_commit("notify_returned", entry.pk)
    return entry
