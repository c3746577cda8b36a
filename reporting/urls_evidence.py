"""URLs of reporting/views/evidence.py (included by reporting/urls.py).

Uploads sit one level below ``entries/<pk>/<action>/`` so that pattern, matched
first, never takes them.
"""

from django.urls import path

from .views import evidence

urlpatterns = [
    path("entries/<int:pk>/evidence/add/", evidence.evidence_add, name="evidence_add"),
    path("evidence/<int:pk>/", evidence.evidence_download, name="evidence_download"),
    path("evidence/<int:pk>/remove/", evidence.evidence_remove, name="evidence_remove"),
]
