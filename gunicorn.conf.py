"""How `make run` (and a deployment that uses this file) runs the site under gunicorn.

Threaded workers: a slow client ties up one thread, not a whole worker, so 50 clients
trickling a byte at a time still leave threads for everyone else (tests/test_server.py).
In production put a reverse proxy in front (README, Deployment), which buffers slow
clients and terminates TLS.
"""

import os

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
