"""The yearly cycle of target values (年度績效目標值): open, propose, review, publish, revise.

AAC opens year N; each of year N−1's values becomes a proposal of its lead agency,
prefilled with N−1's target. Proposals follow the entries' workflow (draft →
submitted → forwarded → approved, or returned), each step a service that locks the
row and checks role, agency and state inside a transaction, with one event per
step. Publishing writes the approved proposals as year N's TargetValue rows and
generates the year's obligations; after that a value changes only by a revision
with a reason (target_value_revise).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Role
from agencies.selectors import is_agency_member
from measures.models import (
    AgencyAssignment,
    PlanVersion,
    TargetValue,
    TargetValueIndicator,
    TargetValueRevision,
    TargetValueShare,
    TargetYear,
)
from measures.target_values import CleanValue, TargetValueInputError, clean_value_input, figure_text, plain_decimal
from measures.years import roc_date_label

from ..queueing import after_commit
from ..models import TargetProposal, TargetProposalEvent
from .obligations import obligations_generate
from .periods import periods_ensure

EDITABLE_STATES = {TargetProposal.State.DRAFT, TargetProposal.State.RETURNED}
TRACKED_FIELDS = ("text", "kind", "quantity", "unit", "comparator", "grade", "due_on", "note", "shares")


class TargetSettingError(ValidationError):
    pass


class ProposalConflict(Exception):
    """Someone else saved the proposal after it was opened; carries what they saved."""

    def __init__(self, current: TargetProposal):
        self.current = current
        who = (current.updated_by.get_full_name() or current.updated_by.username) if current.updated_by else _("其他使用者")
        super().__init__(
            _("%(who)s 已於 %(when)s 儲存了這項目標值；您輸入的內容尚未儲存，請對照對方的版本後再儲存。")
            % {"who": who, "when": timezone.localtime(current.updated_at).strftime("%Y-%m-%d %H:%M")}
        )


def can_manage_target_years(user) -> bool:
    return user.has_role(Role.AAC_REVIEWER, Role.ADMINISTRATOR)


def _require_manager(user):
    if not can_manage_target_years(user):
        raise PermissionDenied(_("只有廉政署審查人或系統管理者可以辦理年度目標值的開放、核可與核定。"))


def plan_years(plan: PlanVersion) -> range:
    """The ROC years a version may have values for: to its last year, or open-ended to next year."""
    last = plan.last_year or max(timezone.localdate().year - 1911 + 1, plan.first_year)
    return range(plan.first_year, last + 1)


# ------------------------------------------------------------------ who proposes


def responsible_agency(seed: "ProposalSeed", assignments: list[AgencyAssignment]) -> Agency | None:
    """The lead agency that proposes a value: the value's own agency (9(五)), else the
    first named lead of the performance targets its indicators measure, else of the
    measure. Collectives (各機關) cannot propose; a named lead beside them does."""
    if seed.value.agency_id and seed.value.agency.collective == Agency.Collective.SINGLE:
        return seed.value.agency
    leads = [a for a in assignments if a.role == AgencyAssignment.Role.LEAD and a.agency.collective == Agency.Collective.SINGLE]
    for_targets = [a for a in leads if a.target_id and a.target.number in seed.indicator_numbers]
    whole = [a for a in leads if a.target_id is None]
    chosen = for_targets or whole or leads
    return min(chosen, key=lambda a: a.position).agency if chosen else None


@dataclass
class ProposalSeed:
    """What a new year's proposal starts from: a published value of an earlier year, placed on
    the measure and indicators of the version being set (the same ones, or those continuing them)."""

    value: TargetValue
    measure_id: int
    position: int
    indicator_ids: list[int]
    indicator_numbers: set[int]


# ------------------------------------------------------------------ opening a year


@dataclass
class OpenedYear:
    target_year: TargetYear
    proposals: int
    agencies: int
    source_year: int


def previous_published_year(*, plan: PlanVersion, year: int) -> TargetYear | None:
    return TargetYear.objects.filter(plan=plan, year__lt=year, state=TargetYear.State.PUBLISHED).order_by("-year").first()


@transaction.atomic
def target_year_open(*, plan: PlanVersion, year: int, due_on: datetime.date | None, user, note: str = "") -> OpenedYear:
    """Open ``year`` for setting: one proposal per value of the latest published year before it."""
    _require_manager(user)
    if plan.status != PlanVersion.Status.IN_FORCE:
        raise TargetSettingError(_("「%(plan)s」不是現行版本，不能開放研訂年度目標值。") % {"plan": plan})
    if year not in plan_years(plan):
        raise TargetSettingError(
            _("民國%(year)d年不在「%(plan)s」的適用年度內（民國%(first)d年起）。") % {"year": year, "plan": plan, "first": plan.first_year}
        )
    existing = TargetYear.objects.filter(year=year).select_related("plan").first()
    if existing is not None:
        if existing.plan_id != plan.pk:
            raise TargetSettingError(_("民國%(year)d年已屬於「%(plan)s」。") % {"year": year, "plan": existing.plan})
        if existing.is_published:
            raise TargetSettingError(_("民國%(year)d年的目標值已核定公布；如需變更，請逐項以「修正」辦理並填寫理由。") % {"year": year})
        raise TargetSettingError(_("民國%(year)d年已開放研訂（提報期限：%(due)s）。") % {"year": year, "due": roc_date_label(existing.due_on) or "—"})
    source = previous_published_year(plan=plan, year=year) or _earlier_version_year(plan=plan, year=year)
    if source is None:
        raise TargetSettingError(_("民國%(year)d年之前沒有已核定的目標值可供預填。") % {"year": year})
    if due_on is not None and due_on < timezone.localdate():
        raise TargetSettingError(_("提報期限%(due)s已經過去，請填今天以後的日期。") % {"due": roc_date_label(due_on)})
    now = timezone.now()
    target_year = TargetYear.objects.create(
        plan=plan, year=year, state=TargetYear.State.SETTING, source=TargetYear.Source.PORTAL, due_on=due_on, note=note.strip(),
        opened_by=user, opened_at=now,
    )
    seeds = _seeds(plan=plan, source=source)
    assignments: dict[int, list] = {}
    for assignment in AgencyAssignment.objects.filter(measure__strategy__plan=plan).select_related("agency", "target"):
        assignments.setdefault(assignment.measure_id, []).append(assignment)
    fallback = Agency.objects.filter(name="法務部廉政署").first()
    proposals = []
    for seed in seeds:
        value = seed.value
        lead = responsible_agency(seed, assignments.get(seed.measure_id, [])) or fallback
        if lead is None:
            raise TargetSettingError(_("%(measure)s 目標值 %(label)s 找不到主辦機關。") % {"measure": value.measure.reference, "label": value.label})
        proposals.append(TargetProposal(
            target_year=target_year, measure_id=seed.measure_id, lead_agency=lead, previous=value, position=seed.position,
            number=value.number, part=value.part, heading=value.heading, value_agency=value.agency, text=value.text,
            part_text=value.part_text, kind=value.kind, quantity=value.quantity, unit=value.unit, comparator=value.comparator,
            grade=value.grade, due_on=_next_year_date(value.due_on, year - source.year), note="",
            shares=[{"agency_id": s.agency_id, "quantity": plain_decimal(s.quantity)} for s in value.shares.all()],
            indicator_ids=seed.indicator_ids,
        ))
    TargetProposal.objects.bulk_create(proposals, batch_size=500)
    created = TargetProposal.objects.filter(target_year=target_year)
    TargetProposalEvent.objects.bulk_create([
        TargetProposalEvent(
            proposal=p, actor=user, action=TargetProposalEvent.Action.CREATED, to_state=p.state,
            comment=_("依民國%(year)d年目標值預填") % {"year": source.year},
        )
        for p in created
    ])
    agency_ids = sorted({p.lead_agency_id for p in proposals})
    after_commit("notify_targets_opened", target_year.pk)
    return OpenedYear(target_year=target_year, proposals=len(proposals), agencies=len(agency_ids), source_year=source.year)


def _earlier_version_year(*, plan: PlanVersion, year: int) -> TargetYear | None:
    """The first year of a revision starts from the last published year of the version it revises."""
    return (
        TargetYear.objects.filter(year__lt=year, state=TargetYear.State.PUBLISHED, plan__first_year__lt=plan.first_year)
        .select_related("plan").order_by("-year").first()
    )


def _seeds(*, plan: PlanVersion, source: TargetYear) -> list[ProposalSeed]:
    """Every value of ``source``, on this version's measures. Across a revision each value moves
    to the measure and indicators that continue it (MeasureLineage / IndicatorLineage), and the
    values of measures nothing continues are left behind."""
    from measures.models import Indicator, IndicatorLineage, MeasureLineage

    values = list(
        TargetValue.objects.filter(measure__strategy__plan=source.plan, year=source.year)
        .select_related("agency", "measure__strategy")
        .prefetch_related("indicators", "shares")
        .order_by("measure__strategy__position", "measure__number", "position")
    )
    if source.plan_id == plan.pk:
        return [
            ProposalSeed(value, value.measure_id, value.position, [i.pk for i in value.indicators.all()],
                         {i.number for i in value.indicators.all() if i.number is not None})
            for value in values
        ]
    measures = dict(MeasureLineage.objects.filter(measure__strategy__plan=plan).values_list("predecessor_id", "measure_id"))
    indicators = dict(IndicatorLineage.objects.filter(indicator__measure__strategy__plan=plan).values_list("predecessor_id", "indicator_id"))
    numbers = dict(Indicator.objects.filter(pk__in=indicators.values()).values_list("pk", "number"))
    seeds, positions = [], {}
    for value in values:
        measure_id = measures.get(value.measure_id)
        if measure_id is None:
            continue
        positions[measure_id] = positions.get(measure_id, 0) + 1
        ids = [indicators[i.pk] for i in value.indicators.all() if i.pk in indicators]
        seeds.append(ProposalSeed(value, measure_id, positions[measure_id], ids, {numbers[pk] for pk in ids if numbers[pk] is not None}))
    return seeds


def _next_year_date(day: datetime.date | None, years: int) -> datetime.date | None:
    """A milestone's due date moved into the new year, as a starting point to edit."""
    if day is None:
        return None
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# ------------------------------------------------------------------ proposing


