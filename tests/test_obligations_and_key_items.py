"""Who reports what each year, and the yearly key-item (院列管) marks."""

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse

from agencies.models import Agency, Role
from agencies.services import role_grant
from measures.models import Indicator, KeyItem
from measures.services import key_items_set
from reporting.models import Obligation, ObligationScope
from reporting.services import obligation_scope_set, obligations_generate

from .conftest import find_measure

pytestmark = pytest.mark.django_db


@pytest.fixture
def obligations_112(plan112):
    obligations_generate(year=112)
    return Obligation.objects.filter(year=112)


def _reporting_bodies():
    return Agency.objects.reporting()


def test_every_agency_expands_to_every_active_body_with_an_integrity_unit(obligations_112, plan112):
    measure = find_measure(plan112, 4, "(一)")  # 各機關、法務部（廉政署）
    indicator = measure.indicators.get()
    reporters = set(obligations_112.filter(indicator=indicator).values_list("agency__name", flat=True))
    assert reporters == set(_reporting_bodies().values_list("name", flat=True))
    assert "行政院" not in reporters  # no integrity unit of its own
    assert "各機關" not in reporters  # a collective never reports itself
    source = obligations_112.get(indicator=indicator, agency__name="交通部").source
    assert source == Obligation.Source.EVERY_AGENCY
    # Named as well as covered by 各機關 in the same role: one obligation, never two.
    assert obligations_112.filter(indicator=indicator, agency__name="法務部廉政署").count() == 1


def test_named_lead_and_assisting_agencies_report_their_own(obligations_112, plan112):
    measure = find_measure(plan112, 7, "(五)")
    indicator = measure.indicators.get()
    rows = {o.agency.name: o for o in obligations_112.filter(indicator=indicator).select_related("agency")}
    assert set(rows) == {"國軍退除役官兵輔導委員會", "經濟部", "交通部", "金融監督管理委員會"}
    assert all(o.source == Obligation.Source.NAMED and o.role == "lead" for o in rows.values())
    assisting = obligations_112.filter(indicator__measure=find_measure(plan112, 2, "(四)"), role="assisting")
    assert {"法務部檢察司", "法務部廉政署", "行政院洗錢防制辦公室"} <= set(assisting.values_list("agency__name", flat=True))


def test_target_restricted_assignments_map_to_matching_indicators(obligations_112, plan112):
    measure = find_measure(plan112, 1, "(一)")
    # 中央銀行 assists on target 6 only, so its named duty is indicator 6; as one of
    # 各機關 it also reports indicators 1–5 (led by every agency).
    central_bank = obligations_112.filter(indicator__measure=measure, agency__name="中央銀行")
    assert central_bank.get(indicator__number=6).role == "assisting"
    assert central_bank.get(indicator__number=6).source == Obligation.Source.NAMED
    assert {o.indicator.number for o in central_bank.filter(source=Obligation.Source.EVERY_AGENCY)} == {1, 2, 3, 4, 5}


def test_retired_agencies_keep_their_obligations_but_get_no_new_ones(obligations_112, plan112):
    transport = Agency.objects.get(name="交通部")
    kept = set(obligations_112.filter(agency=transport).values_list("pk", flat=True))
    assert kept
    transport.is_active = False
    transport.save()
    stats = obligations_generate(year=112)
    assert stats.deleted == 0
    assert set(Obligation.objects.filter(year=112, agency=transport).values_list("pk", flat=True)) == kept
    # A later year's obligations leave the retired body out (once that year is published).
    from django.utils import timezone

    from measures.models import TargetYear

    TargetYear.objects.create(plan=plan112, year=113, state=TargetYear.State.PUBLISHED, published_at=timezone.now())
    obligations_generate(year=113)
    assert not Obligation.objects.filter(year=113, agency=transport).exists()
    assert Obligation.objects.filter(year=113).exists()


def test_generating_twice_changes_nothing(obligations_112):
    before = sorted(obligations_112.values_list("agency_id", "indicator_id", "role", "source"))
    stats = obligations_generate(year=112)
    assert (stats.created, stats.updated, stats.deleted) == (0, 0, 0)
    assert sorted(Obligation.objects.filter(year=112).values_list("agency_id", "indicator_id", "role", "source")) == before


def test_administrator_can_narrow_every_agency_to_central_bodies(obligations_112, plan112):
    indicator = find_measure(plan112, 4, "(一)").indicators.get()
    everyone = obligations_112.filter(indicator=indicator).count()
    obligation_scope_set(year=112, kinds=["central"], user=None)
    narrowed = Obligation.objects.filter(year=112, indicator=indicator)
    assert narrowed.count() < everyone
    assert not narrowed.filter(agency__kind="judicial", source=Obligation.Source.EVERY_AGENCY).exists()
    assert ObligationScope.objects.get(year=112).kinds == ["central"]


