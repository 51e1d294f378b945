from django import template

from ..models import Innovation

register = template.Library()


@register.simple_tag
def awaiting_review():
    """How many cases wait in the editors' review queue."""
    return Innovation.objects.awaiting_review().count()
