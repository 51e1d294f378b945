from django.urls import path

from . import views

app_name = "innovations"

urlpatterns = [
    path("", views.innovation_list, name="list"),
    # Before the case pages, so that "submit" is not taken for a case's slug.
    path("submit/", views.submit, name="submit"),
    path("submit/thanks/", views.thanks, name="thanks"),
    path("<slug:slug>/", views.innovation_detail, name="detail"),
]
