"""The year's target sheet: download, then upload (preview, then all or nothing)."""

from django.urls import path

from .views import target_sheets as views

urlpatterns = [
    path("<int:year>/sheet.<slug:fmt>", views.sheet_download_all, name="sheet_all"),
    path("<int:year>/agencies/<int:agency>/sheet.<slug:fmt>", views.sheet_download, name="sheet"),
    path("<int:year>/sheet/upload/", views.sheet_upload, name="sheet_upload"),
    path("<int:year>/sheet/upload/<str:token>/", views.sheet_preview, name="sheet_preview"),
]