def test_groups_expand_to_the_bodies_under_them(plan112):
    group = Agency.objects.get(name="各地方檢察署")
    taipei = Agency.objects.create(name="臺灣臺北地方檢察署", parent=group, kind="judicial")
    obligations_generate(year=112)
    measure = find_measure(plan112, 8, "(五)")
    reporters = set(Obligation.objects.filter(year=112, indicator__measure=measure).values_list("agency__name", flat=True))
    assert taipei.name in reporters and "各地方檢察署" not in reporters


def test_year_without_a_plan_is_refused_with_a_message(db):
    from reporting.services import ObligationError

    with pytest.raises(ObligationError, match="民國99年沒有適用"):
        obligations_generate(year=99)


def test_generate_obligations_command(plan112):
    out = io.StringIO()
    call_command("generate_obligations", "民國112年", stdout=out)
    assert "民國112年填報義務：新增" in out.getvalue()
    assert Obligation.objects.filter(year=112).exists()


# ---------------------------------------------------------------- key items


@pytest.fixture
def assessor(db, django_user_model):
    user = django_user_model.objects.create_user(username="ndc", password="x-password-123", agency=Agency.objects.get(name="國家發展委員會"))
    role_grant(user=user, role=Role.NDC_ASSESSOR, granted_by=None)
    return user


def test_key_item_marks_are_per_year(plan112, assessor):
    first, second = find_measure(plan112, 1, "(一)"), find_measure(plan112, 8, "(五)")
    key_items_set(plan=plan112, year=112, measure_ids={first.pk, second.pk}, user=assessor)
    assert key_items_set(plan=plan112, year=113, measure_ids={second.pk}, user=assessor) == (1, 0)
    assert set(KeyItem.objects.filter(year=112).values_list("measure_id", flat=True)) == {first.pk, second.pk}
    assert set(KeyItem.objects.filter(year=113).values_list("measure_id", flat=True)) == {second.pk}
    assert key_items_set(plan=plan112, year=112, measure_ids={second.pk}, user=assessor) == (0, 1)


def test_only_assessors_and_administrators_mark_key_items(plan112, reader):
    with pytest.raises(PermissionDenied):
        key_items_set(plan=plan112, year=112, measure_ids=set(), user=reader)


def test_key_items_page_marks_and_shows_the_badge(client, plan112, assessor, reader):
    measure = find_measure(plan112, 7, "(五)")
    client.force_login(assessor)
    url = reverse("measures:key_items", args=["112"])
    response = client.post(url, {"year": "112", "measures": [measure.pk]})
    assert response.status_code == 302
    client.force_login(reader)
    page = client.get(measure.get_absolute_url())
    assert "院列管（112年）" in page.text
    listing = client.get(url, {"year": "112"})
    assert 'name="measures"' not in listing.text  # readers cannot edit
    assert listing.text.count("院列管</span>") >= 1
    assert client.post(url, {"year": "112", "measures": []}).status_code == 403
    assert KeyItem.objects.filter(year=112, measure=measure).exists()


def test_key_items_page_rejects_a_year_outside_the_version(client, plan112, assessor):
    client.force_login(assessor)
    response = client.get(reverse("measures:key_items", args=["112"]), {"year": "abc"})
    assert response.status_code == 200
    assert "不是有效的民國年度" in response.text


def test_roles_are_granted_and_revoked_in_the_admin_and_recorded(admin_client, plan112, django_user_model):
    from agencies.models import AuditEvent, RoleGrant

    user = django_user_model.objects.create_user(username="newcomer", password="x-password-123", agency=Agency.objects.get(name="交通部"))
    add_url = reverse("admin:agencies_rolegrant_add")
    response = admin_client.post(add_url, {"user": user.pk, "role": "officer"})
    assert response.status_code == 302
    grant = RoleGrant.objects.get(user=user, role="officer")
    assert AuditEvent.objects.filter(action="role_granted", subject=user).exists()
    # Granting it again is refused with a message, not a crash.
    again = admin_client.post(add_url, {"user": user.pk, "role": "officer"})
    assert again.status_code == 200 and "已有「填報人」角色" in again.text
    # Oversight belongs to agency reviewers only.
    wrong = admin_client.post(add_url, {"user": user.pk, "role": "ndc_assessor", "oversees_subordinates": "on"})
    assert "只有機關審核人可督導所屬機關" in wrong.text
    changelist = reverse("admin:agencies_rolegrant_changelist")
    admin_client.post(changelist, {"action": "revoke_selected", "_selected_action": [grant.pk]})
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoked_by is not None
    assert AuditEvent.objects.filter(action="role_revoked", subject=user).exists()
    assert RoleGrant.objects.filter(user=user).count() == 1  # history kept


def test_agency_roles_need_an_agency(db, django_user_model):
    from django.core.exceptions import ValidationError

    user = django_user_model.objects.create_user(username="floating", password="x-password-123")
    with pytest.raises(ValidationError, match="須先設定使用者的所屬機關"):
        role_grant(user=user, role=Role.OFFICER, granted_by=None)
