"""Every URL pattern of the project, requested by every persona.

A new URL without an entry in EXPECTED fails here, so no view can ship
without someone deciding who may see it. Scoping of the *content* of lists and
exports is checked in the tests below the matrix.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from measures.models import Measure, Strategy
from reporting.models import Obligation
from reporting.services import obligations_generate

from .personas import PERSONAS, make_personas

pytestmark = pytest.mark.django_db

LOGIN = "login"  # redirect to the portal's sign-in page
ADMIN_LOGIN = "admin_login"  # redirect to the admin's sign-in page
ANY_LOGIN = "any_login"  # redirect to either sign-in page
REDIRECT = "redirect"  # any redirect
ROLES = ["officer_a", "officer_b", "reviewer", "aac", "ndc", "admin"]


def everyone_with_a_role(status=200):
    return {"anonymous": LOGIN, "no_role": 403, **{persona: status for persona in ROLES}}


def public(status=200, signed_in=200):
    # Pages a signed-out visitor needs; a signed-in user without a role still
    # sees only the no-role page.
    return {"anonymous": status, "no_role": 403, **{persona: signed_in for persona in ROLES}}


# url name → (kwargs builder, {persona: expected status or redirect})
EXPECTED = {
    "login": (lambda c: {}, public()),
    "logout": (lambda c: {}, {"anonymous": LOGIN, "no_role": 405, **{p: 405 for p in ROLES}}),  # POST only
    "password_change": (lambda c: {}, {"anonymous": LOGIN, "no_role": 200, **{p: 200 for p in ROLES}}),
    "password_change_done": (lambda c: {}, {"anonymous": LOGIN, "no_role": 200, **{p: 200 for p in ROLES}}),
    "password_reset": (lambda c: {}, public()),
    "password_reset_done": (lambda c: {}, public()),
    "password_reset_confirm": (lambda c: {"uidb64": "MQ", "token": "set-password"}, public()),
    "password_reset_complete": (lambda c: {}, public()),
    "measures:home": (lambda c: {}, everyone_with_a_role(302)),
    # Where sign-in lands: a redirect to each role's own work (tests/test_todo.py).
    "start": (lambda c: {}, everyone_with_a_role(302)),
    "measures:plan": (lambda c: {"code": "112"}, everyone_with_a_role()),
    "measures:strategy": (lambda c: {"code": "112", "pk": c["strategy"].pk}, everyone_with_a_role()),
    "measures:measure": (lambda c: {"code": "112", "pk": c["measure"].pk}, everyone_with_a_role()),
    "measures:search": (lambda c: {"code": "112"}, everyone_with_a_role()),
    "measures:agencies": (lambda c: {"code": "112"}, everyone_with_a_role()),
    # The plan's own assignments are the published plan: readable by every role.
    "measures:agency": (lambda c: {"code": "112", "pk": c["personas"].agency_b.pk}, everyone_with_a_role()),
    "measures:export": (lambda c: {"code": "112", "fmt": "xlsx"}, everyone_with_a_role()),
    "measures:key_items": (lambda c: {"code": "112"}, everyone_with_a_role()),
    # How a version differs from the one before is part of the published plan.
    "measures:changes": (lambda c: {"code": "112"}, everyone_with_a_role()),
    # Plan files come back in only through AAC reviewers and administrators.
    "measures:import": (
        lambda c: {}, {"anonymous": LOGIN, "no_role": 403, "officer_a": 403, "officer_b": 403, "reviewer": 403, "aac": 200, "ndc": 403, "admin": 200},
    ),
    # A token nobody uploaded: refused before the lookup for everyone else, not found for them.
    "measures:import_preview": (
        lambda c: {"token": "0" * 32}, {"anonymous": LOGIN, "no_role": 403, "officer_a": 403, "officer_b": 403, "reviewer": 403, "aac": 404, "ndc": 403, "admin": 404},
    ),
    "agencies:list": (lambda c: {}, everyone_with_a_role()),
    "agencies:tree": (lambda c: {}, everyone_with_a_role()),
    # Agency B's registry page: hidden from agency A's officer and from a reviewer elsewhere.
    "agencies:detail": (
        lambda c: {"pk": c["personas"].agency_b.pk},
        {"anonymous": LOGIN, "no_role": 403, "officer_a": 404, "officer_b": 200, "reviewer": 404, "aac": 200, "ndc": 200, "admin": 200},
    ),
    "reporting:obligations": (lambda c: {}, everyone_with_a_role()),
}

# Admin pages: only administrators; everyone else is sent to the admin sign-in.
NOT_STAFF = ["officer_a", "officer_b", "reviewer", "aac", "ndc"]

def _feature_expectations():
    """Each feature may keep its URL expectations in tests/access_expectations/<feature>.py
    as an EXPECTED dict of the same shape; they are merged here."""
    import importlib
    import pkgutil

    from . import access_expectations

    merged = {}
    for module in pkgutil.iter_modules(access_expectations.__path__):
        merged.update(importlib.import_module(f"{access_expectations.__name__}.{module.name}").EXPECTED)
    return merged


EXPECTED.update(_feature_expectations())

ADMIN_DEFAULT = {"anonymous": ANY_LOGIN, "no_role": 403, **{p: ADMIN_LOGIN for p in NOT_STAFF}, "admin": 200}
ADMIN_SPECIAL = {
    "admin:login": {"anonymous": 200, "no_role": 403, "admin": 302, **{p: 200 for p in NOT_STAFF}},
    "admin:logout": {"anonymous": ANY_LOGIN, "no_role": 403, "admin": 405, **{p: REDIRECT for p in NOT_STAFF}},
    # The import's second step only accepts the confirmation form (POST).
    "admin:agencies_agency_process_import": {**ADMIN_DEFAULT, "admin": 405},
}
ADMIN_SKIPPED_ACTIONS = {"view_on_site", "autocomplete"}  # need query parameters; covered by Django's own tests


def _url_names(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _url_names(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern


def all_url_names():
    return sorted({name for name, _ in _url_names(get_resolver().url_patterns)})


def test_every_url_has_an_expectation():
    missing = [name for name in all_url_names() if not name.startswith("admin:") and name not in EXPECTED]
    assert not missing, f"URLs without an access expectation in tests/test_access_matrix.py: {missing}"


@pytest.fixture
def matrix(plan112):
    obligations_generate(year=112)
    personas = make_personas()
    return {
        "personas": personas,
        "strategy": Strategy.objects.get(plan=plan112, number=1),
        "measure": Measure.objects.filter(strategy__plan=plan112).first(),
    }


def _admin_cases():
    from django.contrib import admin

    cases = []
    registry = {f"{m._meta.app_label}_{m._meta.model_name}": m for m in admin.site._registry}
    for name in all_url_names():
        if not name.startswith("admin:"):
            continue
        if name in ADMIN_SPECIAL:
            cases.append((name, None))
            continue
        parts = name.removeprefix("admin:")
        for key, model in registry.items():
            if parts.startswith(key + "_"):
                action = parts[len(key) + 1:]
                if action not in ADMIN_SKIPPED_ACTIONS:
                    cases.append((name, (model, action)))
                break
        else:
            if parts not in ADMIN_SKIPPED_ACTIONS and parts not in {"app_list"}:
                cases.append((name, None))
    return cases


def _parameters(name):
    pattern = dict(_url_names(get_resolver().url_patterns))[name].pattern
    return set(pattern.regex.groupindex)


def _request(client, personas, persona, url):
    user = personas.by_name(persona)
    if user is not None:
        client.force_login(user)
    return client.get(url)


def _check(response, expected, url):
    if expected == LOGIN:
        assert response.status_code == 302 and response.url.startswith(reverse("login")), (url, response.status_code)
    elif expected == ANY_LOGIN:
        assert response.status_code == 302 and response.url.startswith((reverse("login"), reverse("admin:login"))), (url, response.status_code)
    elif expected == REDIRECT:
        assert response.status_code == 302, (url, response.status_code)
    elif expected == ADMIN_LOGIN:
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login")), (url, response.status_code)
    else:
        assert response.status_code == expected, (url, response.status_code, expected)


@pytest.mark.parametrize("persona", PERSONAS)
def test_portal_urls(client, matrix, persona):
    for name, (kwargs, expectations) in EXPECTED.items():
        url = reverse(name, kwargs=kwargs(matrix))
        client.logout()
        _check(_request(client, matrix["personas"], persona, url), expectations[persona], url)


@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_urls(client, matrix, persona):
    for name, target in _admin_cases():
        expected = ADMIN_SPECIAL.get(name, ADMIN_DEFAULT)[persona]
        kwargs = {}
        if target is not None:
            model, action = target
            if action in ("change", "delete", "history"):
                obj = model._default_manager.first()
                if obj is None:
                    continue
                kwargs = {"object_id": obj.pk}
            elif action not in ("changelist", "add") and "password" in action:
                kwargs = {"id": matrix["personas"].admin.pk}
        if "id" in _parameters(name):
            kwargs = {"id": matrix["personas"].admin.pk}
        url = reverse(name, kwargs=kwargs)
        client.logout()
        response = _request(client, matrix["personas"], persona, url)
        if expected == 200 and response.status_code == 403:
            # Some admin views refuse even superusers by design (e.g. adding audit events).
            assert target and target[1] in ("add", "change", "delete"), (url, response.status_code)
            continue
        _check(response, expected, url)


# ------------------------------------------------------- content scoping


def test_registry_list_shows_an_officer_only_their_agency(client, matrix):
    personas = matrix["personas"]
    client.force_login(personas.officer_a)
    response = client.get(reverse("agencies:list"))
    assert [agency.name for agency in response.context["page"]] == ["交通部"]
    response = client.get(reverse("agencies:list"), {"q": "經濟部"})
    assert list(response.context["page"]) == []


def test_reviewer_with_oversight_sees_the_bodies_under_their_agency(client, matrix):
    client.force_login(matrix["personas"].reviewer)
    names = {agency.name for agency in client.get(reverse("agencies:list"), {"status": "all"}).context["page"]}
    assert {"法務部", "法務部廉政署", "法務部調查局"} <= names
    assert "交通部" not in names


def test_obligations_table_is_scoped_even_with_another_agency_in_the_filter(client, matrix):
    personas = matrix["personas"]
    client.force_login(personas.officer_a)
    response = client.get(reverse("reporting:obligations"), {"agency": personas.agency_b.pk})
    assert list(response.context["page"]) == []
    response = client.get(reverse("reporting:obligations"))
    assert {o.agency_id for o in response.context["page"]} == {personas.agency_a.pk}
    client.force_login(personas.aac)
    response = client.get(reverse("reporting:obligations"), {"agency": personas.agency_b.pk})
    assert {o.agency_id for o in response.context["page"]} == {personas.agency_b.pk}


def test_obligation_queryset_scoping(matrix):
    personas = matrix["personas"]
    assert set(Obligation.objects.visible_to(personas.officer_b).values_list("agency_id", flat=True)) == {personas.agency_b.pk}
    assert Obligation.objects.visible_to(personas.no_role).count() == 0
    assert Obligation.objects.visible_to(personas.ndc).count() == Obligation.objects.count()
