"""URLs of reporting/views/spreadsheets.py (included by reporting/urls.py)."""

urlpatterns = []
