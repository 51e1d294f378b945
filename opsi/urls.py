from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from innovations import api, views

urlpatterns = [
    path("admin/", admin.site.urls),
]

# English at /innovations/, Portuguese at /pt/innovations/: plain links, no cookies.
urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("about/", views.about, name="about"),
    path("innovations/", include("innovations.urls")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    prefix_default_language=False,
)

# Open data (innovations.api): the API's description, and pages other sites may frame.
urlpatterns += [
    path("api/openapi.json", api.openapi_json, name="openapi"),
    path("robots.txt", api.robots_txt, name="robots"),
    path(
        "sitemap.xml",
        api.sitemap_index,
        {"sitemaps": api.SITEMAPS, "sitemap_url_name": "sitemap-section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        api.sitemap_section,
        {"sitemaps": api.SITEMAPS},
        name="sitemap-section",
    ),
]
urlpatterns += i18n_patterns(
    path("api/", api.api_page, name="api"),
    path("embed/list/", api.embed_list, name="embed_list"),
    path("embed/map/", api.embed_map, name="embed_map"),
    prefix_default_language=False,
)

# A database that cannot be reached is a 503 page, not a 500.
handler500 = "innovations.middleware.server_error"
