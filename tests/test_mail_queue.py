"""Email never waits in a request: the task worker sends it, and retries until it goes.

These tests store tasks in the database, as a deployment does, and run the real
worker (`manage.py db_worker`) in its own process against a mail server that the test
starts: first a black hole that accepts connections and never answers, then a server
that works.
"""

import email
import email.policy
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from innovations.models import Innovation

from .conftest import database_url
from .test_submit import SUBMIT, THANKS, case_data

ROOT = Path(__file__).resolve().parent.parent
CHANGELIST = "/admin/innovations/innovation/"
# Longer than the worker needs for both first attempts (a timeout of 1 s each).
RETRY_SECONDS = 4


class SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for Django's backend: greet, accept anything, keep each message."""

    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.reply("220 test mail server")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                self.reply("354 end with a dot")
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(line)
                message = email.message_from_bytes(b"".join(lines), policy=email.policy.default)
                self.server.messages.append(message)
                self.reply("250 queued")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


class MailServer:
    """A black hole on a free port until `come_back()` puts a working server there."""

    def __init__(self):
        self.hole = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.port = self.hole.getsockname()[1]
        self.server = None
        self.messages = []

    def come_back(self):
        self.hole.close()
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), SMTPHandler)
        self.server.daemon_threads = True
        self.server.messages = self.messages
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.hole.close()
        if self.server:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def mail_server(settings):
    server = MailServer()
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": server.port, "timeout": 1},
        }
    }
    yield server
    server.close()


def run_worker(port):
    """Run the task worker until no task is due, as its own process, like `make run`'s."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_USE_TLS": "false",
        "EMAIL_TIMEOUT": "1",
        "EMAIL_RETRY_SECONDS": str(RETRY_SECONDS),
        "DEBUG": "false",
    }
    command = [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=60, capture_output=True)


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_silent_mail_server_delays_no_one_and_mail_goes_out_when_it_is_back(
    client, seed, mail_server
):
    from django.contrib.auth.models import User

    response, submitting = timed(lambda: client.post(SUBMIT, case_data()))
    assert response["Location"] == THANKS
    assert submitting < 1

    client.force_login(User.objects.create_superuser("chief", password="a-long-passphrase"))
    case = Innovation.objects.get()
    action = {"action": "publish", "_selected_action": [case.pk]}
    response, publishing = timed(lambda: client.post(CHANGELIST, action))
    assert response.status_code == 302
    assert submitting < 1 and publishing < 1
    case.refresh_from_db()
    assert case.status == "published"

    # The server never answers: each attempt gives up after the timeout and is put back.
    run_worker(mail_server.port)
    assert mail_server.messages == []
    waiting = DBTaskResult.objects.filter(status="READY")
    assert [task.args_kwargs["args"][-1] for task in waiting] == [2, 2]

    mail_server.come_back()
    due = max(task.run_after for task in waiting)
    time.sleep(max(0, (due - timezone.now()).total_seconds()) + 0.1)
    run_worker(mail_server.port)
    assert sorted(message["Subject"] for message in mail_server.messages) == [
        "We received your case “Open budget for Porto”",
        "Your case “Open budget for Porto” is published",
    ]
    assert {message["To"] for message in mail_server.messages} == {"ana@example.org"}
    assert not DBTaskResult.objects.filter(status="READY").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_submission_stores_its_email_task_with_the_case(client, seed, mail_server):
    client.post(SUBMIT, case_data())
    [task] = DBTaskResult.objects.all()
    assert task.task_path == "innovations.tasks.email_submitter"
    assert task.args_kwargs["args"] == [
        Innovation.objects.get().submission.pk,
        "submitted",
        "",
    ]


def test_retries_wait_twice_as_long_each_time(settings):
    from innovations.tasks import retry_delay

    settings.EMAIL_RETRY_SECONDS = 60
    assert [retry_delay(attempt) for attempt in (1, 2, 3, 4)] == [60, 120, 240, 480]
