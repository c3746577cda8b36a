"""Reading the agency registry, always through ``visible_to(user)``."""

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from .models import Agency, AgencyName, Role
from .naming import UnknownAgencyName, normalize_agency_name, resolve_agency_name


def agency_list(*, user, query: str = "", kind: str = "", status: str = "active") -> QuerySet[Agency]:
    agencies = Agency.objects.visible_to(user).select_related("parent")
    if query:
        key = normalize_agency_name(query)
        matches = Q(name__icontains=query) | Q(short_name__icontains=query) | Q(code__iexact=query) | Q(names__key__icontains=key)
        resolved = _resolved_ids(query)  # 法務部(檢察司、調查局) names bodies no alias spells out
        if resolved:
            matches |= Q(pk__in=resolved)
        agencies = agencies.filter(matches).distinct()
    if kind:
        agencies = agencies.filter(kind=kind)
    if status == "active":
        agencies = agencies.filter(is_active=True)
    elif status == "retired":
        agencies = agencies.filter(is_active=False)
    return agencies.order_by("name")


def agency_tree(*, user) -> QuerySet[Agency]:
    """Depth-first order with depth, for an indented, paginated tree."""
    return Agency.objects.visible_to(user).with_tree_fields().order_siblings_by("name").annotate(child_count=Count("children")).select_related("parent")


def agency_get(*, user, pk: int) -> Agency:
    """404 for an agency outside the user's scope: its existence is not revealed."""
    return get_object_or_404(Agency.objects.visible_to(user).select_related("parent"), pk=pk)


def _resolved_ids(printed: str) -> list[int]:
    def lookup(key):
        row = AgencyName.objects.filter(key=key).values_list("agency_id", flat=True).first()
        return row

    try:
        return resolve_agency_name(printed, lookup)
    except UnknownAgencyName:
        return []


def is_agency_member(user, agency_id, *roles) -> bool:
    """Whether ``user`` holds one of ``roles`` for the agency: in it, or, for an agency
    reviewer with oversight, in a body above it. The workflows' one membership rule."""
    if not user.has_role(*roles):
        return False
    if user.agency_id == agency_id:
        return True
    if user.oversees_subordinates and Role.AGENCY_REVIEWER in roles:
        return Agency.objects.descendants(user.agency_id, include_self=True).filter(pk=agency_id).exists()
    return False
