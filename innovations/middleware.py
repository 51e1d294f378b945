"""Requests the site refuses before any view sees them, with a 400 and one log line."""

from urllib.parse import unquote

from django.core.exceptions import BadRequest
from django.http import HttpResponseBadRequest, QueryDict
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _


def bad_request(request):
    """Django logs a 400 once ("Bad Request: /path"); the plain answer needs no database."""
    return HttpResponseBadRequest(_("This request could not be read."), content_type="text/plain")


def reject_unreadable_forms(get_response):
    """A form sent in another encoding than UTF-8 is a 400.

    Django refuses to decode it, but the CSRF check (and then the 400 page, which runs
    the CSRF check again) read the form anyway: each request wrote a chain of
    tracebacks and ended as a 500. Put this before CsrfViewMiddleware.
    """

    def middleware(request):
        if request.method == "POST":
            try:
                request.POST  # noqa: B018 (reading it is the check)
            except BadRequest:
                request._post, request._files = QueryDict(), MultiValueDict()
                return bad_request(request)
        return get_response(request)

    return middleware


def reject_nul_in_admin(get_response):
    """A NUL byte in an admin address or query is a 400.

    PostgreSQL text can never hold one, so no filter value, object id, search or
    initial value that contains it can mean anything; the admin would otherwise
    pass it to the database and answer with a 500.
    """
    admin_prefix = None

    def middleware(request):
        nonlocal admin_prefix
        admin_prefix = admin_prefix or reverse("admin:index")
        query = unquote(request.META.get("QUERY_STRING", ""))
        if request.path.startswith(admin_prefix) and ("\x00" in request.path or "\x00" in query):
            return bad_request(request)
        return get_response(request)

    return middleware