@dataclass
class ProposalInput:
    values: dict  # text, kind, quantity, unit, comparator, grade, due_on, note, shares
    expected_version: int


def _locked(proposal: TargetProposal) -> TargetProposal:
    return (
        TargetProposal.objects.select_for_update(of=("self",))
        .select_related("target_year__plan", "lead_agency", "measure", "updated_by")
        .get(pk=proposal.pk)
    )


def _log(proposal, actor, action, from_state, changes=None, comment=""):
    TargetProposalEvent.objects.create(
        proposal=proposal, actor=actor, action=action, from_state=from_state, to_state=proposal.state, changes=changes or {}, comment=comment
    )


def _jsonable(value):
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list):
        return [{k: _jsonable(v) for k, v in item.items()} for item in value]
    return value


def text_field(item) -> str:
    """The field a person edits as 「目標值」: a part's own text, else the item's."""
    return "part_text" if item.part else "text"


def _input_value(item, name):
    return getattr(item, text_field(item)) if name == "text" else getattr(item, name)


def proposal_values(proposal: TargetProposal) -> dict:
    """A proposal's fields as a person edits them (form initial values, validation before submit)."""
    return {name: _input_value(proposal, name) for name in TRACKED_FIELDS}


def _require_setting(target_year: TargetYear):
    if target_year.is_published:
        raise TargetSettingError(
            _("民國%(year)d年的目標值已核定公布，不能再修改提案；如需變更，請由廉政署以「修正」辦理並填寫理由。") % {"year": target_year.year}
        )


