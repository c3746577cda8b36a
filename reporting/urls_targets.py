"""Setting each year's target values (年度績效目標值): /targets/…"""

from django.urls import include, path

from .views import target_setting as views

app_name = "targets"

urlpatterns = [
    path("", views.target_year_list, name="years"),
    path("open/", views.target_year_open, name="open"),
    path("<int:year>/", views.target_year_detail, name="year"),
    path("<int:year>/agencies/<int:agency>/", views.agency_proposals, name="agency"),
    path("<int:year>/agencies/<int:agency>/submit/", views.agency_submit, name="agency_submit"),
    path("<int:year>/agencies/<int:agency>/forward/", views.agency_forward, name="agency_forward"),
    path("<int:year>/review/", views.review_queue, name="review"),
    path("<int:year>/review/approve/", views.review_approve, name="review_approve"),
    path("<int:year>/publish/", views.target_year_publish, name="publish"),
    path("<int:year>/reporters/", views.reporter_rules, name="reporters"),
    path("<int:year>/reporters/<int:indicator>/", views.reporter_rule_edit, name="reporter_rule"),
    path("proposals/<int:pk>/", views.proposal_edit, name="proposal"),
    path("proposals/<int:pk>/<slug:action>/", views.proposal_action, name="proposal_action"),
    path("values/<int:pk>/revise/", views.value_revise, name="revise"),
    path("", include("reporting.urls_target_sheets")),
]
