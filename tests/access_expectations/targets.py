"""Who may open the pages of the yearly target-setting cycle (/targets/…).

The builders open 民國113年 on first use, so each page has real proposals behind it:
法務部調查局 leads some of them, inside the reviewer persona's oversight (法務部) and
outside both officers' agencies (交通部, 經濟部).
"""

import datetime

from django.utils import timezone

LOGIN = "login"
ROLES = ["officer_a", "officer_b", "reviewer", "aac", "ndc", "admin"]


def _year(c):
    from measures.models import PlanVersion
    from reporting.services.target_setting import target_year_open

    if "target_year" not in c:
        plan = PlanVersion.objects.get(code="112")
        c["target_year"] = target_year_open(
            plan=plan, year=113, due_on=timezone.localdate() + datetime.timedelta(days=30), user=c["personas"].aac
        ).target_year
    return c["target_year"]


def _mjib(c):
    from agencies.models import Agency

    _year(c)
    return Agency.objects.get(name="法務部調查局")


def _proposal(c):
    from reporting.models import TargetProposal

    return TargetProposal.objects.filter(target_year=_year(c), lead_agency=_mjib(c)).order_by("pk").first()


def _indicator(c):
    return _proposal(c).indicator_ids[0]


def _value(c):
    from measures.models import TargetValue

    return TargetValue.objects.filter(year=112).order_by("pk").first()


def _by(anonymous=LOGIN, **statuses):
    return {"anonymous": anonymous, "no_role": 403, **statuses}


EVERYONE = _by(**{persona: 200 for persona in ROLES})
POST_ONLY = _by(**{persona: 405 for persona in ROLES})
AAC_ONLY = _by(officer_a=403, officer_b=403, reviewer=403, aac=200, ndc=403, admin=200)

EXPECTED = {
    "targets:years": (lambda c: {}, EVERYONE),
    "targets:open": (lambda c: {}, POST_ONLY),
    # National roles and the overseeing reviewer see every lead agency they may see; an
    # officer whose agency leads values goes straight to its page (經濟部 does; 交通部 leads none and sees an empty list).
    "targets:year": (lambda c: {"year": _year(c).year}, _by(officer_a=200, officer_b="redirect", reviewer=200, aac=200, ndc=200, admin=200)),
    # 法務部調查局's proposals: hidden from officers of other agencies.
    "targets:agency": (
        lambda c: {"year": _year(c).year, "agency": _mjib(c).pk},
        _by(officer_a=404, officer_b=404, reviewer=200, aac=200, ndc=200, admin=200),
    ),
    "targets:agency_submit": (lambda c: {"year": _year(c).year, "agency": _mjib(c).pk}, POST_ONLY),
    "targets:agency_forward": (lambda c: {"year": _year(c).year, "agency": _mjib(c).pk}, POST_ONLY),
    "targets:review": (lambda c: {"year": _year(c).year}, AAC_ONLY),
    "targets:review_approve": (lambda c: {"year": _year(c).year}, POST_ONLY),
    "targets:publish": (lambda c: {"year": _year(c).year}, POST_ONLY),
    "targets:reporters": (
        lambda c: {"year": _year(c).year},
        _by(officer_a=403, officer_b=403, reviewer=403, aac=200, ndc=200, admin=200),
    ),
    "targets:reporter_rule": (lambda c: {"year": _year(c).year, "indicator": _indicator(c)}, AAC_ONLY),
    "targets:proposal": (
        lambda c: {"pk": _proposal(c).pk},
        _by(officer_a=404, officer_b=404, reviewer=200, aac=200, ndc=200, admin=200),
    ),
    "targets:proposal_action": (lambda c: {"pk": _proposal(c).pk, "action": "approve"}, POST_ONLY),
    "targets:revise": (lambda c: {"pk": _value(c).pk}, AAC_ONLY),
    # The year's target sheet: 調查局's by whoever sees 調查局; every agency's by the national roles.
    "targets:sheet": (
        lambda c: {"year": _year(c).year, "agency": _mjib(c).pk, "fmt": "xlsx"},
        _by(officer_a=404, officer_b=404, reviewer=200, aac=200, ndc=200, admin=200),
    ),
    "targets:sheet_all": (
        lambda c: {"year": _year(c).year, "fmt": "ods"}, _by(officer_a=403, officer_b=403, reviewer=403, aac=200, ndc=200, admin=200),
    ),
    # Only officers save proposals (proposal_save), so only officers upload.
    "targets:sheet_upload": (lambda c: {"year": _year(c).year}, _by(officer_a=200, officer_b=200, reviewer=403, aac=403, ndc=403, admin=403)),
    # A token that is not in the user's session is not found.
    "targets:sheet_preview": (
        lambda c: {"year": _year(c).year, "token": "0" * 32}, _by(officer_a=404, officer_b=404, reviewer=403, aac=403, ndc=403, admin=403),
    ),
}
