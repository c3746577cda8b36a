"""Reminders and workflow notices.

Every event makes one in-portal Notice per person and at most one e-mail, addressed
to everyone notified (an agency's officers share the duty, so they share the mail).
Called by the thin tasks in reporting/tasks.py; e-mail text lives in templates/emails/.
"""

import datetime
from collections import Counter, OrderedDict
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from agencies.models import Agency, Role, User
from measures.years import roc_date_label

from ..models import Entry, EntryEvent, Obligation, ReportingPeriod
from ..models_notices import Notice, ReminderLog, TargetReminderLog

# An obligation is still owed for a period while its entry is missing, a draft or returned.
OWING_STATES = Entry.EDITABLE_STATES
DEFAULT_REMINDER_DAYS_BEFORE = 3


def reminder_days_before() -> int:
    return int(getattr(settings, "REMINDER_DAYS_BEFORE", DEFAULT_REMINDER_DAYS_BEFORE))


def portal_url(path: str) -> str:
    """An absolute link for e-mail (tasks have no request to take the host from).

    PORTAL_URL (e.g. https://integrity.example.gov.tw) when set; otherwise the first
    ALLOWED_HOSTS name.
    """
    if not path:
        return ""
    base = getattr(settings, "PORTAL_URL", "")
    if not base:
        hosts = [host for host in settings.ALLOWED_HOSTS if host not in ("*", "") and not host.startswith((".", "["))]
        if not hosts:
            return path
        base = f"{'http' if settings.DEBUG else 'https'}://{hosts[0]}{':8000' if settings.DEBUG else ''}"
    return base.rstrip("/") + path


# ------------------------------------------------------------------ recipients


def _holding(role, **grant) -> QuerySet[User]:
    """Active users with an unrevoked grant of ``role`` (the conditions apply to the same grant)."""
    conditions = {f"role_grants__{name}": value for name, value in grant.items()}
    return User.objects.filter(is_active=True, role_grants__role=role, role_grants__revoked_at__isnull=True, **conditions)


def officers_of(agency_ids) -> QuerySet[User]:
    return _holding(Role.OFFICER).filter(agency_id__in=agency_ids).order_by("agency_id", "username")


def agency_reviewers_of(agency_id: int) -> QuerySet[User]:
    """Everyone who may forward the agency's entries: its own reviewers and reviewers
    overseeing a body above it (the same rule as the workflow's is_agency_member)."""
    above = Agency.objects.ancestors(agency_id, include_self=True).values("pk")
    own = _holding(Role.AGENCY_REVIEWER).filter(agency_id=agency_id)
    overseeing = _holding(Role.AGENCY_REVIEWER, oversees_subordinates=True).filter(agency_id__in=above)
    return User.objects.filter(Q(pk__in=own.values("pk")) | Q(pk__in=overseeing.values("pk"))).order_by("username")


def aac_reviewers() -> QuerySet[User]:
    return _holding(Role.AAC_REVIEWER).order_by("username")


# ------------------------------------------------------------------ sending


def _send_mail(*, recipients, subject: str, template: str, context: dict) -> int:
    addresses = [user.email for user in recipients if user.email]
    if not addresses:
        return 0
    body = render_to_string(template, {**context, "link": portal_url(context.get("link", ""))})
    return EmailMessage(subject=subject, body=body, to=addresses).send()


def _notice_body(template: str, context: dict) -> str:
    # The same text as the e-mail, without the link line: the notice carries its own link.
    return render_to_string(template, {**context, "link": ""}).strip()


# ------------------------------------------------------------------ reminders

# An overdue period is reminded when it is this many days late, then every week after the last.
OVERDUE_REMINDER_DAYS = (1, 3, 7)
OVERDUE_REMINDER_EVERY = 7


