from django import template

from .. import search

register = template.Library()


@register.filter
def highlighted(snippet):
    """A search snippet, escaped, with the words that matched in <mark>."""
    return search.highlighted(snippet)
