"""Reading the agency registry, always through ``visible_to(user)``."""

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from .models import Agency
from .naming import normalize_agency_name


def agency_list(*, user, query: str = "", kind: str = "", status: str = "active") -> QuerySet[Agency]:
    agencies = Agency.objects.visible_to(user).select_related("parent")
    if query:
        key = normalize_agency_name(query)
        agencies = agencies.filter(
            Q(name__icontains=query) | Q(short_name__icontains=query) | Q(code__iexact=query) | Q(names__key__icontains=key)
        ).distinct()
    if kind:
        agencies = agencies.filter(kind=kind)
    if status == "active":
        agencies = agencies.filter(is_active=True)
    elif status == "retired":
        agencies = agencies.filter(is_active=False)
    return agencies.order_by("name")


def agency_tree(*, user) -> QuerySet[Agency]:
    """Depth-first order with depth, for an indented, paginated tree."""
    return Agency.objects.visible_to(user).with_tree_fields().annotate(child_count=Count("children")).select_related("parent")


def agency_get(*, user, pk: int) -> Agency:
    """404 for an agency outside the user's scope: its existence is not revealed."""
    return get_object_or_404(Agency.objects.visible_to(user).select_related("parent"), pk=pk)
