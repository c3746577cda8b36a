"""Demo and scale data for the yearly cycle: target values for the years after 112.

Each year is made through the real workflow (reporting/services/target_setting.py):
AAC opens it, each lead agency's officer proposes a figure derived from the year
before, the agency's reviewer forwards, AAC approves and publishes. The values are
marked plainly as demo values derived from 112's, so nobody takes them for ones MOJ
published.
"""

import datetime
import math
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, Role, User
from agencies.services import role_grant
from measures.models import PlanVersion, TargetValue, TargetYear
from measures.target_values import figure_text, plain_decimal

from .models import TargetProposal
from .services import target_setting as workflow

DEMO_NOTE = "示範數值：依民國112年目標值推算，並非法務部核定公布的正式目標值。"
GROWTH = Decimal("0.03")  # counts and amounts grow by about 3% a year in the demo


def _staff(agency: Agency, role: str) -> User:
    """A demo colleague of ``agency`` holding ``role``; cannot sign in (no password)."""
    username = f"demo-{role}-{agency.pk}"
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, agency=agency, first_name=f"{agency.short_name or agency.name}示範人員")
        user.set_unusable_password()
        user.save()
    if role not in user.roles:
        role_grant(user=user, role=role, granted_by=None)
        user = User.objects.get(pk=user.pk)  # fresh role cache
    return user


def _grown(quantity: Decimal, kind: str, unit: str) -> Decimal:
    """Next year's demo figure: counts and amounts up by GROWTH, ratios unchanged."""
    if kind == TargetValue.Kind.RATIO or unit == "%":
        return quantity
    grown = quantity * (1 + GROWTH)
    if kind == TargetValue.Kind.COUNT or quantity == quantity.to_integral_value():
        return Decimal(math.ceil(grown))
    return grown.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _demo_values(proposal: TargetProposal) -> dict:
    values = {**workflow.proposal_values(proposal), "note": DEMO_NOTE}
    if proposal.quantity:
        new = _grown(proposal.quantity, proposal.kind, proposal.unit)
        shares = _scaled_shares(proposal.shares, proposal.quantity, new) if proposal.shares else []
        if shares is not None:
            values["text"] = _with_figure(values["text"], proposal.quantity, new, proposal.unit)
            values.update(quantity=new, shares=shares)
    if proposal.kind == TargetValue.Kind.MILESTONE and proposal.due_on is None:
        values["due_on"] = datetime.date(proposal.year + 1911, 12, 31)  # the plan printed none; a proposal needs one
    return values


def _with_figure(text: str, old: Decimal, new: Decimal, unit: str) -> str:
    """The text with its figure replaced, printed 「300 件」 or 「300件」 (with or without separators)."""
    for old_figure in {figure_text(old, unit), figure_text(old, unit).replace(" ", ""), f"{plain_decimal(old)} {unit}", f"{plain_decimal(old)}{unit}"}:
        if old_figure and old_figure in text:
            spaced = " " in old_figure
            return text.replace(old_figure, figure_text(new, unit) if spaced else figure_text(new, unit).replace(" ", ""), 1)
    return text


def _scaled_shares(shares: list[dict], old_total: Decimal, new_total: Decimal) -> list[dict] | None:
    """Each share grows with the total, the last taking the rounding so they still add up;
    None when that cannot be done in whole numbers (the value then stays as it was)."""
    scaled = [(Decimal(s["quantity"]) * new_total / old_total).quantize(Decimal(1), rounding=ROUND_HALF_UP) for s in shares]
    scaled[-1] = new_total - sum(scaled[:-1])
    if any(q <= 0 for q in scaled):
        return None
    return [{"agency_id": s["agency_id"], "quantity": plain_decimal(q)} for s, q in zip(shares, scaled)]


@transaction.atomic
def demo_target_year_ensure(*, year: int, aac: User, plan: PlanVersion | None = None) -> TargetYear:
    """Year ``year`` published through the workflow with demo values; idempotent."""
    existing = TargetYear.objects.filter(year=year).first()
    if existing is not None and existing.is_published:
        return existing
    plan = plan or PlanVersion.objects.get(status=PlanVersion.Status.IN_FORCE)
    if existing is None:
        existing = workflow.target_year_open(
            plan=plan, year=year, due_on=None, user=aac, note=DEMO_NOTE,
        ).target_year
    staff: dict[tuple[int, str], User] = {}

    def colleague(agency, role):
        if (agency.pk, role) not in staff:
            staff[(agency.pk, role)] = _staff(agency, role)
        return staff[(agency.pk, role)]

    for proposal in TargetProposal.objects.filter(target_year=existing).select_related("lead_agency").order_by("pk"):
        if proposal.state in workflow.EDITABLE_STATES:
            officer = colleague(proposal.lead_agency, Role.OFFICER)
            proposal = workflow.proposal_save(
                proposal=proposal, user=officer,
                data=workflow.ProposalInput(values=_demo_values(proposal), expected_version=proposal.version),
            )
            proposal = workflow.proposal_submit(proposal=proposal, user=officer)
        if proposal.state == TargetProposal.State.SUBMITTED:
            proposal = workflow.proposal_forward(proposal=proposal, user=colleague(proposal.lead_agency, Role.AGENCY_REVIEWER))
        if proposal.state == TargetProposal.State.FORWARDED:
            workflow.proposal_approve(proposal=proposal, user=aac)
    workflow.target_year_publish(target_year=existing, user=aac)
    existing.refresh_from_db()
    return existing


def demo_aac_user() -> User:
    """The AAC reviewer the demo's steps are recorded under (the demo login 'aac' when present)."""
    user = User.objects.filter(username="aac").first()
    if user is not None and user.has_role(Role.AAC_REVIEWER):
        return user
    return _staff(Agency.objects.get(name="法務部廉政署"), Role.AAC_REVIEWER)


def current_roc_year() -> int:
    return timezone.localdate().year - 1911