@dataclass
class ReminderStats:
    periods: int = 0
    agencies: int = 0  # agencies reminded in this run
    emails: int = 0
    notices: int = 0
    already_sent: int = 0  # agency/period pairs already reminded as often as they are due
    without_officers: int = 0  # agencies owing items but with nobody to tell
    without_address: int = 0  # agencies owing items whose officers have no e-mail address

    def as_dict(self) -> dict:
        return asdict(self)


def overdue_reminders_due(days_late: int) -> int:
    """How many overdue reminders a period this many days late should have had by now (a run
    that was missed is made up by the next one, never twice)."""
    if days_late < OVERDUE_REMINDER_DAYS[0]:
        return 0
    due = sum(1 for day in OVERDUE_REMINDER_DAYS if day <= days_late)
    if days_late > OVERDUE_REMINDER_DAYS[-1]:
        due += (days_late - OVERDUE_REMINDER_DAYS[-1]) // OVERDUE_REMINDER_EVERY
    return due


def periods_due_soon(*, today: datetime.date) -> list[ReportingPeriod]:
    """Periods falling due within REMINDER_DAYS_BEFORE days (today included). A locked period
    takes no more entries, so nobody is reminded of it."""
    ahead = today + datetime.timedelta(days=reminder_days_before())
    return list(
        ReportingPeriod.objects.exclude(state=ReportingPeriod.State.LOCKED).filter(due_on__gte=today, due_on__lte=ahead)
        .order_by("due_on", "frequency", "number")
    )


def periods_overdue(*, today: datetime.date) -> list[ReportingPeriod]:
    return list(ReportingPeriod.objects.exclude(state=ReportingPeriod.State.LOCKED).filter(due_on__lt=today).order_by("due_on", "frequency", "number"))


def owed_obligations(*, period: ReportingPeriod) -> QuerySet[Obligation]:
    """Obligations of the period's year and frequency without a submitted entry for it,
    with ``entry_state`` (None when nothing was entered)."""
    entries = Entry.objects.filter(obligation=OuterRef("pk"), period=period)
    return (
        Obligation.objects.filter(year=period.year, indicator__frequency=period.frequency, agency__is_active=True)
        .filter(~Exists(entries.exclude(state__in=OWING_STATES)))
        .annotate(entry_state=Subquery(entries.values("state")[:1]))
        .select_related("agency", "indicator__measure__strategy")
        .order_by("agency__name", "indicator__measure__strategy__position", "indicator__measure__number", "indicator__position")
    )


def _quarter_of(period: ReportingPeriod) -> int:
    return (period.months[1] + 2) // 3


def reminders_send(*, today: datetime.date) -> ReminderStats:
    """The daily run. Before a due date: one reminder per agency and period, on the first run
    inside the REMINDER_DAYS_BEFORE window. After it: one digest per agency with every period
    it still owes, on the days of OVERDUE_REMINDER_DAYS and weekly after, until the items are
    submitted or the period is locked. A reminder goes out only when it reaches someone by
    e-mail; the agencies it cannot reach are listed for AAC (unreachable_agencies)."""
    stats = ReminderStats()
    with translation.override(settings.LANGUAGE_CODE):
        for period in periods_due_soon(today=today):
            stats.periods += 1
            _remind_before_due(period=period, today=today, stats=stats)
        overdue = periods_overdue(today=today)
        stats.periods += len(overdue)
        _remind_overdue(periods=overdue, today=today, stats=stats)
    return stats


def reminders_send_to(*, agency_ids, periods: list[ReportingPeriod], today: datetime.date) -> ReminderStats:
    """The one-click reminder from the completeness page: the same messages as the daily run,
    to the chosen agencies only, for the chosen periods, whatever the schedule; still at most
    one a day per agency and period. Locked periods take no entries, so they are skipped."""
    stats = ReminderStats()
    periods = [period for period in periods if period.state != ReportingPeriod.State.LOCKED]
    stats.periods = len(periods)
    with translation.override(settings.LANGUAGE_CODE):
        for period in periods:
            if period.due_on >= today:
                _remind_before_due(period=period, today=today, stats=stats, agency_ids=set(agency_ids), on_request=True)
        _remind_overdue(periods=[p for p in periods if p.due_on < today], today=today, stats=stats, agency_ids=set(agency_ids), on_request=True)
    return stats


