"""Entering figures: each kind of value, each workflow step (allowed and refused),
the two-editor conflict, locked periods and the history of every change."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from agencies.models import Agency, Role, User
from agencies.services import role_grant
from reporting.models import Entry, EntryEvent, Obligation, ReportingPeriod
from reporting.services import obligations_generate
from reporting.services.entries import (
    EntryConflict,
    EntryInput,
    WorkflowError,
    entry_approve,
    entry_forward,
    entry_reopen,
    entry_return,
    entry_save,
    entry_submit,
)
from reporting.services.periods import period_reopen, period_set_state, periods_ensure
from reporting.values import EntryValueError

from .conftest import find_measure
from .personas import user_with_role

pytestmark = pytest.mark.django_db


_user = user_with_role


@pytest.fixture
def world(plan112):
    obligations_generate(year=112)
    periods_ensure(year=112)
    return {
        "officer": _user("t_officer", "交通部", Role.OFFICER),
        "other_officer": _user("e_officer", "經濟部", Role.OFFICER),
        "reviewer": _user("t_reviewer", "交通部", Role.AGENCY_REVIEWER),
        "aac": _user("aac1", "法務部廉政署", Role.AAC_REVIEWER),
    }


def _obligation(plan, strategy, measure, agency, indicator_number=None):
    qs = Obligation.objects.filter(year=112, agency__name=agency, indicator__measure=find_measure(plan, strategy, measure))
    if indicator_number is not None:
        qs = qs.filter(indicator__number=indicator_number)
    return qs.get()


def _period(obligation, number=1):
    return ReportingPeriod.objects.get(year=112, frequency=obligation.indicator.frequency, number=number)


def _save(obligation, user, values, number=1, version=None, narrative="本季辦理情形。", **kwargs):
    return entry_save(obligation=obligation, period=_period(obligation, number), user=user,
                      data=EntryInput(values=values, narrative=narrative, expected_version=version, **kwargs))


# ------------------------------------------------------------ value kinds


def test_counts_accept_full_width_digits_and_thousands_separators(world, plan112):
    obligation = _obligation(plan112, 7, "(五)", "交通部")
    entry = _save(obligation, world["officer"], {"quantity": "１，２３４"})
    assert entry.quantity == Decimal("1234") and entry.state == Entry.State.DRAFT
    entry = _save(obligation, world["officer"], {"quantity": "2,500"}, version=entry.version)
    assert entry.quantity == 2500


@pytest.mark.parametrize(("raw", "message"), [("abc", "不是數字"), ("-3", "不可為負數"), ("1,2,3", "不是數字"), ("12件", "不是數字")])
def test_counts_refuse_letters_and_negatives(world, plan112, raw, message):
    obligation = _obligation(plan112, 7, "(五)", "交通部")
    with pytest.raises(EntryValueError) as raised:
        _save(obligation, world["officer"], {"quantity": raw})
    assert message in raised.value.errors["quantity"]
    assert not Entry.objects.filter(obligation=obligation).exists()


def test_ratios_keep_numerator_and_denominator(world, plan112):
    obligation = _obligation(plan112, 1, "(一)", "交通部", indicator_number=3)
    entry = _save(obligation, world["officer"], {"numerator": "4", "denominator": "5"})
    assert (entry.numerator, entry.denominator, entry.percentage) == (4, 5, 80)


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"numerator": "6", "denominator": "5"}, "numerator", "不可大於分母"),
        ({"numerator": "0", "denominator": "0"}, "denominator", "分母不可為 0"),
        ({"numerator": "3"}, "denominator", "須一併填寫"),
    ],
)
def test_ratios_refuse_impossible_pairs(world, plan112, values, field, message):
    obligation = _obligation(plan112, 1, "(一)", "交通部", indicator_number=3)
    with pytest.raises(EntryValueError) as raised:
        _save(obligation, world["officer"], values)
    assert message in raised.value.errors[field]


def test_milestones_need_a_date_inside_the_period(world, plan112):
    officer = _user("moi_officer", "內政部", Role.OFFICER)
    obligation = _obligation(plan112, 2, "(二)", "內政部", indicator_number=2)
    assert obligation.indicator.entry_kind() == "milestone"
    period = _period(obligation, 1)
    with pytest.raises(EntryValueError) as raised:
        _save(obligation, officer, {"milestone": "done", "reached_on": "2023-12-01"}, number=period.number)
    assert "須在本期間內" in raised.value.errors["reached_on"]
    entry = _save(obligation, officer, {"milestone": "已完成", "reached_on": f"112/{period.months[0]:02d}/15"}, number=period.number)
    assert entry.milestone == "done" and entry.reached_on == datetime.date(2023, period.months[0], 15)


def test_grades_and_report_only_text(world, plan112):
    mnd = _user("mnd_officer", "國防部", Role.OFFICER)
    grade = _obligation(plan112, 3, "(二)", "國防部", indicator_number=2)
    assert grade.indicator.entry_kind() == "grade"
    assert _save(grade, mnd, {"grade": "ｂ"}).grade == "B"
    mjib = _user("mjib_officer", "法務部調查局", Role.OFFICER)
    text = _obligation(plan112, 8, "(十七)", "法務部調查局")
    assert text.indicator.entry_kind() == "text"
    assert _save(text, mjib, {"text": "本季未接獲相關情資。"}).text == "本季未接獲相關情資。"


# -------------------------------------------------------------- workflow


def test_full_workflow_with_agency_review(world, plan112):
    obligation = _obligation(plan112, 7, "(五)", "交通部")
    entry = _save(obligation, world["officer"], {"quantity": "2"})
    entry = entry_submit(entry=entry, user=world["officer"])
    assert entry.state == Entry.State.SUBMITTED
    entry = entry_forward(entry=entry, user=world["reviewer"])
    assert entry.state == Entry.State.FORWARDED
    entry = entry_return(entry=entry, user=world["aac"], comment="請補充會議日期。")
    assert entry.state == Entry.State.RETURNED and entry.review_comment == "請補充會議日期。"
    entry = _save(obligation, world["officer"], {"quantity": "2"}, version=entry.version, narrative="已補充：4月12日召開。")
    entry = entry_submit(entry=entry, user=world["officer"])
    entry = entry_forward(entry=entry, user=world["reviewer"])
    entry = entry_approve(entry=entry, user=world["aac"])
    assert entry.state == Entry.State.APPROVED
    actions = list(entry.events.values_list("action", flat=True))
    assert actions == ["saved", "submitted", "forwarded", "returned", "saved", "submitted", "forwarded", "approved"]
    returned = entry.events.get(action="returned")
    assert returned.actor == world["aac"] and returned.comment == "請補充會議日期。" and returned.from_state == "forwarded"


def test_agency_without_the_review_step_goes_straight_to_aac(world, plan112):
    transport = Agency.objects.get(name="交通部")
    transport.uses_agency_review = False
    transport.save()
    entry = _save(_obligation(plan112, 7, "(五)", "交通部"), world["officer"], {"quantity": "1"})
    assert entry_submit(entry=entry, user=world["officer"]).state == Entry.State.FORWARDED


def test_refused_transitions(world, plan112):
    obligation = _obligation(plan112, 7, "(五)", "交通部")
    entry = _save(obligation, world["officer"], {"quantity": "1"})
    with pytest.raises(WorkflowError):
        entry_approve(entry=entry, user=world["aac"])  # a draft cannot be approved
    with pytest.raises(PermissionDenied):
        entry_submit(entry=entry, user=world["other_officer"])  # another agency's officer
    with pytest.raises(PermissionDenied):
        entry_forward(entry=entry_submit(entry=entry, user=world["officer"]), user=world["officer"])  # officers do not forward
    with pytest.raises(EntryValueError, match="退回時必須填寫審查意見"):
        entry_return(entry=entry, user=world["reviewer"], comment="  ")
    entry = entry_forward(entry=entry, user=world["reviewer"])
    with pytest.raises(PermissionDenied):
        entry_approve(entry=entry, user=world["reviewer"])  # only AAC approves
    entry = entry_approve(entry=entry, user=world["aac"])
    with pytest.raises(WorkflowError, match="已核定"):
        _save(obligation, world["officer"], {"quantity": "9"}, version=entry.version)  # approved: no edits
    with pytest.raises(EntryValueError, match="必須填寫理由"):
        entry_reopen(entry=entry, user=world["aac"], reason="")
    with pytest.raises(PermissionDenied):
        entry_reopen(entry=entry, user=world["officer"], reason="想修改")
    entry = entry_reopen(entry=entry, user=world["aac"], reason="機關來函更正數值。")
    assert entry.state == Entry.State.RETURNED
    assert _save(obligation, world["officer"], {"quantity": "3"}, version=entry.version).quantity == 3


def test_submitting_needs_the_figure_and_the_narrative(world, plan112):
    entry = _save(_obligation(plan112, 7, "(五)", "交通部"), world["officer"], {"quantity": ""}, narrative="")
    with pytest.raises(EntryValueError) as raised:
        entry_submit(entry=entry, user=world["officer"])
    assert set(raised.value.errors) == {"quantity", "narrative"}


def test_year_end_shortfall_requires_reason_and_remedy(world, plan112):
    obligation = _obligation(plan112, 7, "(五)", "交通部")  # 交通部's share: 6 次
    for number, count in ((1, "1"), (2, "1"), (3, "1")):
        _save(obligation, world["officer"], {"quantity": count}, number=number)
    last = _save(obligation, world["officer"], {"quantity": "1"}, number=4)
    with pytest.raises(EntryValueError) as raised:
        entry_submit(entry=last, user=world["officer"])
    assert "未達目標值" in raised.value.errors["shortfall_reason"]
    last = _save(obligation, world["officer"], {"quantity": "1"}, number=4, version=last.version, shortfall_reason="因颱風停會；明年第一季補開。")
    assert entry_submit(entry=last, user=world["officer"]).state == Entry.State.SUBMITTED


# ---------------------------------------------------- conflicts and locks


def test_second_save_with_a_stale_version_is_refused_with_what_was_saved(world, plan112):
    obligation = _obligation(plan112, 7, "(五)", "交通部")
    colleague = _user("t_officer2", "交通部", Role.OFFICER)
    first = _save(obligation, world["officer"], {"quantity": "1"})
    opened_version = first.version
    _save(obligation, colleague, {"quantity": "5"}, version=opened_version, narrative="同事的版本")
    with pytest.raises(EntryConflict) as raised:
        _save(obligation, world["officer"], {"quantity": "7"}, version=opened_version)
    assert raised.value.current.quantity == 5 and raised.value.current.narrative == "同事的版本"
    assert "已於" in str(raised.value)
    assert Entry.objects.get(obligation=obligation).quantity == 5


def test_locked_period_refuses_saves_until_reopened_for_the_agency(world, plan112):
    obligation = _obligation(plan112, 7, "(五)", "交通部")
    period = _period(obligation)
    period_set_state(period=period, state=ReportingPeriod.State.LOCKED, user=world["aac"])
    with pytest.raises(WorkflowError, match="已鎖定"):
        _save(obligation, world["officer"], {"quantity": "1"})
    with pytest.raises(PermissionDenied):
        period_reopen(period=period, user=world["officer"], reason="x")
    reopening = period_reopen(period=period, user=world["aac"], reason="交通部補報", agency=obligation.agency)
    assert reopening.reason == "交通部補報"
    assert _save(obligation, world["officer"], {"quantity": "1"}).quantity == 1
    other = _obligation(plan112, 7, "(五)", "經濟部")
    with pytest.raises(WorkflowError, match="已鎖定"):
        _save(other, world["other_officer"], {"quantity": "1"})  # reopened for 交通部 only


def test_history_records_before_and_after(world, plan112):
    obligation = _obligation(plan112, 7, "(五)", "交通部")
    entry = _save(obligation, world["officer"], {"quantity": "1"})
    entry = _save(obligation, world["officer"], {"quantity": "3"}, version=entry.version, narrative="改")
    event = entry.events.filter(action=EntryEvent.Action.SAVED).last()
    assert event.changes["quantity"] == ["1", "3"]
    assert event.changes["narrative"] == ["本季辦理情形。", "改"]
    assert event.actor == world["officer"]
