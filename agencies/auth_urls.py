"""Sign-in URLs that replace Django's views of the same name and path.

Included under "accounts/" before django.contrib.auth.urls, which still
supplies the rest (logout, the "done" and "complete" pages). Paths and names
are Django's, so every {% url %} and the RoleRequiredMiddleware allow-list
keep working.
"""

from django.urls import path

from . import auth_views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password_reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
]