def _owed_by_agency(period: ReportingPeriod, agency_ids=None) -> OrderedDict:
    owed: OrderedDict[int, list[Obligation]] = OrderedDict()
    obligations = owed_obligations(period=period)
    if agency_ids is not None:
        obligations = obligations.filter(agency_id__in=agency_ids)
    for obligation in obligations:
        owed.setdefault(obligation.agency_id, []).append(obligation)
    return owed


def _items(obligations) -> list[dict]:
    status_labels = dict(Entry.State.choices)
    return [
        {
            "reference": obligation.indicator.measure.reference,
            "text": obligation.indicator.text,
            "status": status_labels[obligation.entry_state] if obligation.entry_state else _("尚未填寫"),
        }
        for obligation in obligations
    ]


def _reachable(agency_id, officers, stats) -> list[User] | None:
    """The officers to tell, or None (counted) when the reminder would reach nobody by e-mail."""
    recipients = officers.get(agency_id, [])
    if not recipients:
        stats.without_officers += 1
        return None
    if not any(user.email for user in recipients):
        stats.without_address += 1
        return None
    return recipients


def _officers_by_agency(agency_ids) -> dict[int, list[User]]:
    officers: dict[int, list[User]] = {}
    for user in officers_of(agency_ids):
        officers.setdefault(user.agency_id, []).append(user)
    return officers


def _remind_before_due(*, period, today, stats, agency_ids=None, on_request=False) -> None:
    owed = _owed_by_agency(period, agency_ids)
    if not owed:
        return
    officers = _officers_by_agency(owed.keys())
    earlier = ReminderLog.objects.filter(period=period, kind=Notice.Kind.REMINDER)
    reminded = set((earlier.filter(sent_on=today) if on_request else earlier).values_list("agency_id", flat=True))
    link = f"{reverse('reporting:my_items')}?year={period.year}&quarter={_quarter_of(period)}"
    for agency_id, obligations in owed.items():
        if agency_id in reminded:
            stats.already_sent += 1
            continue
        recipients = _reachable(agency_id, officers, stats)
        if recipients is None:
            continue
        agency, items = obligations[0].agency, _items(obligations)
        context = {"agency": agency, "period": period, "items": items, "days_left": (period.due_on - today).days, "link": link}
        title = _("【填報提醒】%(period)s即將截止，%(agency)s尚有 %(count)d 項未送出") % {"period": period.label, "agency": agency.name, "count": len(items)}
        _deliver(
            agency_id=agency_id, periods={period: len(items)}, today=today, kind=Notice.Kind.REMINDER, recipients=recipients,
            title=title, template="emails/reminder.txt", context=context, link=link, stats=stats,
        )


