"""URLs of reporting/views/spreadsheets.py (included by reporting/urls.py)."""

from django.urls import path

from .views import spreadsheets

urlpatterns = [
    path("report/sheet/<int:agency>/<int:year>/<int:quarter>/<slug:fmt>/", spreadsheets.sheet_download, name="sheet_download"),
    path("report/sheet/upload/", spreadsheets.sheet_upload, name="sheet_upload"),
    path("report/sheet/upload/<slug:token>/", spreadsheets.sheet_preview, name="sheet_preview"),
]
