from django.contrib import admin
from django.urls import include, path

from reporting.views.todo import start

from .favicon import favicon
from .health import healthz

admin.site.site_header = "國家廉政建設行動方案管考系統"
admin.site.site_title = "廉政行動方案管考"
admin.site.index_title = "系統管理"

urlpatterns = [
    # Probed by address from docker-compose.yml, never reversed; tests/test_compose.py pins who may call it.
    path("healthz", healthz),
    # Browsers and crawlers ask for /favicon.ico whatever the page's <link rel="icon"> says.
    path("favicon.ico", favicon),
    path("", start, name="start"),  # the portal's address, and where sign-in lands: each role's own work
    path("accounts/", include("agencies.auth_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("registry/", include("agencies.urls")),
    path("obligations/", include("reporting.urls")),
    path("dashboard/", include("reporting.urls_dashboard")),
    path("reports/", include("reporting.urls_reports")),
    path("targets/", include("reporting.urls_targets")),
    path("", include("measures.urls")),
]

handler404 = "anticorruption.errors.page_not_found"
