"""URLs of reporting/views/review.py (included by reporting/urls.py)."""

urlpatterns = []
