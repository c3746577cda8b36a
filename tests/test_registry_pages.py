"""Registry pages: browse, search by alias, obligations per body; fixed query counts at scale."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agencies.demo import generated_agencies_ensure
from agencies.models import Agency
from reporting.services import obligations_generate

from .personas import make_personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def personas(plan112):
    return make_personas()


def test_search_by_alias_finds_todays_body(client, personas):
    client.force_login(personas.aac)
    response = client.get(reverse("agencies:list"), {"q": "行政院農業委員會"})
    assert [a.name for a in response.context["page"]] == ["農業部"]
    response = client.get(reverse("agencies:list"), {"q": "法務部（廉政署）"})
    assert "法務部廉政署" in [a.name for a in response.context["page"]]


def test_filters_by_kind_and_retirement(client, personas):
    client.force_login(personas.aac)
    judicial = client.get(reverse("agencies:list"), {"kind": "judicial"}).context["page"]
    assert {a.kind for a in judicial} == {"judicial"}
    transport = Agency.objects.get(name="交通部")
    transport.is_active = False
    transport.save()
    active = [a.name for a in client.get(reverse("agencies:list")).context["page"].paginator.object_list]
    retired = [a.name for a in client.get(reverse("agencies:list"), {"status": "retired"}).context["page"].paginator.object_list]
    assert "交通部" not in active and retired == ["交通部"]
    response = client.get(reverse("agencies:list"), {"kind": "<script>", "status": "bogus"})
    assert response.status_code == 200  # unknown filter values are ignored


def test_agency_page_lists_its_obligations(client, personas):
    obligations_generate(year=112)
    client.force_login(personas.officer_a)
    response = client.get(reverse("agencies:detail", args=[personas.agency_a.pk]), {"year": "民國112年"})
    assert response.status_code == 200
    references = {o.indicator.measure.reference for o in response.context["obligations"]}
    assert "7(五)" in references and "1(一)" in references


def test_tree_shows_depth_under_parents(client, personas):
    client.force_login(personas.aac)
    rows = list(client.get(reverse("agencies:tree")).context["page"])
    by_name = {a.name: a for a in rows}
    assert by_name["法務部廉政署"].tree_depth == by_name["法務部"].tree_depth + 1


def _count_queries(client, url, **params):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_query_counts_do_not_grow_with_the_number_of_agencies(client, personas):
    """The tree, the registry list, the obligations table and an agency page run the
    same number of queries with the reference agencies and with 600 more."""
    obligations_generate(year=112)
    client.force_login(personas.aac)
    urls = [
        (reverse("agencies:list"), {}),
        (reverse("agencies:tree"), {"page": 2}),
        (reverse("reporting:obligations"), {"page": 2}),
        (reverse("agencies:detail", args=[personas.agency_a.pk]), {}),
    ]
    small = [_count_queries(client, url, **params) for url, params in urls]
    generated_agencies_ensure(total=Agency.objects.count() + 600)
    obligations_generate(year=112)
    large = [_count_queries(client, url, **params) for url, params in urls]
    assert large == small
    assert max(large) <= 14
