"""URLs of reporting/views/evidence.py (included by reporting/urls.py)."""

urlpatterns = []
