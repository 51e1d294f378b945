from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InnovationsConfig(AppConfig):
    name = "innovations"
    verbose_name = _("Innovation catalogue")

    def ready(self):
        # The project uses SimpleAdminConfig (no autodiscovery, so django-leaflet's
        # GDAL-backed admin is never imported): register what the admin shows here.
        import django.contrib.auth.admin  # noqa: F401

        from . import admin, checks  # noqa: F401
