import uuid

from django.conf import settings
from django.core.paginator import Paginator
from django.http import JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from django.views.decorators.vary import vary_on_headers

from . import maps, ratelimit, related
from .facets import chips, facet_counts, panel
from .filters import InnovationFilter
from .forms import SubmissionForm
from .models import Innovation

PAGE_SIZE = 20
MAP_MAX_AGE = 60  # seconds a browser or proxy may reuse map data and popups


def wants_json(request):
    if request.GET.get("format") == "json":
        return True
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def paginate(request, items, notices):
    """The requested page; a page out of range gives the nearest one and a notice."""
    paginator = Paginator(items, PAGE_SIZE)
    raw = request.GET.get("page", "1")
    try:
        number = int(raw)
    except ValueError:
        notices.append(
            _("Page “%(page)s” is not a page number; showing the first page.") % {"page": raw[:20]}
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
        "sectors": [term.slug for term in innovation.terms["sectors"]],
        "stages": [term.slug for term in innovation.terms["stages"]],
        "year": innovation.year,
        "recognitions": [term.slug for term in innovation.terms["recognitions"]],
        "tags": [term.slug for term in innovation.terms["tags"]],
        "latitude": latitude,
        "longitude": longitude,
        "url": request.build_absolute_uri(innovation.get_absolute_url()),
    }


@require_safe
@vary_on_headers("Accept")
def innovation_list(request):
    filterset = InnovationFilter(request.GET, queryset=Innovation.objects.published())
    notices = filterset.notices
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
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "filterset": filterset,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "page_query": f"{params.urlencode()}&" if params else "",
        "sort": filterset.order,
        "panel": panel(filterset, facets),
        "chips": chips(filterset, facets),
        "notices": notices,
    }
    return render(request, "innovations/list.html", context)


@require_safe
def innovation_detail(request, slug):
    cases = Innovation.objects.published().select_related("country")
    innovation = get_object_or_404(cases, slug=slug)
    # The address carries the filters of the list the visitor came from.
    results = InnovationFilter(request.GET, queryset=Innovation.objects.published())
    # Read after the case, the index holds its terms as they are now or newer.
    innovation.terms = results.index.terms_of([innovation.pk])[innovation.pk]
    context = {"innovation": innovation, **related.around(results, innovation.pk, PAGE_SIZE)}
    return render(request, "innovations/detail.html", context)


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
        if ratelimit.is_limited(request, "submit", settings.SUBMISSIONS_PER_HOUR):
            form.add_error(
                None,
                _(
                    "This address has sent the most cases we accept in an hour. Nothing was "
                    "stored: keep this page open and send the form again later."
                ),
            )
            status = 429
        elif form.is_valid():
            form.save(language=request.LANGUAGE_CODE)
            ratelimit.count(request, "submit")
            return redirect("innovations:thanks")
        if "token" in form.errors:
            form.data = form.data.copy()
            form.data["token"] = uuid.uuid4()
    else:
        form = SubmissionForm()
    return render(request, "innovations/submit.html", {"form": form}, status=status)


@require_safe
def thanks(request):
    return render(request, "innovations/thanks.html")


@require_safe
def innovation_map(request):
    """The list's cases drawn on a map, with the same filters, and a table of countries."""
    filterset = InnovationFilter(request.GET, queryset=Innovation.objects.published())
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


@require_safe
def innovation_map_data(request):
    """The filtered cases in `bbox`, clustered for `zoom` (see innovations.maps)."""
    place = maps.MapQuery(request.GET)
    if not place.is_valid():
        return map_bad_request(place)
    filterset = InnovationFilter(request.GET, queryset=Innovation.objects.published())
    data = maps.clusters(filterset, place.cleaned_data["bbox"], place.cleaned_data["zoom"])
    response = JsonResponse(
        {**data, "notices": filterset.notices},
        json_dumps_params={"ensure_ascii": False, "separators": (",", ":")},
    )
    patch_cache_control(response, public=True, max_age=MAP_MAX_AGE)
    return response


@require_safe
def map_cases(request):
    """The filtered cases in `bbox` as a popup: what a bubble of cases at one place holds."""
    place = maps.MapQuery(request.GET)
    if not place.is_valid():
        return map_bad_request(place)
    filterset = InnovationFilter(request.GET, queryset=Innovation.objects.published())
    cases = maps.inside(filterset.qs, place.cleaned_data["bbox"]).select_related("country")
    shown = list(cases.order_by("title", "pk")[: maps.POPUP_CASES])
    count = len(shown) if len(shown) < maps.POPUP_CASES else cases.count()
    context = {"cases": shown, "count": count, "more": count - len(shown)}
    response = render(request, "innovations/map.html#cases-popup", context)
    patch_cache_control(response, public=True, max_age=MAP_MAX_AGE)
    return response


@require_safe
def innovation_popup(request, slug):
    """A case's popup on the map, loaded when someone opens it."""
    innovation = get_object_or_404(
        Innovation.objects.published().select_related("country"), slug=slug
    )
    response = render(request, "innovations/map.html#case-popup", {"innovation": innovation})
    patch_cache_control(response, public=True, max_age=MAP_MAX_AGE)
    return response


NEWEST = 6  # cases on the home page


@require_safe
def home(request):
    """The front page: what the catalogue is, how big it is, and its newest cases."""
    newest = InnovationFilter(QueryDict("sort=added"), queryset=Innovation.objects.published())
    ids = newest.ordered_ids
    countries = facet_counts(newest)["country"]
    context = {
        "total": len(ids),
        "countries": sum(1 for option in countries if option["count"]),
        "newest": newest.cases(ids[:NEWEST]),
    }
    return render(request, "home.html", context)


@require_safe
def about(request):
    return render(request, "about.html")
