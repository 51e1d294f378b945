"""Requests the site refuses before any view sees them, with a 400 and one log line."""

import functools
import sys
from urllib.parse import unquote

from django.conf import settings
from django.core.exceptions import BadRequest, TooManyFieldsSent
from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    ProgrammingError,
    connection,
)
from django.http import HttpResponseBadRequest, QueryDict
from django.middleware.gzip import GZipMiddleware
from django.shortcuts import render
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.views import defaults


@functools.cache
def admin_prefix():
    return reverse("admin:index")


def in_admin(request):
    """Whether the request is for the admin: its address starts as the admin's does."""
    return request.path.startswith(admin_prefix())


def bad_request(request):
    """Django logs a 400 once ("Bad Request: /path"); the plain answer needs no database."""
    return HttpResponseBadRequest(_("This request could not be read."), content_type="text/plain")


def reject_unreadable_requests(get_response):
    """A query string of more fields than Django reads, or a form sent in another
    encoding than UTF-8, is a 400 with one log line, in the visitor's language.

    Django refuses both, but as a security event with a traceback and its own untranslated
    page; and the CSRF check (then the 400 page, which runs the CSRF check again) read
    the form anyway: each such form wrote a chain of tracebacks and ended as a 500. Put
    this after LocaleMiddleware and before CsrfViewMiddleware.
    """

    def middleware(request):
        try:
            request.GET  # noqa: B018 (reading it is the check)
        except TooManyFieldsSent:
            request.GET = QueryDict()
            return bad_request(request)
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

    def middleware(request):
        query = unquote(request.META.get("QUERY_STRING", ""))
        if in_admin(request) and ("\x00" in request.path or "\x00" in query):
            return bad_request(request)
        return get_response(request)

    return middleware


RETRY_AFTER = 30  # seconds a visitor or a crawler is asked to wait while the database is away


def server_error(request):
    """The 500 handler: a database that cannot be reached is a 503 (the branded page,
    with Retry-After), anything else Django's plain 500.

    A handler rather than a middleware, so that it also answers failures in other
    middleware (sessions, authentication). The page reads nothing from the database.
    """
    if isinstance(sys.exc_info()[1], DatabaseError | InterfaceError) and not isinstance(
        sys.exc_info()[1], ProgrammingError | IntegrityError | DataError
    ):
        response = render(request, "503.html", {"retry_after": RETRY_AFTER}, status=503)
        response["Retry-After"] = str(RETRY_AFTER)
        return response
    return defaults.server_error(request)


def admin_statement_timeout(get_response):
    """Admin pages may run queries longer than public pages (DATABASE_ADMIN_TIMEOUT
    seconds rather than DATABASE_STATEMENT_TIMEOUT): raise the limit for the request,
    and how long the site waits for the server's answer with it."""

    def middleware(request):
        if not in_admin(request):
            return get_response(request)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, false)",
                [f"{settings.DATABASE_ADMIN_TIMEOUT}s"],
            )
        admin_timeout = settings.DATABASE_ADMIN_TIMEOUT
        try:
            with connection.answer_within(
                admin_timeout + settings.ANSWER_GRACE if admin_timeout else None
            ):
                return get_response(request)
        finally:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("RESET statement_timeout")
            except DatabaseError:
                pass  # a broken connection is closed, and a new one starts with the default

    return middleware


class CompressWithoutSecrets(GZipMiddleware):
    """Gzip HTML and JSON, except answers that carry a CSRF token.

    A page with a secret in it, compressed and reflecting something the visitor
    sent, lets an attacker guess the secret from the sizes (BREACH); such pages go
    out uncompressed, everything else compressed.
    """

    def process_response(self, request, response):
        # Django sets the CSRF cookie on every answer whose page used the token.
        if settings.CSRF_COOKIE_NAME in response.cookies:
            return response
        return super().process_response(request, response)


def permissions_policy(get_response):
    """Refuse the browser features the site never uses, for it and anything it embeds."""

    def middleware(request):
        response = get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response

    return middleware
