from html import escape

from django import template
from django.utils.safestring import mark_safe

from ..catalogue import search

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
def facet_checkboxes(facet):
    """A facet's options as checkboxes, each with its count."""
    name = escape(facet["name"])
    return mark_safe("\n".join(_checkbox(name, option) for option in facet["options"]))


def _checkbox(name, option):
    value = escape(str(option["value"]))
    checked = " checked" if option["selected"] else ""
    return (
        f'<li><label><input type="checkbox" id="{name}-{value.lower()}" name="{name}" '
        f'value="{value}"{checked}> {escape(str(option["label"]))} '
        f'<span class="count">{option["count"]:d}</span></label></li>'
    )


@register.simple_tag
def year_choices(options, chosen):
    """The years of launch as <option>s, each with its count."""
    return mark_safe(
        "".join(
            f'<option value="{o["value"]:d}"{" selected" if o["value"] == chosen else ""}>'
            f"{escape(str(o['label']))} ({o['count']:d})</option>"
            for o in options
        )
    )
