"""Every command the README tells a reader to type works as written.

The commands are read from the README's `sh` blocks, so the README and this test cannot
drift: a new command fails here until it is run below. They run in a copy of the
project (with its .venv) against the test database, as on a fresh clone. `make run` is
a server: it is started on a free port, must answer /innovations/, and is stopped.
"""

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from .conftest import database_url
from .test_server import ROOT, free_port

# Commands that are not run here, and why; the README says the same.
NOT_RUN = {
    "make test": "it runs this suite, which .ci/run runs",
    "make bench": "it serves and measures for minutes over 100,000 cases",
    "python manage.py generate_cases --count 100000 --seed 1": "minutes of work for make bench",
}


def readme_commands():
    """The README's commands, in order: each line of its sh blocks, with continuations."""
    blocks = re.findall(r"^```sh\n(.*?)^```", (ROOT / "README.md").read_text(), re.M | re.S)
    text = "\n".join(blocks).replace("\\\n", "")
    return [line.strip() for line in text.splitlines() if line.strip()]


def without_comment(command):
    return re.sub(r"\s+#.*$", "", command)


@pytest.fixture
def fresh_clone(tmp_path):
    clone = tmp_path / "clone"
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
    ).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).exists():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)  # keeps times: make sees .venv current
    (clone / ".venv").symlink_to(ROOT / ".venv")
    return clone


def shell(command, cwd, **popen):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
        "PORT": str(popen.pop("port", 8000)),
    }
    return subprocess.Popen(
        ["bash", "-c", command], cwd=cwd, env=env, start_new_session=True, **popen
    )


def run(command, cwd):
    process = shell(
        command,
        cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = process.communicate(timeout=600)[0]
    assert process.returncode == 0, f"{command}\n{output}"
    return output


def serve(command, cwd):
    """Start a server command, wait until it answers /innovations/, then stop it."""
    port = free_port()
    process = shell(command, cwd, port=port, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert process.poll() is None, f"{command} ended with {process.returncode}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/innovations/") as page:
                    assert page.status == 200
                    return
            except OSError:
                time.sleep(0.5)
        pytest.fail(f"{command} did not answer /innovations/")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        for _ in range(120):  # gunicorn and the task worker let go of the database
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.5)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_every_command_in_the_readme_works_as_written(fresh_clone):
    from django.contrib.auth.models import Group

    Group.objects.get_or_create(name="Editors")  # as the migrations make it in a new database
    connection.close()
    somewhere = Path("/somewhere/catalogue.dump")
    made_somewhere = not somewhere.parent.exists()
    ran = []
    try:
        for line in readme_commands():
            command = without_comment(line)
            if command in NOT_RUN:
                continue
            if command == "make run":
                serve(command, fresh_clone)
            else:
                if "opsi-….dump" in command:  # the README's placeholder for a backup's name
                    made = sorted((fresh_clone / "backups").glob("opsi-*.dump"))
                    command = command.replace("backups/opsi-….dump", str(made[-1]))
                run(command, fresh_clone)
            ran.append(command)
    finally:
        somewhere.unlink(missing_ok=True)
        if made_somewhere and somewhere.parent.exists():
            somewhere.parent.rmdir()
    assert (fresh_clone / "cases.csv").read_text().startswith("slug,")
    assert set(NOT_RUN) < set(map(without_comment, readme_commands()))  # none is stale
    assert len(ran) == len(readme_commands()) - len(NOT_RUN)
