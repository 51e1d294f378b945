"""How `make run` (and a deployment that uses this file) runs the site under gunicorn.

Threaded workers: a slow client ties up one thread, not a whole worker, so 50 clients
trickling a byte at a time still leave threads for everyone else (tests/test_server.py).
In production put a reverse proxy in front (README, Deployment), which buffers slow
clients and terminates TLS.
"""

import ctypes
import gc
import os
import socket

wsgi_app = "opsi.wsgi"
worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "32"))
# A request still running after this many seconds is ended (the database's own
# timeouts end slow queries well before).
timeout = 60
graceful_timeout = 20
keepalive = 5
accesslog = "-"
# Each worker listens on a socket of its own, and the kernel hands each new connection
# to one of them. On one shared socket, the worker that woke first took most of a burst
# of connections, and a client that keeps its connections open (a browser, a proxy)
# then kept one worker busy while the other idled. A worker's own socket goes with it:
# connections waiting in it when it stops are reset.
reuse_port = True


def on_starting(server):
    """Refuse an address another server listens on, as a plain bind would: with
    reuse_port, a second server would take half of the first one's connections."""
    for host, port in bound(server):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # A port that only closing connections (TIME_WAIT) still hold is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                raise SystemExit(f"Cannot listen on {host}:{port}: {error.strerror}") from None


def when_ready(server):
    # The master opens no socket of its own, so gunicorn's "Listening at" names none.
    addresses = [f"http://{host}:{port}" for host, port in bound(server)]
    server.log.info("Each worker listens at: %s", ", ".join(addresses))


def bound(server):
    """The host and port of each TCP address the server binds."""
    return [address for address in server.cfg.address if isinstance(address, tuple)]


# glibc's malloc gives a large block back to the system when it is freed only if it
# was mapped on its own, and it raises the size it maps blocks from as large blocks
# are freed. A worker's catalogue index is a few arrays of a number per case, built
# anew on each reload: without a fixed threshold, each reload left the last one's
# arrays' space in the worker, unused but resident.
M_MMAP_THRESHOLD = -3
MAPPED_FROM = 1 << 20  # bytes


def post_fork(server, worker):
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: its own malloc
        return
    libc.mallopt(M_MMAP_THRESHOLD, MAPPED_FROM)


def post_worker_init(worker):
    from django.conf import settings
    from django.urls import reverse

    from innovations.catalogue.freshness import keep_current

    # What a worker has made by now (Django, the project's modules and its URLconf,
    # imported by this first reverse) lives as long as the worker. A full pass of the
    # cycle collector, which holds up every thread, would walk all of it each time:
    # set aside, the passes walk only what pages and catalogue indexes made since.
    # Garbage is collected first, or it would be kept for good.
    reverse("home")
    gc.collect()
    gc.freeze()
    if settings.CATALOGUE_REFRESH_MS:
        keep_current(settings.CATALOGUE_REFRESH_MS / 1000)