def _remind_overdue(*, periods, today, stats, agency_ids=None, on_request=False) -> None:
    """One digest per agency: every overdue period it owes items for, when one of them is due
    a reminder by the schedule (or, on request, not yet reminded today)."""
    owed: OrderedDict[int, OrderedDict] = OrderedDict()
    for period in periods:
        for agency_id, obligations in _owed_by_agency(period, agency_ids).items():
            owed.setdefault(agency_id, OrderedDict())[period] = obligations
    if not owed:
        return
    logs = ReminderLog.objects.filter(kind=Notice.Kind.OVERDUE, period__in=periods, agency_id__in=owed.keys())
    sent = Counter(logs.values_list("agency_id", "period_id"))
    sent_today = set(logs.filter(sent_on=today).values_list("agency_id", "period_id"))
    officers = _officers_by_agency(owed.keys())
    link = reverse("reporting:todo")
    for agency_id, by_period in owed.items():
        if on_request:
            due = [period for period in by_period if (agency_id, period.pk) not in sent_today]
        else:
            due = [period for period in by_period if sent[(agency_id, period.pk)] < overdue_reminders_due((today - period.due_on).days)]
        if not due:
            stats.already_sent += 1
            continue
        recipients = _reachable(agency_id, officers, stats)
        if recipients is None:
            continue
        agency = next(iter(by_period.values()))[0].agency
        sections = [
            {"period": period, "days_late": (today - period.due_on).days, "items": _items(obligations)} for period, obligations in by_period.items()
        ]
        count = sum(len(section["items"]) for section in sections)
        title = _("【逾期提醒】%(agency)s尚有 %(count)d 項逾期未送出（%(periods)d 個填報期間）") % {"agency": agency.name, "count": count, "periods": len(sections)}
        _deliver(
            agency_id=agency_id, periods={period: len(by_period[period]) for period in due}, today=today, kind=Notice.Kind.OVERDUE,
            recipients=recipients, title=title, template="emails/overdue_digest.txt",
            context={"agency": agency, "sections": sections, "count": count, "link": link}, link=link, stats=stats,
        )


def _deliver(*, agency_id, periods: dict, today, kind, recipients, title, template, context, link, stats) -> None:
    """The day's records, the notices and the e-mail succeed or fail together: a failed send
    rolls the records back so the next run retries. A concurrent run waits on a record's
    unique key and then finds it, so it sends nothing."""
    with transaction.atomic():
        for period, items in periods.items():
            _log, created = ReminderLog.objects.get_or_create(
                agency_id=agency_id, period=period, sent_on=today, defaults={"kind": kind, "items": items, "recipients": len(recipients)},
            )
            if not created:
                stats.already_sent += 1
                transaction.set_rollback(True)
                return
        body = _notice_body(template, context)
        Notice.objects.bulk_create([Notice(recipient=user, kind=kind, title=title, body=body, link=link) for user in recipients])
        stats.emails += _send_mail(recipients=recipients, subject=title, template=template, context=context)
    stats.agencies += 1
    stats.notices += len(recipients)


def unreachable_agencies(*, year: int) -> list[dict]:
    """Agencies with items to report in ``year`` that no reminder can reach: no active officer,
    or no officer with an e-mail address. AAC sees them on the completeness page and weekly."""
    owing = Agency.objects.filter(is_active=True, pk__in=Obligation.objects.filter(year=year).values("agency_id")).order_by("name")
    officers = _officers_by_agency(owing.values("pk"))
    rows = []
    for agency in owing:
        people = officers.get(agency.pk, [])
        if not people:
            rows.append({"agency": agency, "reason": _("沒有填報人帳號")})
        elif not any(user.email for user in people):
            rows.append({"agency": agency, "reason": _("填報人未設定電子郵件")})
    return rows


def unreachable_agencies_send(*, today: datetime.date) -> int:
    """The weekly list of agencies reminders cannot reach, to every AAC reviewer."""
    year = Obligation.objects.filter(year__lte=today.year - 1911).aggregate(latest=Max("year"))["latest"]  # the latest year with items
    if year is None:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        rows = unreachable_agencies(year=year)
        if not rows:
            return 0
        recipients = list(aac_reviewers())
        title = _("【無法提醒的機關】民國%(year)d年有 %(count)d 個機關收不到填報提醒") % {"year": year, "count": len(rows)}
        link = f"{reverse('dashboard:completeness')}?year={year}#unreachable"
        context = {"rows": rows, "year": year, "link": link}
        Notice.objects.bulk_create([
            Notice(recipient=user, kind=Notice.Kind.REMINDER, title=title, body=_notice_body("emails/unreachable_agencies.txt", context), link=link) for user in recipients
        ])
        return _send_mail(recipients=recipients, subject=title, template="emails/unreachable_agencies.txt", context=context)


