"""Demo and scale data: one user per role, and a realistic tree of generated agencies."""

import random

from django.db import transaction

from .models import Agency, AgencyName, Role, User
from .naming import normalize_agency_name
from .services import role_grant

DEMO_PASSWORD = "demo-password-112"
DEMO_MAIL_DOMAIN = "demo.example"  # reserved for examples (RFC 2606): nothing is ever delivered there

# username, agency, role, oversees the bodies under the agency. 交通部 has both an officer
# and its own reviewer, so the whole chain officer → agency reviewer → AAC can be walked.
DEMO_USERS = [
    ("officer", "交通部", Role.OFFICER, False),
    ("officer2", "經濟部", Role.OFFICER, False),
    ("reviewer2", "交通部", Role.AGENCY_REVIEWER, False),
    ("reviewer", "法務部", Role.AGENCY_REVIEWER, True),
    ("aac", "法務部廉政署", Role.AAC_REVIEWER, False),
    ("ndc", "國家發展委員會", Role.NDC_ASSESSOR, False),
]


@transaction.atomic
def demo_users_ensure() -> list[tuple[str, str, str]]:
    """Create (or reset) one user per role; returns (username, agency, role label)."""
    created = []
    for username, agency_name, role, oversees in DEMO_USERS:
        agency = Agency.objects.get(name=agency_name)
        user, _ = User.objects.get_or_create(username=username, defaults={"agency": agency})
        user.agency = agency
        user.email = user.email or f"{username}@{DEMO_MAIL_DOMAIN}"  # reminders reach someone (the console backend prints them)
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        if role not in user.roles:
            role_grant(user=user, role=role, granted_by=None, oversees_subordinates=oversees)
        created.append((username, agency_name, Role(role).label))
    return created


# Generated bodies follow the shapes of the real government: central bodies under
# ministries, local governments with their bureaus and district offices, state-owned
# enterprises under their ministries.
_LOCAL = ["臺北市", "新北市", "桃園市", "臺中市", "臺南市", "高雄市", "基隆市", "新竹市", "嘉義市", "新竹縣", "苗栗縣", "彰化縣",
          "南投縣", "雲林縣", "嘉義縣", "屏東縣", "宜蘭縣", "花蓮縣", "臺東縣", "澎湖縣", "金門縣", "連江縣"]
_BUREAUS = ["民政局", "財政局", "教育局", "工務局", "交通局", "社會局", "地政局", "都市發展局", "環境保護局", "衛生局", "警察局", "消防局"]
_CENTRAL_UNITS = ["署", "局", "分署", "中心", "管理處", "辦事處"]


@transaction.atomic
def generated_agencies_ensure(*, total: int, seed: int = 112) -> int:
    """Add generated agencies (code prefix GEN) until the registry holds ``total`` bodies."""
    rng = random.Random(seed)
    existing = Agency.objects.count()
    if existing >= total:
        return 0
    ministries = list(Agency.objects.filter(parent__isnull=False, parent__name="行政院", collective=""))
    new: list[Agency] = []
    counter = Agency.objects.filter(code__startswith="GEN").count()

    def add(name, parent, kind):
        nonlocal counter
        counter += 1
        agency = Agency(name=name, code=f"GEN{counter:05d}", parent=parent, kind=kind, has_integrity_unit=rng.random() > 0.1)
        new.append(agency)
        return agency

    def flush():
        Agency.objects.bulk_create(new)
        AgencyName.objects.bulk_create([AgencyName(agency=a, name=a.name, key=normalize_agency_name(a.name), is_official=True) for a in new])
        new.clear()

    needed = total - existing
    level = 0
    while needed > 0:
        level += 1
        for city in _LOCAL:
            if needed <= 0:
                break
            government = Agency.objects.filter(name=f"{city}政府").first()
            if government is None:
                government = add(f"{city}政府", None, Agency.Kind.LOCAL)
                flush()
                needed -= 1
            for bureau in _BUREAUS:
                if needed <= 0:
                    break
                bureau_name = f"{city}政府{bureau}"
                # Level 1 adds the bureau under the government; later levels add its branch offices.
                name = bureau_name if level == 1 else f"{bureau_name}第{level - 1}分處"
                parent = government if level == 1 else Agency.objects.filter(name=bureau_name).first()
                if parent is not None and not Agency.objects.filter(name=name).exists():
                    add(name, parent, Agency.Kind.LOCAL)
                    needed -= 1
            flush()
        for ministry in ministries:
            for index in range(rng.randint(2, 6)):
                if needed <= 0:
                    break
                name = f"{ministry.short_name or ministry.name}所屬第{level}-{index + 1}{rng.choice(_CENTRAL_UNITS)}"
                if not Agency.objects.filter(name=name).exists():
                    kind = Agency.Kind.STATE_OWNED if rng.random() < 0.15 else Agency.Kind.CENTRAL
                    add(name, ministry, kind)
                    needed -= 1
            flush()
    flush()
    return Agency.objects.count() - existing
