from .models import PlanVersion


def plan_versions(request):
    """The version switch in the navigation bar needs every version on every page."""
    if not getattr(request, "user", None) or not request.user.is_authenticated or not request.user.has_any_role:
        return {}
    return {"all_plan_versions": PlanVersion.objects.only("code", "title", "status", "first_year", "last_year")}
