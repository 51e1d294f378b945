"""What caches may do with the answers that change with the catalogue: keep them, but
check each time (with If-None-Match) before they show one again, since the catalogue
can change at any moment and an editor sees their change at once."""

from functools import wraps

from django.utils.cache import patch_cache_control


def revalidate(request, response):
    """Any cache may keep the answer (the browser's, a proxy's, a CDN's), unless it used
    the visitor's session or a CSRF token: then it is theirs, and only their browser may."""
    session = getattr(request, "session", None)
    if (session is not None and session.accessed) or request.META.get("CSRF_COOKIE_USED"):
        patch_cache_control(response, private=True, no_cache=True)
    else:
        patch_cache_control(response, public=True, no_cache=True)
    return response


def revalidated(view):
    """A view whose answers follow `revalidate`."""

    @wraps(view)
    def answer(request, *args, **kwargs):
        return revalidate(request, view(request, *args, **kwargs))

    return answer
