"""Checks that `manage.py check --deploy` adds for this site."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def site_url_is_public(app_configs, **kwargs):
    """Emails link to SITE_URL: in production it must be the site's own https address."""
    url = urlsplit(settings.SITE_URL)
    if url.scheme == "https" and url.hostname not in {None, "localhost", "127.0.0.1"}:
        return []
    return [
        Warning(
            f"SITE_URL is {settings.SITE_URL!r}: emails would link there.",
            hint="Set SITE_URL to the site's public address, e.g. https://catalogue.example.org.",
            id="innovations.W001",
        )
    ]
