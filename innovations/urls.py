from django.urls import path

from . import views

app_name = "innovations"

urlpatterns = [
    path("", views.innovation_list, name="list"),
    # Before the case pages, so that "submit" is not taken for a case's slug.
    path("submit/", views.submit, name="submit"),
    path("submit/thanks/", views.thanks, name="thanks"),
    path("map/", views.innovation_map, name="map"),
    path("map.json", views.innovation_map_data, name="map_data"),
    path("map/cases/", views.map_cases, name="map_cases"),
    path("stats/", views.innovation_stats, name="stats"),
    path("<slug:slug>/", views.innovation_detail, name="detail"),
    path("<slug:slug>/popup/", views.innovation_popup, name="popup"),
]

# Open data (innovations.api). Before the case pages' JSON, so that "export.json" is the
# export and not a case called "export".
from . import api  # noqa: E402

urlpatterns += [
    path("export.<str:format>", api.export, name="export"),
    path("feed.atom", api.feed, name="feed"),
    path("<slug:slug>.json", views.case_json, name="case_json"),
]