def _require_state(proposal, *states):
    if proposal.state not in states:
        raise TargetSettingError(_("這項目標值目前為「%(state)s」，無法執行此操作。") % {"state": proposal.get_state_display()})


def _valid_share_agencies(shares: list[dict]) -> list[dict]:
    ids = {share["agency_id"] for share in shares}
    known = set(Agency.objects.filter(pk__in=ids).values_list("pk", flat=True))
    if ids - known:
        raise TargetValueInputError({"shares": _("機關分配中有不存在的機關。")})
    return shares


@transaction.atomic
def proposal_save(*, proposal: TargetProposal, user, data: ProposalInput) -> TargetProposal:
    """Save a draft; refuses a stale version with ProposalConflict, bad values with TargetValueInputError."""
    proposal = _locked(proposal)
    if not is_agency_member(user, proposal.lead_agency_id, Role.OFFICER):
        raise PermissionDenied(_("只有主辦機關的填報人可以填寫這項目標值。"))
    _require_setting(proposal.target_year)
    if data.expected_version != proposal.version:
        raise ProposalConflict(proposal)
    _require_state(proposal, *EDITABLE_STATES)
    clean: CleanValue = clean_value_input(data=data.values, year=proposal.year)
    _valid_share_agencies(clean.shares)
    after = {**clean.as_fields(), "shares": [{"agency_id": s["agency_id"], "quantity": plain_decimal(s["quantity"])} for s in clean.shares]}
    after.pop("figure")
    changes = {}
    for name in TRACKED_FIELDS:
        before_value, after_value = _jsonable(_input_value(proposal, name)), _jsonable(after[name])
        if name == "quantity" and before_value is not None:
            before_value = plain_decimal(proposal.quantity)
        if before_value != after_value and not (before_value in (None, "", []) and after_value in (None, "", [])):
            changes[name] = [before_value, after_value]
    # A part of a split item (7(四) (1), (2)) edits its own text; the item's text is rebuilt when published.
    after[text_field(proposal)] = after.pop("text")
    for name, value in after.items():
        setattr(proposal, name, value)
    proposal.version += 1
    proposal.updated_by = user
    proposal.save()
    _log(proposal, user, TargetProposalEvent.Action.SAVED, proposal.state, changes)
    return proposal


