from django.urls import include, path

from .views import entries, obligations, periods, todo

app_name = "reporting"

urlpatterns = [
    path("", obligations.obligation_list, name="obligations"),
    path("report/", entries.my_items, name="my_items"),
    path("todo/", todo.todo, name="todo"),
    path("report/<int:obligation>/<int:period>/", entries.entry_edit, name="entry"),
    path("entries/<int:pk>/", entries.entry_detail, name="entry_detail"),
    path("entries/<int:pk>/<slug:action>/", entries.entry_action, name="entry_action"),
    path("periods/", periods.period_list, name="periods"),
    path("periods/<int:pk>/", periods.period_update, name="period_update"),
    path("periods/<int:pk>/reopen/", periods.period_reopen, name="period_reopen"),
    path("", include("reporting.urls_evidence")),
    path("", include("reporting.urls_spreadsheets")),
    path("", include("reporting.urls_review")),
]
