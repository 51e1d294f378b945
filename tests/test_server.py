"""The site as `make run` serves it: gunicorn with gunicorn.conf.py, in its own process."""

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from .conftest import database_url, end_connections

ROOT = Path(__file__).resolve().parent.parent
SLOW_CLIENTS = 50


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port, path, timeout=10):
    """(status, seconds) of one GET."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as answer:
            answer.read()
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic() - started


def start_gunicorn(**environment):
    """gunicorn on a free port with the project's gunicorn.conf.py, serving the test
    database; returns (port, process) once it answers."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DEBUG": "true",
        "SECRET_KEY": "test",
        **environment,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
        + ["--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if get(port, "/static/css/site.css", timeout=1)[0] == 200:
                return port, process
        except OSError:
            time.sleep(0.2)
    process.kill()
    pytest.fail("gunicorn did not start")


def stop(process):
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture
def server():
    port, process = start_gunicorn()
    yield port
    stop(process)


def test_a_second_server_on_the_same_address_refuses_to_start(server):
    """Each worker listens on a socket of its own, which the kernel lets other sockets
    share: a second server started on a busy address says so and stops, rather than
    take half of the first one's visitors."""
    second = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
        + ["--bind", f"127.0.0.1:{server}"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url(), "SECRET_KEY": "test"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode != 0
    assert f"Cannot listen on 127.0.0.1:{server}: Address already in use" in second.stderr
    assert get(server, "/static/css/site.css")[0] == 200  # the first one still serves


def backends():
    """The processes of the test database's connections, other than this test's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_connection_the_database_ended_fails_no_page(make_innovation):
    """A kept connection that the database has ended is noticed before a page uses it,
    and a new one is opened: the visitor gets the page, not the 503."""
    case = make_innovation()
    # One thread, so that every page is served over the one kept connection.
    port, process = start_gunicorn(WEB_WORKERS="1", WEB_THREADS="1", CATALOGUE_REFRESH_MS="0")
    pages = ["/innovations/", f"/innovations/{case.slug}/", "/innovations/submit/"]
    try:
        before = backends()
        assert [get(port, page)[0] for page in pages] == [200, 200, 200]
        kept = backends() - before
        assert len(kept) == 1  # the worker's one connection, kept between pages
        end_connections(kept)
        assert [get(port, page)[0] for page in pages] == [200, 200, 200]
    finally:
        stop(process)


def trickle(port, stop):
    """A client that sends its request one byte at a time, a byte a second."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        request = b"GET /innovations/submit/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for byte in request:
            if stop.wait(1):
                return
            sock.send(bytes([byte]))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fifty_slow_clients_leave_the_site_serving_others(server, seed):
    for _ in range(6):  # each worker has loaded its pages once
        get(server, "/innovations/submit/", timeout=30)
    # What a request takes on this machine now, without slow clients: on a busy
    # machine everything is slower, and the test is about slow clients alone.
    usual = max(get(server, "/innovations/submit/")[1] for _ in range(3))
    limit = max(1.0, 3 * usual)
    stop = threading.Event()
    clients = [threading.Thread(target=trickle, args=(server, stop)) for _ in range(SLOW_CLIENTS)]
    for client in clients:
        client.start()
    try:
        time.sleep(3)  # every slow client is connected and has sent its first bytes
        for _ in range(5):
            status, seconds = get(server, "/innovations/submit/")
            assert (status, seconds < limit) == (200, True), (seconds, usual)
            status, seconds = get(server, "/static/css/site.css")
            assert (status, seconds < limit) == (200, True), (seconds, usual)
    finally:
        stop.set()
        for client in clients:
            client.join()


# A gunicorn worker as far as its post_worker_init hook: the application loaded, then
# the hook. Then an address is reversed, as the first page does. Prints how many
# objects the cycle collector has set aside, and how many it still walks.
WORKER_STARTED = """
import gc, runpy
from django.urls import reverse
from opsi.wsgi import application
runpy.run_path("gunicorn.conf.py")["post_worker_init"](None)
reverse("innovations:list")
print(gc.get_freeze_count(), len(gc.get_objects()))
"""


def test_the_cycle_collector_walks_only_what_a_worker_made_after_it_started():
    """A full pass of the collector holds up every thread of a worker: Django, the
    project's modules and its URLconf, there for the worker's life, are set aside."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SECRET_KEY": "test",
        "CATALOGUE_REFRESH_MS": "0",
    }
    output = subprocess.run(
        [sys.executable, "-c", WORKER_STARTED],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    set_aside, walked = map(int, output.split())
    assert walked < set_aside / 20, (set_aside, walked)
