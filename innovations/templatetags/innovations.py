from django import template
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from .. import search

register = template.Library()


@register.filter
def highlighted(snippet):
    """A search snippet, escaped, with the words that matched in <mark>."""
    return search.highlighted(snippet)


# The filter panel lists hundreds of options on every page; building them here rather
# than in a template loop makes the catalogue's pages several times cheaper to render.


@register.simple_tag
def facet_checkboxes(facet):
    """A facet's options as checkboxes, each with its count."""
    return format_html_join(
        "\n",
        '<li><label><input type="checkbox" id="{}-{}" name="{}" value="{}"{}> {} '
        '<span class="count">{}</span></label></li>',
        (
            (
                facet["name"],
                str(option["value"]).lower(),
                facet["name"],
                option["value"],
                mark_safe(" checked") if option["selected"] else "",
                option["label"],
                option["count"],
            )
            for option in facet["options"]
        ),
    )


@register.simple_tag
def year_choices(options, chosen):
    """The years of launch as <option>s, each with its count."""
    return format_html_join(
        "",
        '<option value="{}"{}>{} ({})</option>',
        (
            (
                option["value"],
                mark_safe(" selected") if option["value"] == chosen else "",
                option["label"],
                option["count"],
            )
            for option in options
        ),
    )
