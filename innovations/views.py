import hashlib
import uuid
from functools import wraps

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import condition, require_http_methods, require_safe

from . import ratelimit
from .caching import revalidate
from .catalogue import exports, maps, related, rows, stats
from .catalogue.facets import chips, facet_counts, panel, without
from .catalogue.filters import InnovationFilter, printable
from .catalogue.freshness import current_index
from .forms import SubmissionForm
from .models import TERM_FIELDS, Innovation

PAGE_SIZE = 20


FORMATS = ("html", "json")  # what `format` may ask a page for


def wants_json(request):
    asked = request.GET.get("format")
    if asked in FORMATS:
        return asked == "json"
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def format_notices(request):
    """A notice for a `format` that no page is offered in: the page answers as if none
    had been asked for."""
    asked = request.GET.get("format", "")
    if not asked or asked in FORMATS:
        return []
    return [
        _("Format “%(format)s” is not offered and was ignored; format=json gives JSON.")
        % {"format": printable(asked, 20)}
    ]


def paginate(request, items, notices):
    """The requested page; a page out of range gives the nearest one and a notice."""
    paginator = Paginator(items, PAGE_SIZE)
    raw = request.GET.get("page", "1")
    try:
        number = int(raw)
    except ValueError:
        notices.append(
            _("Page “%(page)s” is not a page number; showing the first page.")
            % {"page": printable(raw, 20)}
        )
        number = 1
    if not 1 <= number <= paginator.num_pages:
        nearest = 1 if number < 1 else paginator.num_pages
        notices.append(
            _("There is no page %(page)s; showing page %(nearest)s.")
            % {"page": number, "nearest": nearest}
        )
        number = nearest
    return paginator.page(number)


def as_row(request, innovation):
    latitude, longitude = innovation.point
    return {
        "slug": innovation.slug,
        "title": innovation.title,
        "short_explanation": innovation.short_explanation,
        "country": innovation.country_id,
        "level": innovation.level,
        **{name: [term.slug for term in innovation.terms[name]] for name in TERM_FIELDS},
        "year": innovation.year,
        "latitude": latitude,
        "longitude": longitude,
        "url": request.build_absolute_uri(innovation.get_absolute_url()),
    }


def catalogue_etag(request, *args, **kwargs):
    """A public page's ETag: the catalogue's version, the language, the address and the
    type asked for. Reads the current index for the view, as `request.catalogue`."""
    request.catalogue = current_index()
    page = (
        f"{request.catalogue.version} {request.LANGUAGE_CODE} {wants_json(request)} "
        f"{request.get_full_path()}"
    )
    return hashlib.blake2b(page.encode(), digest_size=16).hexdigest()


def public(view):
    """A page of the published catalogue, answered from the index (`request.catalogue`).

    A repeat request with the page's ETag is answered 304 after one query, and caches
    may keep the page as `revalidate` says."""
    conditional = require_safe(condition(etag_func=catalogue_etag)(view))

    @wraps(view)
    def page(request, *args, **kwargs):
        response = conditional(request, *args, **kwargs)
        # A request is a reference cycle (Django's messages storage holds it), so it
        # lives until Python's cycle collector runs: it lets go of the index here (a
        # method refused never read one).
        vars(request).pop("catalogue", None)
        if response.status_code == 304:
            # The browser keeps the page it has and the policy that came with it: a new
            # policy would name a new nonce, which the kept page's map script lacks.
            response._csp_config = response._csp_ro_config = {}
        # The page is HTML or JSON as Accept asks, and a 304 repeats the Vary of its 200
        # (which the compression adds to), so that no cache serves one for the other.
        patch_vary_headers(response, ("Accept", "Accept-Encoding"))
        return revalidate(request, response)

    return page


def filtered(request):
    """The FilterSet of the request's query string, over the page's index."""
    return InnovationFilter(request.GET, index=request.catalogue)


@public
def innovation_list(request):
    filterset = filtered(request)
    notices = filterset.notices + format_notices(request)
    page = paginate(request, filterset.ordered_ids, notices)
    page.object_list = filterset.cases(page.object_list)
    facets = facet_counts(filterset)
    if wants_json(request):
        return JsonResponse(
            {
                "count": page.paginator.count,
                "page": page.number,
                "pages": page.paginator.num_pages,
                "results": [as_row(request, innovation) for innovation in page],
                "facets": facets,
                "notices": notices,
            },
            json_dumps_params={"ensure_ascii": False},
        )
    params = without(request.GET, "page")
    context = {
        "filterset": filterset,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "page_query": f"{params}&" if params else "",
        "sort": filterset.order,
        "panel": panel(filterset, facets),
        "chips": chips(filterset, facets),
        "notices": notices,
    }
    return render(request, "innovations/list.html", context)


def published_case(request, slug):
    innovation = rows.published(request.catalogue, Innovation.objects.all(), slug=slug)
    if innovation is None:
        raise Http404
    return innovation


@public
def innovation_detail(request, slug):
    innovation = published_case(request, slug)
    if wants_json(request):
        return exports.case_response(request, innovation, request.catalogue)
    # The address carries the filters of the list the visitor came from.
    context = {
        "innovation": innovation,
        **related.around(filtered(request), innovation.pk, PAGE_SIZE),
    }
    return render(request, "innovations/detail.html", context)