def _move(proposal, user, *, to_state, action, comment="", review_comment=None, extra_fields=()):
    before, proposal.state = proposal.state, to_state
    fields = ["state", "version", "updated_at", *extra_fields]
    if review_comment is not None:
        proposal.review_comment = review_comment
        fields.append("review_comment")
    proposal.version += 1
    proposal.save(update_fields=fields)
    _log(proposal, user, action, before, comment=comment)
    return proposal


@transaction.atomic
def proposal_submit(*, proposal: TargetProposal, user) -> TargetProposal:
    proposal = _locked(proposal)
    if not is_agency_member(user, proposal.lead_agency_id, Role.OFFICER):
        raise PermissionDenied(_("只有主辦機關的填報人可以送出這項目標值。"))
    _require_setting(proposal.target_year)
    _require_state(proposal, *EDITABLE_STATES)
    # What was prefilled or saved must still be a valid value of its kind.
    clean_value_input(data=proposal_values(proposal), year=proposal.year)
    proposal.submitted_at = timezone.now()
    to_state = TargetProposal.State.SUBMITTED if proposal.lead_agency.uses_agency_review else TargetProposal.State.FORWARDED
    _move(proposal, user, to_state=to_state, action=TargetProposalEvent.Action.SUBMITTED, extra_fields=["submitted_at"])
    after_commit("notify_proposal_awaiting", proposal.pk)
    return proposal


@transaction.atomic
def proposal_forward(*, proposal: TargetProposal, user) -> TargetProposal:
    proposal = _locked(proposal)
    if not is_agency_member(user, proposal.lead_agency_id, Role.AGENCY_REVIEWER):
        raise PermissionDenied(_("只有主辦機關的機關審核人可以轉送。"))
    _require_setting(proposal.target_year)
    _require_state(proposal, TargetProposal.State.SUBMITTED)
    _move(proposal, user, to_state=TargetProposal.State.FORWARDED, action=TargetProposalEvent.Action.FORWARDED)
    after_commit("notify_proposal_awaiting", proposal.pk)
    return proposal


