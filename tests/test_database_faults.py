"""A database that is down or frozen gives a quick, branded 503; static files still work;
and the site answers again as soon as the database is back.

The tests point the site's connection at a port where no database answers (a closed
port: a stopped server; a socket that accepts and never speaks: a frozen one), never
at the machine's real server, which other processes share.
"""

import socket
import time

import pytest
from django.db import connection
from django.test import Client

SUBMIT = "/innovations/submit/"  # a page that always reads the database


@pytest.fixture
def database_away(settings):
    """A function that moves the connection to `port`; the real one is put back after."""
    real = dict(connection.settings_dict)
    settings.WHITENOISE_USE_FINDERS = True
    holes = []

    def away(kind):
        hole = socket.create_server(("127.0.0.1", 0), backlog=16)
        port = hole.getsockname()[1]
        if kind == "frozen":
            holes.append(hole)
        else:  # stopped: a port that refuses connections
            hole.close()
        connection.close()
        connection.settings_dict.update(
            HOST="127.0.0.1",
            PORT=port,
            OPTIONS={**real["OPTIONS"], "connect_timeout": 2},
        )

    def back():
        connection.close()
        connection.settings_dict.update(real)

    away.back = back
    yield away
    back()
    for hole in holes:
        hole.close()


def timed_get(client, url):
    started = time.monotonic()
    response = client.get(url)
    return response, time.monotonic() - started


@pytest.mark.parametrize("kind", ["stopped", "frozen"])
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_unreachable_database_gives_a_quick_branded_503(seed, database_away, kind):
    client = Client(raise_request_exception=False)
    database_away(kind)
    response, seconds = timed_get(client, SUBMIT)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "The catalogue is temporarily unavailable" in response.content.decode()
    assert seconds < 3.5  # 2 s to give up connecting (libpq’s least), then the page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_503_page_speaks_the_visitors_language(seed, database_away):
    client = Client(raise_request_exception=False)
    database_away("stopped")
    response = client.get(f"/pt{SUBMIT}")
    assert response.status_code == 503
    assert '<html lang="pt">' in response.content.decode()
    assert "O catálogo está temporariamente indisponível" in response.content.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_static_files_are_served_while_the_database_is_down(seed, database_away):
    client = Client(raise_request_exception=False)
    database_away("frozen")
    response, seconds = timed_get(client, "/static/css/site.css")
    assert response.status_code == 200
    assert seconds < 0.5


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_first_request_after_the_database_returns_succeeds(seed, database_away):
    client = Client(raise_request_exception=False)
    assert client.get(SUBMIT).status_code == 200  # a connection is open and kept
    database_away("stopped")
    assert client.get(SUBMIT).status_code == 503
    database_away.back()
    response, seconds = timed_get(client, SUBMIT)
    assert response.status_code == 200
    assert seconds < 1


def test_public_queries_stop_after_the_statement_timeout(db, settings):
    from django.db import OperationalError

    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == f"{settings.DATABASE_STATEMENT_TIMEOUT}s"
        cursor.execute("SET statement_timeout = '100ms'")
        with pytest.raises(OperationalError):
            cursor.execute("SELECT pg_sleep(1)")


def test_admin_pages_may_run_longer_queries(admin_client, settings):
    timeouts = []

    def record(execute, sql, params, many, context):
        if "statement_timeout" in sql:
            timeouts.append((sql.split()[0], params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert admin_client.get("/admin/").status_code == 200
    assert timeouts == [("SELECT", [f"{settings.DATABASE_ADMIN_TIMEOUT}s"]), ("RESET", None)]
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == f"{settings.DATABASE_STATEMENT_TIMEOUT}s"