@public
def case_json(request, slug):
    """`/innovations/<slug>.json`: the case with every section and term, as its page's
    JSON; a case not published is a 404 in JSON too."""
    try:
        innovation = published_case(request, slug)
    except Http404:
        return JsonResponse({"error": _("No published case has this address.")}, status=404)
    return exports.case_response(request, innovation, request.catalogue)


def submissions_left(request):
    return ratelimit.used("submit", ratelimit.client_address(request)) < (
        settings.SUBMISSIONS_PER_HOUR
    )


def take_a_submission(request):
    return ratelimit.take(
        "submit", ratelimit.client_address(request), settings.SUBMISSIONS_PER_HOUR
    )


@never_cache
@require_http_methods(["GET", "POST"])
def submit(request):
    """The public form for proposing a case (POST/redirect/GET to the thank-you page)."""
    status = 200
    if request.method == "POST":
        form = SubmissionForm(request.POST)
        if form.is_spam:
            # Answer a robot as if it had succeeded, and store nothing.
            return redirect("innovations:thanks")
        if form.sent_before():
            return redirect("innovations:thanks")
        # Only a valid form uses up one of the address's submissions, counted atomically.
        limited = not submissions_left(request)
        if not limited and form.is_valid():
            if take_a_submission(request):
                form.save(language=request.LANGUAGE_CODE)
                return redirect("innovations:thanks")
            limited = True  # another request took the last one meanwhile
        if limited:
            form.add_error(
                None,
                _(
                    "This address has sent the most cases we accept in an hour. Nothing was "
                    "stored: keep this page open and send the form again later."
                ),
            )
            status = 429
        if "token" in form.errors:
            form.data = form.data.copy()
            form.data["token"] = uuid.uuid4()
    else:
        form = SubmissionForm()
    return render(request, "innovations/submit.html", {"form": form}, status=status)


@require_safe
def thanks(request):
    return render(request, "innovations/thanks.html")


@public
def innovation_map(request):
    """The list's cases drawn on a map, with the same filters, and a table of countries."""
    filterset = filtered(request)
    notices = filterset.notices
    facets = facet_counts(filterset)
    countries = maps.country_table(filterset)
    context = {
        "filterset": filterset,
        "count": sum(row["count"] for row in countries),
        "countries": countries,
        "panel": panel(filterset, facets),
        "chips": chips(filterset, facets),
        "notices": notices,
        "map_view": maps.initial_view(request.GET),
    }
    return render(request, "innovations/map.html", context)


def map_bad_request(place):
    return JsonResponse(
        {"errors": place.errors_by_field()}, status=400, json_dumps_params={"ensure_ascii": False}
    )


@public
def innovation_map_data(request):
    """The filtered cases in `bbox`, clustered for `zoom` (see innovations.catalogue.maps)."""
    place = maps.MapQuery(request.GET)
    if not place.is_valid():
        return map_bad_request(place)
    filterset = filtered(request)
    data = maps.clusters(filterset, place.cleaned_data["bbox"], place.cleaned_data["zoom"])
    return JsonResponse(
        {**data, "notices": filterset.notices},
        json_dumps_params={"ensure_ascii": False, "separators": (",", ":")},
    )


@public
def map_cases(request):
    """The filtered cases in `bbox` as a popup: what a bubble of cases holds."""
    place = maps.MapQuery(request.GET)
    if not place.is_valid():
        return map_bad_request(place)
    shown, count = maps.cases_here(filtered(request))
    context = {"cases": shown, "count": count, "more": count - len(shown)}
    return render(request, "innovations/map.html#cases-popup", context)


@public
def innovation_popup(request, slug):
    """A case's popup on the map, loaded when someone opens it."""
    innovation = published_case(request, slug)
    return render(request, "innovations/map.html#case-popup", {"innovation": innovation})


@public
def innovation_stats(request):
    """The filtered view's facet counts drawn as charts, each with its table."""
    filterset = filtered(request)
    facets = facet_counts(filterset)
    context = {
        "filterset": filterset,
        "count": len(filterset.ordered_ids),
        "charts": stats.charts(facets, request.GET),
        "panel": panel(filterset, facets),
        "chips": chips(filterset, facets),
        "notices": filterset.notices,
    }
    return render(request, "innovations/stats.html", context)


NEWEST = 6  # cases on the home page


@public
def home(request):
    """The front page: what the catalogue is, how big, where its cases are, the newest."""
    newest = InnovationFilter(QueryDict("sort=added"), index=request.catalogue)
    ids = newest.ordered_ids
    countries = facet_counts(newest)["country"]
    context = {
        "total": len(ids),
        "countries": sum(1 for option in countries if option["count"]),
        "newest": newest.cases(ids[:NEWEST]),
        "dots": maps.small_map(newest),
        "outline": maps.world_outline(),
        "map_size": (maps.SMALL_MAP_WIDTH, maps.SMALL_MAP_HEIGHT),
    }
    return render(request, "home.html", context)


@require_safe
def about(request):
    return render(request, "about.html")
