"""URLs of reporting/views/review.py (included by reporting/urls.py): review queues and notices."""

from django.urls import path

from .views import review

urlpatterns = [
    path("review/", review.aac_review_queue, name="review_queue"),
    path("review/agency/", review.agency_review_queue, name="agency_review_queue"),
    path("notices/", review.notice_list, name="notices"),
    path("notices/read/", review.notices_read, name="notices_read"),
    path("notices/<int:pk>/open/", review.notice_open, name="notice_open"),
]
