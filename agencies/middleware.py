from django.shortcuts import render
from django.urls import reverse


class RoleRequiredMiddleware:
    """A signed-in user who holds no role sees only the page that says so
    (and may sign out); every other URL answers with that page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not user.has_any_role and not self._always_allowed(request.path):
            return render(request, "registration/no_role.html", status=403)
        return self.get_response(request)

    @staticmethod
    def _always_allowed(path):
        allowed = (reverse("logout"), reverse("password_change"), reverse("password_change_done"))
        return path in allowed or path.startswith("/static/")
