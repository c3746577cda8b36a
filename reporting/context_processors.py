"""Navigation extras: the unread-notice count and which review queues the user has."""

from django.utils.functional import SimpleLazyObject

from agencies.models import Role

from .models_notices import Notice


def notices(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_any_role:
        return {}
    return {
        # Lazy: the count query runs only on pages whose template shows it.
        "unread_notice_count": SimpleLazyObject(lambda: Notice.objects.filter(recipient=user, read_at__isnull=True).count()),
        "can_review_aac": user.has_role(Role.AAC_REVIEWER, Role.ADMINISTRATOR),
        "can_review_agency": user.has_role(Role.AGENCY_REVIEWER),
    }
