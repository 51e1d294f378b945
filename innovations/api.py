"""The catalogue for machines and other sites: exports, the feed, each case as JSON, the
API's description, embeddable views, and what search engines read (sitemap, robots).

Every answer here reads the one FilterSet (`InnovationFilter`), as the list does.
"""

import hashlib

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.contrib.syndication.views import Feed
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.http import condition, require_safe

from . import openapi
from .caching import revalidated
from .catalogue import exports, maps
from .catalogue.filters import InnovationFilter, printable
from .catalogue.freshness import current_index
from .middleware import in_admin
from .models import Innovation

FEED_SIZE = 50


def catalogue_filter(params):
    return InnovationFilter(params)


# The answers other sites' scripts may read: data, never pages or forms.
OPEN_CONTENT_TYPES = ("application/json", "application/geo+json", "text/csv")


def read_only_cors(get_response):
    """Middleware: any site may read the catalogue's data answers from the browser (the
    list and map JSON, the exports, each case's JSON), without credentials, and ask
    whether its copy is current (If-None-Match, which browsers check with a preflight
    OPTIONS request first). Pages, forms and the admin stay same-origin."""

    def middleware(request):
        if (
            request.method == "OPTIONS"
            and request.headers.get("Access-Control-Request-Method") in ("GET", "HEAD")
            and not in_admin(request)
        ):
            # Only permission to ask: the answer itself says whether it may be read.
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Allow-Methods"] = "GET, HEAD"
            response["Access-Control-Allow-Headers"] = "Accept, If-None-Match, If-Modified-Since"
            response["Access-Control-Max-Age"] = "86400"
            return response
        response = get_response(request)
        match = request.resolver_match
        content_type = response.get("Content-Type", "").split(";")[0].strip()
        if (
            request.method in ("GET", "HEAD")
            and match is not None
            and match.app_name != "admin"
            and (content_type in OPEN_CONTENT_TYPES or response.status_code == 304)
        ):
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Expose-Headers"] = (
                "Catalogue-Version, Exported-At, Content-Disposition, X-Total-Count"
            )
        return response

    return middleware


def unknown_format(format):
    return HttpResponseBadRequest(
        _("Unknown format “%(format)s”. The accepted formats are: %(accepted)s.")
        % {"format": printable(format, 20), "accepted": ", ".join(exports.ACCEPTED)},
        content_type="text/plain; charset=utf-8",
    )


@require_safe
def export(request, format):
    """The list's filtered view as a file: `/innovations/export.<format>?<filters>`."""
    if format == exports.FEED_FORMAT:
        return feed(request)
    if format not in exports.FORMATS:
        return unknown_format(format)
    return exports.export(request, catalogue_filter(request.GET), format)


class NewestCases(Feed):
    """The newest published cases of a filtered view, newest first, as Atom."""

    feed_type = Atom1Feed

    def get_object(self, request):
        params = request.GET.copy()
        params["sort"] = "added"
        self.request = request
        return catalogue_filter(params)

    def title(self, filterset):
        return _("Innovation Catalogue: newest cases")

    def subtitle(self, filterset):
        return _("The newest published cases of this view of the catalogue.")

    def link(self, filterset):
        return self.with_query(reverse("innovations:list"))

    def feed_url(self, filterset):
        return self.with_query(reverse("innovations:feed"))

    def with_query(self, path):
        query = self.request.GET.urlencode()
        return f"{path}?{query}" if query else path

    def items(self, filterset):
        return filterset.cases(filterset.ordered_ids[:FEED_SIZE])

    def item_title(self, case):
        return case.title

    def item_description(self, case):
        return case.short_explanation

    def item_pubdate(self, case):
        return case.created

    def item_updateddate(self, case):
        return case.updated

    def item_author_name(self, case):
        return case.organisation_name or None

    def item_categories(self, case):
        return [term.name for name in ("sectors", "tags") for term in case.terms[name]]


def feed_etag(request, *args):
    """The feed changes only with the catalogue, the view and the language."""
    version = current_index().version
    key = f"{version}:{request.LANGUAGE_CODE}:{request.GET.urlencode()}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def feed_last_modified(request, *args):
    """When the newest of the feed's cases last changed."""
    params = request.GET.copy()
    params["sort"] = "added"
    ids = catalogue_filter(params).ordered_ids[:FEED_SIZE]
    newest = Innovation.objects.filter(pk__in=[int(pk) for pk in ids]).order_by("-updated")
    return newest.values_list("updated", flat=True).first()


@require_safe
@revalidated
@condition(etag_func=feed_etag, last_modified_func=feed_last_modified)
def feed(request):
    """`/innovations/feed.atom?<filters>`: answers 304 to a reader that has it already."""
    response = NewestCases()(request)
    return exports.stamp(response, current_index().version, timezone.now())


EMBED_SIZE = 20  # cases an embedded list shows


def framable(view):
    """Lets any site put this view's page in an iframe; every other page says DENY.

    The page keeps the rest of the site's policy (its scripts, styles and sources)."""
    policy = {**settings.SECURE_CSP, "frame-ancestors": ["*"]}
    return xframe_options_exempt(csp_override(policy)(view))


@require_safe
@framable
def embed_list(request):
    """`/embed/list/?<filters>`: the first cases of a view, for other sites' pages."""
    filterset = catalogue_filter(request.GET)
    ids = filterset.ordered_ids
    context = {"cases": filterset.cases(ids[:EMBED_SIZE]), "count": len(ids)}
    return render(request, "embed/list.html", context)


@require_safe
@framable
def embed_map(request):
    """`/embed/map/?<filters>`: the map of a view, for other sites' pages."""
    filterset = catalogue_filter(request.GET)
    countries = maps.country_table(filterset)
    context = {
        "count": sum(row["count"] for row in countries),
        "countries": countries,
        "map_view": maps.initial_view(request.GET),
    }
    return render(request, "embed/map.html", context)


@require_safe
def openapi_json(request):
    """`/api/openapi.json`: the API described in OpenAPI 3.1."""
    return JsonResponse(
        openapi.document(request), json_dumps_params={"ensure_ascii": False, "indent": 1}
    )


@require_safe
def api_page(request):
    """`/api/`: the API explained to a person, with examples."""
    site = request.build_absolute_uri("/").rstrip("/")
    return render(request, "innovations/api.html", {"site": site, "filters": openapi.FILTER_NAMES})


class CaseSitemap(Sitemap):
    """Every published case, in both languages, each naming the other (hreflang)."""

    i18n = True
    alternates = True
    x_default = True
    limit = 5000  # addresses a page: 2,500 cases, each in two languages

    def items(self):
        return Innovation.objects.published().order_by("pk").only("slug", "updated")

    def lastmod(self, innovation):
        return innovation.updated


class PageSitemap(Sitemap):
    """The catalogue's own pages: the list, the map and the API."""

    i18n = True
    alternates = True
    x_default = True

    def items(self):
        return ["innovations:list", "innovations:map", "api"]

    def location(self, name):
        return reverse(name)


SITEMAPS = {"pages": PageSitemap, "cases": CaseSitemap}

sitemap_index = require_safe(revalidated(sitemap_views.index))
sitemap_section = require_safe(revalidated(sitemap_views.sitemap))


@require_safe
def robots_txt(request):
    """What crawlers may read: not the admin, the embeds or the (large) exports."""
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        *(
            f"Disallow: {prefix}{path}"
            for prefix in ("", "/pt")
            for path in ("/embed/", "/innovations/export.")
        ),
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
