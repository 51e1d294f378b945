from html import escape

from django import template
from django.http import QueryDict
from django.utils.safestring import mark_safe

from ..catalogue import search
from ..catalogue.filters import InnovationFilter

register = template.Library()


@register.filter
def highlighted(snippet):
    """A search snippet, escaped, with the words that matched in <mark>."""
    return search.highlighted(snippet)


# The filter panel lists hundreds of options on every page. Building them here, with
# the standard library's escape on each value, rather than in a template loop or with
# format_html (whose lazy-aware escaping dominates at this count) makes the catalogue's
# pages several times cheaper to render.


@register.simple_tag
def offered(options):
    """The options worth offering: those that give cases, and those already chosen.

    An option that would empty the list is a dead end, so it is not shown."""
    return [option for option in options if option["count"] or option["selected"]]


@register.simple_tag
def facet_checkboxes(name, options):
    """A facet's options as checkboxes, each with its count."""
    name = escape(name)
    return mark_safe("\n".join(_checkbox(name, option) for option in options))


def _checkbox(name, option):
    value = escape(str(option["value"]))
    checked = " checked" if option["selected"] else ""
    return (
        f'<li data-count="{option["count"]:d}"><label>'
        f'<input type="checkbox" id="{name}-{value.lower()}" name="{name}" '
        f'value="{value}"{checked}> {escape(str(option["label"]))} '
        f'<span class="count">{option["count"]:d}</span></label></li>'
    )


@register.simple_tag
def year_choices(options, chosen):
    """The years of launch as <option>s, each with its count. A chosen year without
    cases is among them too, so that the select shows the year in force."""
    years = [(o["value"], o["count"]) for o in options]
    if isinstance(chosen, int) and chosen not in dict(years):  # "" when none is valid
        years = sorted([*years, (chosen, 0)])
    return mark_safe(
        "".join(
            f'<option value="{year:d}"{" selected" if year == chosen else ""}>'
            f"{year:d} ({count:d})</option>"
            for year, count in years
        )
    )


WAYS_OUT = 12  # chips tried at most, each a count over the index


@register.simple_tag
def ways_out(filterset, chips):
    """For an empty list: the chosen filters whose removal alone brings cases back, each
    with the number of cases it gives, most first."""
    ways = []
    for chip in chips[:WAYS_OUT]:
        rest = InnovationFilter(QueryDict(chip["query"]), index=filterset.index)
        count = len(rest.ordered_ids)
        if count:
            ways.append({**chip, "count": count})
    return sorted(ways, key=lambda way: -way["count"])


@register.simple_tag
def active_filters(filterset, chips):
    """How many filters are chosen, the search aside (it has a box of its own)."""
    return len(chips) - bool(filterset.form.cleaned_data.get("q"))
