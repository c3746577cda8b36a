"""The people the access rules are written for, built on the reference data."""

from dataclasses import dataclass

from agencies.models import Agency, Role, User
from agencies.services import role_grant

PASSWORD = "persona-password-123"


@dataclass
class Personas:
    officer_a: User  # 填報人 of 交通部
    officer_b: User  # 填報人 of 經濟部
    reviewer: User  # 機關審核人 of 法務部, overseeing the bodies under it
    aac: User  # 廉政署審查人
    ndc: User  # 國發會評核人
    admin: User  # 系統管理者
    no_role: User  # signed in, but no role granted
    agency_a: Agency
    agency_b: Agency

    def by_name(self, name):
        return None if name == "anonymous" else getattr(self, name)


def user_with_role(username, agency, role, *, email="", **grant):
    """A user of ``agency`` (a name) holding ``role``; extra keywords go to role_grant."""
    user = User.objects.create_user(username=username, password="pw-123456789", email=email, agency=Agency.objects.get(name=agency))
    role_grant(user=user, role=role, granted_by=None, **grant)
    return user


def _user(username, agency_name, *roles, oversees=False):
    user = User.objects.create_user(username=username, password=PASSWORD, agency=Agency.objects.get(name=agency_name) if agency_name else None)
    for role in roles:
        role_grant(user=user, role=role, granted_by=None, oversees_subordinates=oversees and role == Role.AGENCY_REVIEWER)
    return user


def make_personas() -> Personas:
    return Personas(
        officer_a=_user("officer_a", "交通部", Role.OFFICER),
        officer_b=_user("officer_b", "經濟部", Role.OFFICER),
        reviewer=_user("reviewer", "法務部", Role.AGENCY_REVIEWER, oversees=True),
        aac=_user("aac", "法務部廉政署", Role.AAC_REVIEWER),
        ndc=_user("ndc_assessor", "國家發展委員會", Role.NDC_ASSESSOR),
        admin=_user("administrator", "法務部廉政署", Role.ADMINISTRATOR),
        no_role=_user("nobody", None),
        agency_a=Agency.objects.get(name="交通部"),
        agency_b=Agency.objects.get(name="經濟部"),
    )


PERSONAS = ["anonymous", "officer_a", "officer_b", "reviewer", "aac", "ndc", "admin", "no_role"]