def notify_periods_to_lock(*, periods: list[ReportingPeriod], lock_on: datetime.date) -> int:
    """Tell AAC which long-overdue periods will be locked, and when."""
    recipients = list(aac_reviewers())
    with translation.override(settings.LANGUAGE_CODE):
        title = _("【期間即將鎖定】%(count)d 個逾期已久的填報期間將於%(date)s自動鎖定") % {"count": len(periods), "date": roc_date_label(lock_on)}
        link = reverse("reporting:periods")
        context = {"periods": periods, "lock_on": lock_on, "link": link}
        body = _notice_body("emails/periods_to_lock.txt", context)
        Notice.objects.bulk_create([Notice(recipient=user, kind=Notice.Kind.REMINDER, title=title, body=body, link=link) for user in recipients])
        return _send_mail(recipients=recipients, subject=title, template="emails/periods_to_lock.txt", context=context)


# ------------------------------------------------------------------ workflow notices


def _entry(entry_id: int) -> Entry | None:
    return (
        Entry.objects.select_related("obligation__agency", "obligation__indicator__measure__strategy", "period")
        .filter(pk=entry_id)
        .first()
    )


def notify_returned(*, entry_id: int) -> int:
    """Tell the entry's officers that it came back, with the reviewer's comment.

    Returns the number of notices made.
    """
    entry = _entry(entry_id)
    if entry is None:
        return 0
    event = (
        entry.events.filter(to_state=Entry.State.RETURNED).select_related("actor").order_by("-at", "-pk").first()
    )
    recipients = list(officers_of([entry.obligation.agency_id]))
    if not recipients:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        link = reverse("reporting:entry_detail", args=[entry.pk])
        reviewer = event.actor if event and event.actor else None
        context = {
            "entry": entry, "obligation": entry.obligation, "period": entry.period, "link": link,
            "comment": event.comment if event else entry.review_comment,
            "reviewer": (reviewer.get_full_name() or reviewer.username) if reviewer else "",
            "reopened": bool(event and event.action == EntryEvent.Action.REOPENED),
        }
        title = _("【退回修正】%(period)s %(measure)s：%(indicator)s") % {
            "period": entry.period.label, "measure": entry.obligation.indicator.measure.reference,
            "indicator": _shorten(entry.obligation.indicator.text, 40),
        }
        with transaction.atomic():
            body = _notice_body("emails/entry_returned.txt", context)
            Notice.objects.bulk_create([Notice(recipient=user, kind=Notice.Kind.RETURNED, title=title, body=body, link=link) for user in recipients])
            _send_mail(recipients=recipients, subject=title, template="emails/entry_returned.txt", context=context)
    return len(recipients)


def notify_awaiting_review(*, entry_id: int) -> int:
    """Tell the people who act next that an entry awaits them: the agency's reviewers
    for a submitted entry, AAC reviewers for a forwarded one.

    Batched as a digest: a reviewer who already has an unread "awaiting review" notice
    gets neither a new notice nor an e-mail (a unique key makes this hold under
    concurrent workers). The notice is marked read when they open the review queue
    or the notices page, so the next submission after that is announced again.
    Returns the number of notices made.
    """
    entry = _entry(entry_id)
    if entry is None:
        return 0
    if entry.state == Entry.State.SUBMITTED:
        candidates = agency_reviewers_of(entry.obligation.agency_id)
        queue = "reporting:agency_review_queue"
    elif entry.state == Entry.State.FORWARDED:
        candidates = aac_reviewers()
        queue = "reporting:review_queue"
    else:
        return 0  # already moved on before the task ran
    with translation.override(settings.LANGUAGE_CODE):
        link = reverse(queue)
        context = {"entry": entry, "obligation": entry.obligation, "period": entry.period, "link": link, "aac": entry.state == Entry.State.FORWARDED}
        title = _("【待審核】%(agency)s送出了%(period)s的填報資料") % {"agency": entry.obligation.agency.name, "period": entry.period.label}
        body = _notice_body("emails/awaiting_review.txt", context)
        notified = []
        for user in candidates:
            try:
                with transaction.atomic():
                    Notice.objects.create(recipient=user, kind=Notice.Kind.AWAITING_REVIEW, title=title, body=body, link=link)
            except IntegrityError:
                continue  # an unread digest already tells this reviewer to look at the queue
            notified.append(user)
        if notified:
            _send_mail(recipients=notified, subject=title, template="emails/awaiting_review.txt", context=context)
    return len(notified)


