from django.urls import include, path

from .views import entries, obligations

app_name = "reporting"

urlpatterns = [
    path("", obligations.obligation_list, name="obligations"),
    path("report/", entries.my_items, name="my_items"),
    path("report/<int:obligation>/<int:period>/", entries.entry_edit, name="entry"),
    path("entries/<int:pk>/", entries.entry_detail, name="entry_detail"),
    path("entries/<int:pk>/<slug:action>/", entries.entry_action, name="entry_action"),
    path("", include("reporting.urls_evidence")),
    path("", include("reporting.urls_spreadsheets")),
    path("", include("reporting.urls_review")),
]
