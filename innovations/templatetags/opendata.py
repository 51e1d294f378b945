"""Tags for the catalogue's open data on its pages: a case's schema.org JSON-LD."""

import json

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from innovations.catalogue import exports

register = template.Library()

# As django.utils.html.json_script escapes: nothing in the data can close the script.
ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.simple_tag(takes_context=True)
def case_jsonld(context, innovation):
    request = context["request"]
    url = request.build_absolute_uri(innovation.get_absolute_url())
    data = exports.case_jsonld(innovation, url, get_language())
    text = json.dumps(data, ensure_ascii=False).translate(ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))
