from django.urls import path

from .views import dashboard

app_name = "dashboard"

urlpatterns = [
    path("", dashboard.dashboard_home, name="home"),
    path("strategies/<int:pk>/", dashboard.dashboard_strategy, name="strategy"),
    path("measures/<int:pk>/", dashboard.dashboard_measure, name="measure"),
    path("indicators/<int:pk>/", dashboard.dashboard_indicator, name="indicator"),
    path("agencies/<int:pk>/", dashboard.dashboard_agency, name="agency"),
    path("completeness/", dashboard.completeness_page, name="completeness"),
    path("completeness/remind/", dashboard.completeness_remind, name="remind"),
]
