"""Where each role starts after signing in, and the officer's to-do list."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Role

from ..selectors.todo import agency_todo

# The first role a person holds decides where they start (someone can hold several).
START_PAGES = [
    (Role.OFFICER, "reporting:todo"),
    (Role.AGENCY_REVIEWER, "reporting:agency_review_queue"),
    (Role.AAC_REVIEWER, "reporting:review_queue"),
    (Role.NDC_ASSESSOR, "dashboard:home"),
]


def start(request):
    """After signing in: the officer's due items, a reviewer's queue, NDC's dashboard."""
    for role, page in START_PAGES:
        if request.user.has_role(role):
            return redirect(page)
    return redirect("measures:home")


def todo(request):
    """What the agency still owes: returned entries first, then overdue and due periods."""
    agency = request.user.agency
    if agency is None:
        raise Http404(_("您的帳號沒有所屬機關，沒有待辦的填報項目。"))
    today = timezone.localdate()
    return render(request, "reporting/todo.html", {"agency": agency, "todo": agency_todo(agency=agency, today=today), "today": today})
