"""Setting a year's target values: open, propose, forward, return, approve, publish, revise."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from agencies.models import Agency, Role
from measures.models import Indicator, TargetValue, TargetValueRevision, TargetYear
from measures.target_values import TargetValueInputError
from reporting.models import Notice, Obligation, ReporterRule, TargetProposal, TargetProposalEvent
from reporting.services import ObligationError, obligations_generate
from reporting.services.obligations import reporter_rule_set
from reporting.services.target_setting import (
    ProposalConflict,
    ProposalInput,
    TargetSettingError,
    proposal_approve,
    proposal_forward,
    proposal_return,
    proposal_save,
    proposal_submit,
    target_value_revise,
    target_year_open,
    target_year_publish,
)

from .conftest import find_measure
from .personas import make_personas, user_with_role

pytestmark = pytest.mark.django_db
DUE = timezone.localdate() + datetime.timedelta(days=30)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def people(reference_data):
    personas = make_personas()
    personas.officer_mjib = user_with_role("officer_mjib", "法務部調查局", Role.OFFICER, email="mjib@example.gov.tw")
    personas.officer_aac = user_with_role("officer_aac", "法務部廉政署", Role.OFFICER)
    return personas


@pytest.fixture
def opened(people, plan112):
    return target_year_open(plan=plan112, year=113, due_on=DUE, user=people.aac)


def values_of(proposal, **changes):
    data = {
        "text": proposal.text, "kind": proposal.kind, "quantity": proposal.quantity, "unit": proposal.unit, "comparator": proposal.comparator,
        "grade": proposal.grade, "due_on": proposal.due_on, "note": proposal.note, "shares": proposal.shares,
    }
    data.update(changes)
    return data


def save(proposal, user, **changes):
    proposal.refresh_from_db()
    return proposal_save(proposal=proposal, user=user, data=ProposalInput(values=values_of(proposal, **changes), expected_version=proposal.version))


def staff_of(agency, role):
    """One user per agency and role (no password: hashing one per proposal would dominate the run)."""
    from agencies.models import User
    from agencies.services import role_grant

    user = User.objects.filter(username=f"{role}-{agency.pk}").first()
    if user is None:
        user = User.objects.create(username=f"{role}-{agency.pk}", agency=agency)
        role_grant(user=user, role=role, granted_by=None)
    return user


def approve_all(target_year, aac, *, except_agency=None):
    """Push every proposal (but those of ``except_agency``) through the chain: the lead's
    officer submits, its reviewer forwards, AAC approves."""
    proposals = TargetProposal.objects.filter(target_year=target_year).select_related("lead_agency")
    if except_agency is not None:
        proposals = proposals.exclude(lead_agency=except_agency)
    for proposal in proposals:
        if proposal.state in (TargetProposal.State.DRAFT, TargetProposal.State.RETURNED):
            officer = staff_of(proposal.lead_agency, Role.OFFICER)
            if proposal.kind == "milestone" and proposal.due_on is None:
                # The 112 plan prints some milestones without a date; a proposal must have one.
                proposal = save(proposal, officer, due_on="113/12/31")
            proposal = proposal_submit(proposal=proposal, user=officer)
        if proposal.state == TargetProposal.State.SUBMITTED:
            reviewer = staff_of(proposal.lead_agency, Role.AGENCY_REVIEWER)
            proposal = proposal_forward(proposal=proposal, user=reviewer)
        if proposal.state == TargetProposal.State.FORWARDED:
            proposal_approve(proposal=proposal, user=aac)


# ------------------------------------------------------------------ opening


def test_opening_a_year_prefills_every_value_of_the_year_before_for_its_lead_agency(opened, plan112):
    assert opened.source_year == 112
    assert opened.proposals == TargetValue.objects.filter(year=112).count() == 112
    proposals = TargetProposal.objects.filter(target_year=opened.target_year)
    assert proposals.count() == 112
    assert all(p.state == TargetProposal.State.DRAFT and p.previous.year == 112 for p in proposals)
    # 7(五) 11次 is led by 法務部廉政署 with assisting agencies' shares carried over.
    split = proposals.get(measure=find_measure(plan112, 7, "(五)"), position=1)
    assert split.quantity == Decimal("11")
    assert sum(Decimal(s["quantity"]) for s in split.shares) == Decimal("11")
    # Per-agency blocks of 9(五) are proposed by the agency they name.
    for proposal in proposals.filter(value_agency__isnull=False):
        assert proposal.lead_agency_id == proposal.value_agency_id
    # Collectives never propose.
    assert not proposals.filter(lead_agency__collective__gt="").exists()
    assert TargetProposalEvent.objects.filter(proposal__target_year=opened.target_year, action="created").count() == 112
    assert opened.target_year.state == TargetYear.State.SETTING and opened.target_year.due_on == DUE


def test_opening_notifies_the_officers_of_each_lead_agency(people, plan112, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        target_year_open(plan=plan112, year=113, due_on=DUE, user=people.aac)
    notice = Notice.objects.get(recipient=people.officer_mjib, kind=Notice.Kind.TARGETS_OPENED)
    assert "民國113年" in notice.title and f"/targets/113/agencies/{people.officer_mjib.agency_id}/" == notice.link


@pytest.mark.parametrize(
    ("year", "message"),
    [(111, "不在"), (112, "已核定公布"), (200, "不在")],
)
def test_opening_refuses_a_year_outside_the_version_or_already_published(people, plan112, year, message):
    with pytest.raises(TargetSettingError, match=message):
        target_year_open(plan=plan112, year=year, due_on=DUE, user=people.aac)
    assert not TargetProposal.objects.exists()


def test_opening_twice_is_refused_and_only_aac_may_open(people, plan112, opened):
    with pytest.raises(TargetSettingError, match="已開放研訂"):
        target_year_open(plan=plan112, year=113, due_on=DUE, user=people.aac)
    with pytest.raises(PermissionDenied):
        target_year_open(plan=plan112, year=114, due_on=DUE, user=people.officer_mjib)
    assert not TargetYear.objects.filter(year=114).exists()


def test_a_superseded_version_cannot_open_years(people, plan101):
    with pytest.raises(TargetSettingError, match="不是現行版本"):
        target_year_open(plan=plan101, year=113, due_on=DUE, user=people.aac)


# ------------------------------------------------------------------ proposing


def mjib_proposal(opened):
    return TargetProposal.objects.filter(target_year=opened.target_year, lead_agency__name="法務部調查局", kind="count").order_by("pk").first()


def test_officer_saves_a_new_figure_with_a_note_and_every_change_is_in_the_history(opened, people):
    proposal = mjib_proposal(opened)
    saved = save(proposal, people.officer_mjib, quantity="1萬5,000", note="依近三年平均調高")
    assert saved.quantity == Decimal("15000") and saved.version == 2
    event = saved.events.get(action="saved")
    assert event.changes["quantity"][1] == "15000" and event.changes["note"] == ["", "依近三年平均調高"]
    assert event.actor == people.officer_mjib


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"quantity": "-3"}, "quantity", "不可為負數"),
        ({"quantity": "三百"}, "quantity", "不是數字"),
        ({"quantity": "12.5"}, "quantity", "整數"),
        ({"kind": "ratio", "unit": "%", "quantity": "120"}, "quantity", "100%"),
        ({"kind": "milestone", "quantity": None, "unit": ""}, "due_on", "完成期限"),
        ({"kind": "grade", "quantity": None, "unit": ""}, "grade", "等級"),
        ({"kind": "money", "unit": ""}, "unit", "單位"),
        ({"kind": "bogus"}, "kind", "類型須為"),
        ({"text": "  "}, "text", "目標值文字"),
    ],
)
def test_bad_values_are_refused_by_field_and_nothing_is_written(opened, people, changes, field, message):
    proposal = mjib_proposal(opened)
    before = (proposal.quantity, proposal.version, proposal.kind)
    with pytest.raises(TargetValueInputError) as error:
        save(proposal, people.officer_mjib, **changes)
    assert message in error.value.errors[field]
    proposal.refresh_from_db()
    assert (proposal.quantity, proposal.version, proposal.kind) == before
    assert not proposal.events.filter(action="saved").exists()


def test_a_split_value_must_add_up(opened, people, plan112):
    proposal = TargetProposal.objects.get(target_year=opened.target_year, measure=find_measure(plan112, 7, "(五)"), position=1)
    officer = user_with_role("officer_split", proposal.lead_agency.name, Role.OFFICER)
    shares = [{"agency_id": s["agency_id"], "quantity": s["quantity"]} for s in proposal.shares]
    shares[0]["quantity"] = str(Decimal(shares[0]["quantity"]) + 1)
    with pytest.raises(TargetValueInputError, match="合計"):
        save(proposal, officer, shares=shares)
    saved = save(proposal, officer, quantity="12", shares=shares)
    assert saved.quantity == 12 and sum(Decimal(s["quantity"]) for s in saved.shares) == 12


def test_two_people_saving_the_same_value_the_second_is_told(opened, people):
    proposal = mjib_proposal(opened)
    colleague = user_with_role("colleague", "法務部調查局", Role.OFFICER)
    stale_version = proposal.version
    save(proposal, people.officer_mjib, quantity="500")
    with pytest.raises(ProposalConflict) as conflict:
        proposal_save(proposal=proposal, user=colleague, data=ProposalInput(values=values_of(proposal, quantity="600"), expected_version=stale_version))
    assert conflict.value.current.quantity == 500
    proposal.refresh_from_db()
    assert proposal.quantity == 500


def test_only_the_lead_agencys_officer_may_propose(opened, people):
    proposal = mjib_proposal(opened)
    for outsider in (people.officer_a, people.reviewer, people.aac):
        with pytest.raises(PermissionDenied):
            save(proposal, outsider, quantity="1")
    proposal.refresh_from_db()
    assert proposal.version == 1


# ------------------------------------------------------------------ the chain


def test_submit_forward_return_resubmit_approve(opened, people, django_capture_on_commit_callbacks):
    proposal = mjib_proposal(opened)
    proposal = proposal_submit(proposal=proposal, user=people.officer_mjib)
    assert proposal.state == TargetProposal.State.SUBMITTED
    with pytest.raises(PermissionDenied):
        proposal_approve(proposal=proposal, user=people.reviewer)
    proposal = proposal_forward(proposal=proposal, user=people.reviewer)  # 法務部's reviewer oversees 調查局
    assert proposal.state == TargetProposal.State.FORWARDED
    with pytest.raises(TargetValueInputError):
        proposal_return(proposal=proposal, user=people.aac, comment=" ")
    proposal.refresh_from_db()
    assert proposal.state == TargetProposal.State.FORWARDED
    with django_capture_on_commit_callbacks(execute=True):
        proposal = proposal_return(proposal=proposal, user=people.aac, comment="請說明調整依據")
    assert proposal.state == TargetProposal.State.RETURNED and proposal.review_comment == "請說明調整依據"
    assert Notice.objects.filter(recipient=people.officer_mjib, kind=Notice.Kind.TARGETS_RETURNED).exists()
    save(proposal, people.officer_mjib, note="依 112 年實績")
    proposal = proposal_submit(proposal=proposal, user=people.officer_mjib)
    proposal = proposal_forward(proposal=proposal, user=people.reviewer)
    proposal = proposal_approve(proposal=proposal, user=people.aac)
    assert proposal.state == TargetProposal.State.APPROVED and proposal.review_comment == ""
    actions = list(proposal.events.values_list("action", flat=True))
    assert actions == ["created", "submitted", "forwarded", "returned", "saved", "submitted", "forwarded", "approved"]


def test_an_approved_proposal_can_no_longer_be_saved(opened, people):
    proposal = proposal_submit(proposal=mjib_proposal(opened), user=people.officer_mjib)
    proposal_forward(proposal=proposal, user=people.reviewer)
    proposal_approve(proposal=proposal, user=people.aac)
    with pytest.raises(TargetSettingError, match="已核可"):
        save(proposal, people.officer_mjib, quantity="9")


# ------------------------------------------------------------------ publishing


def test_publishing_needs_every_value_approved_and_writes_nothing_until_then(opened, people):
    with pytest.raises(TargetSettingError, match="草稿 112 項"):
        target_year_publish(target_year=opened.target_year, user=people.aac)
    assert not TargetValue.objects.filter(year=113).exists()
    assert not Obligation.objects.filter(year=113).exists()
    with pytest.raises(ObligationError, match="研訂中"):
        obligations_generate(year=113)


def test_publishing_writes_the_years_values_and_obligations_and_is_final(opened, people, plan112, django_capture_on_commit_callbacks):
    proposal = mjib_proposal(opened)
    save(proposal, people.officer_mjib, quantity="777")
    approve_all(opened.target_year, people.aac)
    with django_capture_on_commit_callbacks(execute=True):
        published = target_year_publish(target_year=opened.target_year, user=people.aac)
    assert published.values == 112 and published.obligations_created > 0
    values_113 = TargetValue.objects.filter(year=113)
    assert values_113.count() == 112
    assert values_113.get(measure=proposal.measure, position=proposal.position).quantity == 777
    split = values_113.get(measure=find_measure(plan112, 7, "(五)"), position=1)
    assert split.shares.count() == 4 and sum(s.quantity for s in split.shares.all()) == split.quantity
    assert set(values_113.filter(indicators__isnull=False).values_list("pk", flat=True))
    # The year's obligations match what generate_obligations makes, and running it again changes nothing.
    again = obligations_generate(year=113)
    assert (again.created, again.deleted) == (0, 0)
    assert Obligation.objects.filter(year=113).count() == again.created + published.obligations_created
    opened.target_year.refresh_from_db()
    assert opened.target_year.is_published and opened.target_year.published_by == people.aac
    assert Notice.objects.filter(kind=Notice.Kind.TARGETS_PUBLISHED, recipient=people.officer_mjib).exists()
    with pytest.raises(TargetSettingError, match="已核定公布"):
        save(proposal, people.officer_mjib, quantity="1")
    with pytest.raises(TargetSettingError, match="已核定公布"):
        target_year_publish(target_year=opened.target_year, user=people.aac)
    assert TargetValue.objects.filter(year=113).count() == 112


def test_a_published_value_changes_only_by_a_revision_with_a_reason(opened, people):
    approve_all(opened.target_year, people.aac)
    target_year_publish(target_year=opened.target_year, user=people.aac)
    value = TargetValue.objects.filter(year=113, kind="count").order_by("pk").first()
    old = value.quantity
    data = {"text": value.text, "kind": value.kind, "quantity": old + 5, "unit": value.unit, "comparator": value.comparator, "note": value.note}
    with pytest.raises(TargetValueInputError, match="理由"):
        target_value_revise(value=value, user=people.aac, data=data, reason="")
    with pytest.raises(PermissionDenied):
        target_value_revise(value=value, user=people.officer_mjib, data=data, reason="x")
    value.refresh_from_db()
    assert value.quantity == old and not TargetValueRevision.objects.exists()
    revision = target_value_revise(value=value, user=people.aac, data=data, reason="行政院核定調整")
    value.refresh_from_db()
    assert value.quantity == old + 5
    assert revision.changes["quantity"] == [format(old.normalize(), "f"), format((old + 5).normalize(), "f")]
    assert revision.revised_by == people.aac and revision.reason == "行政院核定調整"
    with pytest.raises(TargetSettingError, match="相同"):
        target_value_revise(value=value, user=people.aac, data=data, reason="again")


# ------------------------------------------------------------------ who reports


def transparency_indicator(plan112):
    return Indicator.objects.get(measure=find_measure(plan112, 1, "(一)"), number=2)


def test_aac_narrows_an_every_agency_indicator_to_named_agencies_with_a_reason(opened, people, plan112):
    approve_all(opened.target_year, people.aac)
    target_year_publish(target_year=opened.target_year, user=people.aac)
    indicator = transparency_indicator(plan112)
    assert Obligation.objects.filter(year=113, indicator=indicator).count() > 10
    aac_agency = Agency.objects.get(name="法務部廉政署")
    with pytest.raises(ObligationError, match="理由"):
        reporter_rule_set(year=113, indicator=indicator, scope=ReporterRule.Scope.NAMED, agencies=[aac_agency], user=people.aac, reason="")
    rule = reporter_rule_set(year=113, indicator=indicator, scope=ReporterRule.Scope.NAMED, agencies=[aac_agency], user=people.aac, reason="透明晶質獎僅由廉政署辦理")
    assert list(Obligation.objects.filter(year=113, indicator=indicator).values_list("agency__name", flat=True)) == ["法務部廉政署"]
    # Back to the plan: the earlier rule is kept, replaced.
    reporter_rule_set(year=113, indicator=indicator, scope=ReporterRule.Scope.PLAN, user=people.aac, reason="恢復方案規定")
    rule.refresh_from_db()
    assert rule.replaced_at is not None
    assert Obligation.objects.filter(year=113, indicator=indicator).count() > 10
    with pytest.raises(PermissionDenied):
        reporter_rule_set(year=113, indicator=indicator, scope=ReporterRule.Scope.EVERY_AGENCY, user=people.ndc, reason="x")


def test_a_rule_set_before_publishing_shapes_the_obligations_publishing_makes(opened, people, plan112):
    indicator = transparency_indicator(plan112)
    reporter_rule_set(
        year=113, indicator=indicator, scope=ReporterRule.Scope.GROUP, group=Agency.objects.get(name="法務部"), user=people.aac, reason="法務部所屬試辦",
    )
    approve_all(opened.target_year, people.aac)
    target_year_publish(target_year=opened.target_year, user=people.aac)
    owing = set(Obligation.objects.filter(year=113, indicator=indicator).values_list("agency__name", flat=True))
    assert "法務部調查局" in owing and "交通部" not in owing


def test_a_part_of_a_split_item_edits_its_own_text_and_the_item_reads_as_its_parts(opened, people, plan112):
    measure = find_measure(plan112, 7, "(四)")
    first, second = TargetProposal.objects.filter(target_year=opened.target_year, measure=measure).order_by("part")
    assert (first.part, second.part) == (1, 2) and first.text == second.text
    officer = staff_of(first.lead_agency, Role.OFFICER)
    saved = save(first, officer, text="完成上市(櫃)公司財務報告實質審閱 500 家", quantity="500")
    assert saved.part_text == "完成上市(櫃)公司財務報告實質審閱 500 家" and saved.text == second.text  # the item's text is untouched
    approve_all(opened.target_year, people.aac)
    target_year_publish(target_year=opened.target_year, user=people.aac)
    part_one, part_two = TargetValue.objects.filter(year=113, measure=measure).order_by("part")
    assert part_one.part_text.endswith("500 家") and part_one.quantity == 500
    assert part_one.text == part_two.text == f"{part_one.part_text}；{part_two.part_text}"


# ------------------------------------------------------------------ reminders


def test_lead_agencies_still_owing_are_reminded_before_the_due_date_and_once_a_day_after_it(opened, people):
    from reporting.services.notices import reminder_days_before, target_reminders_send

    due = opened.target_year.due_on
    proposal_submit(proposal=mjib_proposal(opened), user=people.officer_mjib)
    quiet = target_reminders_send(today=due - datetime.timedelta(days=reminder_days_before() + 1))
    assert quiet["notices"] == 0
    before = target_reminders_send(today=due - datetime.timedelta(days=reminder_days_before()))
    assert before["agencies"] > 0
    notice = Notice.objects.get(recipient=people.officer_mjib, kind=Notice.Kind.TARGETS_REMINDER)
    assert "尚有 6 項未送出" in notice.title  # one of 調查局's seven was sent
    late_day = due + datetime.timedelta(days=2)
    first = target_reminders_send(today=late_day)
    again = target_reminders_send(today=late_day)
    assert first["notices"] > 0 and again["notices"] == 0
    assert "逾期提醒" in Notice.objects.filter(recipient=people.officer_mjib, kind=Notice.Kind.TARGETS_REMINDER).first().title


# ------------------------------------------------------------------ across a revision


def test_the_first_year_of_a_revision_starts_from_the_values_its_measures_continue(people, plan112):
    """A revision from 113 keeps 7(五) under a new number; its 113 proposals start from 7(五)'s 112
    values, on the new measure and indicator; measures nothing continues leave theirs behind."""
    from measures.models import AgencyAssignment, IndicatorLineage, Measure, MeasureLineage, PlanVersion, Strategy

    plan112.status, plan112.last_year = PlanVersion.Status.SUPERSEDED, 112
    plan112.save()
    revision = PlanVersion.objects.create(code="113", title="國家廉政建設行動方案（修正）", first_year=113, status=PlanVersion.Status.IN_FORCE)
    strategy = Strategy.objects.create(plan=revision, number=1, title="強化企業誠信", position=1)
    measure = Measure.objects.create(strategy=strategy, number=1, printed_number="(一)", text="邀集公股投資事業召開業務研討會議（修正）")
    indicator = Indicator.objects.create(measure=measure, position=1, number=1, text="召開業務研討會議次數")
    lead = Agency.objects.get(name="法務部廉政署")
    AgencyAssignment.objects.create(measure=measure, agency=lead, role="lead", printed_name="法務部(廉政署)", position=1)
    old_measure = find_measure(plan112, 7, "(五)")
    MeasureLineage.objects.create(measure=measure, predecessor=old_measure, basis="text")
    IndicatorLineage.objects.create(indicator=indicator, predecessor=old_measure.indicators.get(), basis="text")

    opened = target_year_open(plan=revision, year=113, due_on=DUE, user=people.aac)
    assert opened.source_year == 112
    proposals = list(TargetProposal.objects.filter(target_year=opened.target_year))
    old_values = list(old_measure.values.filter(year=112))
    assert len(proposals) == len(old_values) == 1
    proposal = proposals[0]
    assert proposal.measure == measure and proposal.indicator_ids == [indicator.pk]
    assert proposal.previous == old_values[0] and proposal.quantity == old_values[0].quantity
    assert proposal.lead_agency == lead
    assert sum(Decimal(s["quantity"]) for s in proposal.shares) == proposal.quantity
