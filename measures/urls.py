from django.urls import path

from . import views

app_name = "measures"

urlpatterns = [
    path("plans/", views.home, name="home"),  # the version in force ("/" is each role's start page)
    # Before plans/<code>/: "import" is no version code.
    path("plans/import/", views.plan_upload, name="import"),
    path("plans/import/<slug:token>/", views.plan_import_preview, name="import_preview"),
    path("plans/<slug:code>/", views.plan_overview, name="plan"),
    path("plans/<slug:code>/strategies/<int:pk>/", views.strategy_detail, name="strategy"),
    path("plans/<slug:code>/measures/<int:pk>/", views.measure_detail, name="measure"),
    path("plans/<slug:code>/search/", views.plan_search, name="search"),
    path("plans/<slug:code>/agencies/", views.agency_list, name="agencies"),
    path("plans/<slug:code>/agencies/<int:pk>/", views.agency_detail, name="agency"),
    path("plans/<slug:code>/export.<slug:fmt>", views.plan_export, name="export"),
    path("plans/<slug:code>/key-items/", views.key_items, name="key_items"),
    path("plans/<slug:code>/changes/", views.plan_changes, name="changes"),
]
