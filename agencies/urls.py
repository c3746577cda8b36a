from django.urls import path

from . import views

app_name = "agencies"

urlpatterns = [
    path("", views.agency_list, name="list"),
    path("tree/", views.agency_tree, name="tree"),
    path("<int:pk>/", views.agency_detail, name="detail"),
]
