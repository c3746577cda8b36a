from django.urls import path

from .views import reports

app_name = "reports"

urlpatterns = [
    path("", reports.report_list, name="list"),
    path("request/", reports.report_request, name="request"),
    path("<int:pk>/", reports.report_detail, name="detail"),
    path("<int:pk>/status/", reports.report_status, name="status"),
    path("<int:pk>/agencies/", reports.report_agency_files, name="agency_files"),
    path("<int:pk>/publish/", reports.report_publish, name="publish"),
    path("<int:pk>/rerun/", reports.report_rerun, name="rerun"),
    path("files/<int:pk>/", reports.report_download, name="download"),
]
