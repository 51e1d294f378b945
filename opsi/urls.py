from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from innovations import views

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

# A database that cannot be reached is a 503 page, not a 500.
handler500 = "innovations.middleware.server_error"
