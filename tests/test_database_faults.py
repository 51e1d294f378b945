"""A database that is down or frozen gives a quick, branded 503; static files still work;
and the site answers again as soon as the database is back. A database that freezes
while a worker holds a connection to it is given up on the same way.

The tests point the site's connection at a port where no database answers (a closed
port: a stopped server; a socket that accepts and never speaks: a frozen one), never
at the machine's real server, which other processes share.
"""

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.db import close_old_connections, connection, connections
from django.test import Client

from .conftest import database_url, end_connections

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


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_kept_connection_is_checked_with_a_query_only_when_the_server_spoke(
    client, seed, monkeypatch
):
    """A kept connection is checked before each request's first query. A healthy one
    costs the page no round trip; one the server has ended is found out by the query
    and replaced, and the page is served."""
    checks = []
    backend = type(connections["default"])
    is_usable = backend.is_usable

    def checked(wrapper):
        checks.append(wrapper.connection.info.backend_pid)
        return is_usable(wrapper)

    monkeypatch.setattr(backend, "is_usable", checked)
    for _ in range(3):
        close_old_connections()  # what the server does as each request starts
        assert client.get("/innovations/").status_code == 200
    assert checks == []

    kept = connection.connection.info.backend_pid
    end_connections({kept})
    close_old_connections()
    assert client.get("/innovations/").status_code == 200
    assert checks == [kept]
    assert connection.connection.info.backend_pid != kept


def test_public_queries_stop_after_the_statement_timeout(db, settings):
    from django.db import OperationalError

    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == f"{settings.DATABASE_STATEMENT_TIMEOUT}s"
        cursor.execute("SET statement_timeout = '100ms'")
        with pytest.raises(OperationalError):
            cursor.execute("SELECT pg_sleep(1)")


def test_admin_pages_may_run_longer_queries(admin_client, settings):
    timeouts, waits = [], set()

    def record(execute, sql, params, many, context):
        if "statement_timeout" in sql:
            timeouts.append((sql.split()[0], params))
        waits.add(connection.answer_timeout)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert admin_client.get("/admin/").status_code == 200
    assert timeouts == [("SELECT", [f"{settings.DATABASE_ADMIN_TIMEOUT}s"]), ("RESET", None)]
    # the site waits for a frozen server's answer as long as the queries may run
    assert settings.DATABASE_ADMIN_TIMEOUT + settings.ANSWER_GRACE in waits
    assert connection.answer_timeout == settings.DATABASE_STATEMENT_TIMEOUT + settings.ANSWER_GRACE
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == f"{settings.DATABASE_STATEMENT_TIMEOUT}s"


class Proxy:
    """A TCP proxy to the real database that the test can freeze: frozen, it still
    accepts connections and bytes (its kernel acknowledges them, as a stopped server's
    does) but passes nothing on, either way, until it thaws."""

    def __init__(self, host, port):
        # A host that is a directory is where the server's Unix socket is.
        self.upstream = f"{host}/.s.PGSQL.{port}" if host.startswith("/") else (host, int(port))
        self.flowing = threading.Event()
        self.flowing.set()
        self.sockets = []
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def connect(self):
        if isinstance(self.upstream, tuple):
            return socket.create_connection(self.upstream)
        server = socket.socket(socket.AF_UNIX)
        server.connect(self.upstream)
        return server

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
                server = self.connect()
            except OSError:
                return
            self.sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self.pump, args=(source, target), daemon=True).start()

    def pump(self, source, target):
        try:
            while data := source.recv(65536):
                self.flowing.wait()
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                end.close()

    def freeze(self):
        self.flowing.clear()

    def thaw(self):
        self.flowing.set()

    def close(self):
        self.listener.close()
        self.thaw()
        for end in self.sockets:  # shutdown() also wakes a thread blocked reading it
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


@pytest.fixture
def site_behind_proxy(settings):
    """The site as `make run` serves it (gunicorn, DEBUG off, one thread, so that the
    connection it keeps is the one every request uses), reaching the test database
    through a Proxy; yields (port, proxy)."""
    from .test_server import ROOT, start_gunicorn, stop

    db = connection.settings_dict
    proxy = Proxy(db["HOST"] or "127.0.0.1", db["PORT"] or 5432)
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "test"}
    command = [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity", "0"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=120)
    port, process = start_gunicorn(
        DATABASE_URL=database_url(host="127.0.0.1", port=proxy.port),
        DEBUG="false",
        WEB_WORKERS="1",
        WEB_THREADS="1",
    )
    yield port, proxy
    stop(process)
    proxy.close()


def fetch(port, path, timeout=30):
    """(status, headers, text, seconds) of one GET."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as answer:
            status, headers, body = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read()
    return status, headers, body.decode(), time.monotonic() - started


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_database_that_freezes_under_an_open_connection_gives_a_503_in_seconds(
    seed, site_behind_proxy, settings
):
    port, proxy = site_behind_proxy
    assert fetch(port, SUBMIT)[0] == 200  # the worker's one connection is open, and kept
    proxy.freeze()

    status, headers, text, seconds = fetch(port, SUBMIT)
    assert status == 503
    assert headers["Retry-After"] == "30"
    assert "The catalogue is temporarily unavailable" in text
    # A frozen server says nothing on the kept connection, so the page's query is sent
    # on it and given up after the statement timeout and its grace.
    assert seconds < settings.DATABASE_STATEMENT_TIMEOUT + settings.ANSWER_GRACE + 1.5

    status, _, _, seconds = fetch(port, "/static/css/site.css")
    assert status == 200
    assert seconds < 0.5
    status, _, _, seconds = fetch(port, "/pt/innovations/")  # still frozen
    assert status == 503
    assert seconds < settings.DATABASE_CONNECT_TIMEOUT + 1.5

    proxy.thaw()
    status, _, _, seconds = fetch(port, SUBMIT)
    assert status == 200
    assert seconds < 1