def _shorten(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


# ------------------------------------------------------------------ reading state


def notices_mark_read(*, user, ids=None, kind: str | None = None) -> int:
    """Mark the user's unread notices read (all, or the given ids, or one kind); returns how many."""
    notices = Notice.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        notices = notices.filter(pk__in=ids)
    if kind is not None:
        notices = notices.filter(kind=kind)
    return notices.update(read_at=timezone.now())


# ------------------------------------------------------------------ yearly target values


def _target_year(target_year_id: int):
    from measures.models import TargetYear

    return TargetYear.objects.select_related("plan").filter(pk=target_year_id).first()


def _proposal(proposal_id: int):
    from ..models import TargetProposal

    return TargetProposal.objects.select_related("target_year__plan", "lead_agency", "measure").filter(pk=proposal_id).first()


def _notify(*, recipients, kind, title, template, context) -> int:
    recipients = list(recipients)
    if not recipients:
        return 0
    with transaction.atomic():
        body = _notice_body(template, context)
        Notice.objects.bulk_create([Notice(recipient=user, kind=kind, title=title, body=body, link=context["link"]) for user in recipients])
        _send_mail(recipients=recipients, subject=title, template=template, context=context)
    return len(recipients)


def _lead_agencies(target_year) -> OrderedDict:
    from ..models import TargetProposal

    counts: OrderedDict[int, int] = OrderedDict()
    for agency_id in TargetProposal.objects.filter(target_year=target_year).order_by("lead_agency__name").values_list("lead_agency_id", flat=True):
        counts[agency_id] = counts.get(agency_id, 0) + 1
    return counts


def notify_targets_opened(*, target_year_id: int) -> int:
    """Every lead agency's officers: year N is open, this many values await their proposal."""
    target_year = _target_year(target_year_id)
    if target_year is None:
        return 0
    made = 0
    with translation.override(settings.LANGUAGE_CODE):
        officers: dict[int, list[User]] = {}
        counts = _lead_agencies(target_year)
        for user in officers_of(counts.keys()):
            officers.setdefault(user.agency_id, []).append(user)
        for agency_id, count in counts.items():
            link = reverse("targets:agency", args=[target_year.year, agency_id])
            context = {"target_year": target_year, "count": count, "link": link, "agency": Agency.objects.get(pk=agency_id)}
            title = _("【年度目標值研訂】民國%(year)d年績效目標值開放提報（%(count)d 項）") % {"year": target_year.year, "count": count}
            made += _notify(recipients=officers.get(agency_id, []), kind=Notice.Kind.TARGETS_OPENED, title=title, template="emails/targets_opened.txt", context=context)
    return made


def notify_proposal_awaiting(*, proposal_id: int) -> int:
    """The next person in the chain: the agency's reviewers for a submitted proposal, AAC for a forwarded one."""
    from ..models import TargetProposal

    proposal = _proposal(proposal_id)
    if proposal is None:
        return 0
    if proposal.state == TargetProposal.State.SUBMITTED:
        recipients = agency_reviewers_of(proposal.lead_agency_id)
        link = reverse("targets:agency", args=[proposal.year, proposal.lead_agency_id])
    elif proposal.state == TargetProposal.State.FORWARDED:
        recipients = aac_reviewers()
        link = reverse("targets:review", args=[proposal.year])
    else:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        context = {"proposal": proposal, "link": link, "aac": proposal.state == TargetProposal.State.FORWARDED}
        title = _("【目標值待審核】%(agency)s送出民國%(year)d年 %(measure)s 目標值 %(label)s") % {
            "agency": proposal.lead_agency.name, "year": proposal.year, "measure": proposal.measure.reference, "label": proposal.label,
        }
        return _notify(recipients=recipients, kind=Notice.Kind.TARGETS_OPENED, title=title, template="emails/proposal_awaiting.txt", context=context)


def notify_proposal_returned(*, proposal_id: int) -> int:
    proposal = _proposal(proposal_id)
    if proposal is None:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        link = reverse("targets:proposal", args=[proposal.pk])
        context = {"proposal": proposal, "link": link, "comment": proposal.review_comment}
        title = _("【目標值退回修正】民國%(year)d年 %(measure)s 目標值 %(label)s") % {
            "year": proposal.year, "measure": proposal.measure.reference, "label": proposal.label,
        }
        return _notify(
            recipients=officers_of([proposal.lead_agency_id]), kind=Notice.Kind.TARGETS_RETURNED, title=title,
            template="emails/proposal_returned.txt", context=context,
        )


def notify_targets_published(*, target_year_id: int) -> int:
    target_year = _target_year(target_year_id)
    if target_year is None:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        link = reverse("targets:year", args=[target_year.year])
        context = {"target_year": target_year, "link": link}
        title = _("【年度目標值核定公布】民國%(year)d年績效目標值已核定") % {"year": target_year.year}
        return _notify(
            recipients=officers_of(_lead_agencies(target_year).keys()), kind=Notice.Kind.TARGETS_PUBLISHED, title=title,
            template="emails/targets_published.txt", context=context,
        )


def target_reminders_send(*, today: datetime.date) -> dict:
    """Lead agencies with proposals not yet sent, reminded REMINDER_DAYS_BEFORE days before
    the due date and daily once it has passed; at most once a day per agency (TargetReminderLog)."""
    from measures.models import TargetYear

    from ..models import TargetProposal

    ahead = today + datetime.timedelta(days=reminder_days_before())
    stats = {"years": 0, "agencies": 0, "notices": 0}
    years = TargetYear.objects.filter(state=TargetYear.State.SETTING, due_on__isnull=False).filter(Q(due_on=ahead) | Q(due_on__lt=today))
    with translation.override(settings.LANGUAGE_CODE):
        for target_year in years:
            stats["years"] += 1
            owing = OrderedDict()
            open_states = (TargetProposal.State.DRAFT, TargetProposal.State.RETURNED)
            for agency_id in (
                TargetProposal.objects.filter(target_year=target_year, state__in=open_states).order_by("lead_agency__name").values_list("lead_agency_id", flat=True)
            ):
                owing[agency_id] = owing.get(agency_id, 0) + 1
            for agency_id, count in owing.items():
                link = reverse("targets:agency", args=[target_year.year, agency_id])
                recipients = list(officers_of([agency_id]))
                if not recipients:
                    continue
                overdue = target_year.due_on < today
                context = {"target_year": target_year, "count": count, "link": link, "overdue": overdue, "agency": Agency.objects.get(pk=agency_id)}
                values = {"year": target_year.year, "due": roc_date_label(target_year.due_on), "count": count}
                if overdue:
                    title = _("【逾期提醒】民國%(year)d年目標值提報已於%(due)s截止，尚有 %(count)d 項未送出") % values
                else:
                    title = _("【提報提醒】民國%(year)d年目標值將於%(due)s截止，尚有 %(count)d 項未送出") % values
                # The day's record and the notices succeed or fail together (as for entry reminders).
                with transaction.atomic():
                    _record, created = TargetReminderLog.objects.get_or_create(
                        target_year=target_year, agency_id=agency_id, sent_on=today, defaults={"items": count},
                    )
                    if not created:
                        continue
                    stats["notices"] += _notify(recipients=recipients, kind=Notice.Kind.TARGETS_REMINDER, title=title, template="emails/targets_opened.txt", context=context)
                stats["agencies"] += 1
    return stats