@transaction.atomic
def proposal_return(*, proposal: TargetProposal, user, comment: str) -> TargetProposal:
    """Back to the lead agency's officers with a required reason (AAC; or the agency reviewer before forwarding)."""
    proposal = _locked(proposal)
    comment = (comment or "").strip()
    if not comment:
        raise TargetValueInputError({"review_comment": _("退回時必須填寫理由。")})
    _require_setting(proposal.target_year)
    if proposal.state in (TargetProposal.State.FORWARDED, TargetProposal.State.APPROVED):
        if not can_manage_target_years(user):
            raise PermissionDenied(_("只有廉政署審查人可以退回待審查或已核可的目標值。"))
    elif proposal.state == TargetProposal.State.SUBMITTED:
        if not is_agency_member(user, proposal.lead_agency_id, Role.AGENCY_REVIEWER):
            raise PermissionDenied(_("只有主辦機關的機關審核人可以退回。"))
    else:
        _require_state(proposal, TargetProposal.State.FORWARDED, TargetProposal.State.SUBMITTED, TargetProposal.State.APPROVED)
    _move(proposal, user, to_state=TargetProposal.State.RETURNED, action=TargetProposalEvent.Action.RETURNED, comment=comment, review_comment=comment)
    after_commit("notify_proposal_returned", proposal.pk)
    return proposal


@transaction.atomic
def proposal_approve(*, proposal: TargetProposal, user) -> TargetProposal:
    proposal = _locked(proposal)
    _require_manager(user)
    _require_setting(proposal.target_year)
    _require_state(proposal, TargetProposal.State.FORWARDED)
    _move(proposal, user, to_state=TargetProposal.State.APPROVED, action=TargetProposalEvent.Action.APPROVED, review_comment="")
    return proposal


# ------------------------------------------------------------------ publishing


@dataclass
class PublishedYear:
    target_year: TargetYear
    values: int
    obligations_created: int


@transaction.atomic
def target_year_publish(*, target_year: TargetYear, user) -> PublishedYear:
    """核定: every proposal approved → year N's TargetValue rows, then the year's obligations."""
    _require_manager(user)
    target_year = TargetYear.objects.select_for_update().select_related("plan").get(pk=target_year.pk)
    _require_setting(target_year)
    proposals = list(
        TargetProposal.objects.select_for_update(of=("self",)).filter(target_year=target_year).select_related("measure", "previous")
        .order_by("measure_id", "position")
    )
    if not proposals:
        raise TargetSettingError(_("民國%(year)d年沒有任何目標值提案，無法核定。") % {"year": target_year.year})
    pending = {}
    for proposal in proposals:
        if proposal.state != TargetProposal.State.APPROVED:
            pending[proposal.get_state_display()] = pending.get(proposal.get_state_display(), 0) + 1
    if pending:
        summary = "、".join(f"{state} {count} 項" for state, count in pending.items())
        raise TargetSettingError(_("尚有目標值未核可（%(summary)s），全部核可後才能核定公布。") % {"summary": summary})
    item_texts = _item_texts(proposals)
    values = TargetValue.objects.bulk_create([
        TargetValue(
            measure_id=p.measure_id, year=target_year.year, position=p.position, number=p.number, part=p.part, heading=p.heading,
            agency_id=p.value_agency_id, text=item_texts.get(_item_key(p), p.text), part_text=p.part_text, kind=p.kind,
            figure=CleanValue(p.text, p.kind, p.quantity, p.unit, p.comparator, p.grade, p.due_on, p.note, []).figure,
            quantity=p.quantity, unit=p.unit, comparator=p.comparator, grade=p.grade, due_on=p.due_on, note=p.note,
        )
        for p in proposals
    ])
    if any(value.pk is None for value in values):  # backends without RETURNING
        stored = {(v.measure_id, v.position): v for v in TargetValue.objects.filter(year=target_year.year, measure__strategy__plan=target_year.plan)}
        values = [stored[(p.measure_id, p.position)] for p in proposals]
    shares, links = [], []
    for proposal, value in zip(proposals, values):
        shares += [
            TargetValueShare(value=value, agency_id=s["agency_id"], position=i, quantity=Decimal(s["quantity"]), figure=figure_text(Decimal(s["quantity"]), proposal.unit))
            for i, s in enumerate(proposal.shares, start=1)
        ]
        links += [TargetValueIndicator(value=value, indicator_id=pk) for pk in proposal.indicator_ids]
    TargetValueShare.objects.bulk_create(shares)
    TargetValueIndicator.objects.bulk_create(links)
    now = timezone.now()
    target_year.state, target_year.published_at, target_year.published_by = TargetYear.State.PUBLISHED, now, user
    target_year.save(update_fields=["state", "published_at", "published_by"])
    TargetProposalEvent.objects.bulk_create([
        TargetProposalEvent(proposal=p, actor=user, action=TargetProposalEvent.Action.PUBLISHED, from_state=p.state, to_state=p.state, at=now)
        for p in proposals
    ])
    periods_ensure(year=target_year.year)
    stats = obligations_generate(year=target_year.year)
    after_commit("notify_targets_published", target_year.pk)
    return PublishedYear(target_year=target_year, values=len(values), obligations_created=stats.created)


def _item_key(proposal) -> tuple:
    return (proposal.measure_id, proposal.value_agency_id, proposal.number, proposal.previous.text if proposal.previous_id else proposal.text)


def _item_texts(proposals) -> dict:
    """A split item's text is its parts' texts together, so the item reads as its parts say."""
    parts: dict[tuple, list] = {}
    for proposal in proposals:
        if proposal.part:
            parts.setdefault(_item_key(proposal), []).append(proposal)
    return {key: "；".join(p.part_text for p in sorted(items, key=lambda p: p.part)) for key, items in parts.items() if len(items) > 1}


# ------------------------------------------------------------------ revising a published value


@transaction.atomic
def target_value_revise(*, value: TargetValue, user, data: dict, reason: str) -> TargetValueRevision:
    """A published value changes only here: with a reason, recorded with who, when, before and after."""
    _require_manager(user)
    reason = (reason or "").strip()
    if not reason:
        raise TargetValueInputError({"reason": _("修正已核定的目標值須填寫理由。")})
    value = TargetValue.objects.select_for_update().select_related("measure").get(pk=value.pk)
    if not TargetYear.objects.filter(year=value.year, state=TargetYear.State.PUBLISHED).exists():
        raise TargetSettingError(_("民國%(year)d年尚未核定，請於提案中修改。") % {"year": value.year})
    raw_shares = data.get("shares")
    if raw_shares is None:
        raw_shares = [{"agency_id": s.agency_id, "quantity": s.quantity} for s in value.shares.all()]
    clean = clean_value_input(data={**data, "shares": raw_shares}, year=value.year)
    _valid_share_agencies(clean.shares)
    fields = clean.as_fields()
    fields[text_field(value)] = fields.pop("text")
    changes = {}
    for name, after in fields.items():
        before = getattr(value, name)
        if name == "quantity":
            before, after = plain_decimal(before) or None, plain_decimal(after) or None
        if _jsonable(before) != _jsonable(after) and not (before in (None, "") and after in (None, "")):
            changes[name] = [_jsonable(before), _jsonable(after)]
    before_shares = [{"agency_id": s.agency_id, "quantity": plain_decimal(s.quantity)} for s in value.shares.all()]
    after_shares = [{"agency_id": s["agency_id"], "quantity": plain_decimal(s["quantity"])} for s in clean.shares]
    if before_shares != after_shares:
        changes["shares"] = [before_shares, after_shares]
    if not changes:
        raise TargetSettingError(_("內容與目前的目標值相同，沒有需要修正之處。"))
    for name, after in fields.items():
        setattr(value, name, after)
    value.save()
    if "shares" in changes:
        value.shares.all().delete()
        TargetValueShare.objects.bulk_create([
            TargetValueShare(value=value, agency_id=s["agency_id"], position=i, quantity=s["quantity"], figure=figure_text(s["quantity"], value.unit))
            for i, s in enumerate(clean.shares, start=1)
        ])
    return TargetValueRevision.objects.create(value=value, revised_by=user, reason=reason, changes=changes)


# ------------------------------------------------------------------ reading state


def proposal_counts(*, target_year: TargetYear) -> dict[str, int]:
    rows = TargetProposal.objects.filter(target_year=target_year).values("state").annotate(n=Count("id")).order_by()
    return {row["state"]: row["n"] for row in rows}
