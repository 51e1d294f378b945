import itertools
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import translation

from innovations.catalogue import freshness
from innovations.models import Country, Innovation, Recognition, Sector, Stage, Tag

_serial = itertools.count(1)


def database_url(name=None, host=None, port=None):
    """The test database's address as a DATABASE_URL, for a process a test starts
    (`name`, `host` and `port` replace the test database's). A host that is a socket's
    directory, as the embedded server's is, is written percent-encoded."""
    db = connection.settings_dict
    host = host or db["HOST"] or "localhost"
    port = port or db["PORT"]
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    location = quote(host, safe="") if host.startswith("/") else host
    if port:
        location += f":{port}"
    return f"postgresql://{auth}@{location}/{name or db['NAME']}"


def end_connections(pids):
    """What a restart of the database, or an administrator, does to the connections of
    these server processes: ends them, from a connection of its own, and waits until
    the processes are gone."""
    with psycopg.connect(database_url(), autocommit=True) as administrator:
        for pid in pids:
            administrator.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 10
        while administrator.execute(
            "SELECT 1 FROM pg_stat_activity WHERE pid = ANY(%s)", [list(pids)]
        ).fetchone():
            if time.monotonic() > deadline:
                pytest.fail("the connections were not ended")
            time.sleep(0.01)


@pytest.fixture(autouse=True)
def test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    # Tasks run at once, inside the request; test_mail_queue.py runs the real worker.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def default_language():
    """Start each test in the site's default language, as a new process does.

    A request to a /pt/ page leaves Portuguese active in the thread after it; without
    this, a later test's forms and commands would speak Portuguese.
    """
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def fresh_catalogue():
    """Each test starts with no catalogue index in the process, as a new process does.

    A test's writes are rolled back at its end, which no running site ever sees: an
    index that had applied them would outlive them."""
    freshness.forget()
    yield
    freshness.forget()


@pytest.fixture
def live_server(live_server, django_db_serialized_rollback):
    """The live server, with the migrations' data restored as in every transactional test.

    Without the restore, the flush after the test runs the post-migrate handlers, which
    make the content types and permissions again under new ids; the next test that
    restores would then find them twice."""
    return live_server


@pytest.fixture
def seed(db):
    """The countries and vocabularies of the demo data (the same fixture files)."""
    if not Country.objects.exists():
        call_command("loaddata", "countries", "vocabularies", verbosity=0)


@pytest.fixture
def make_innovation(seed):
    """Create a published case; vocabularies are given by slug, the country by code."""

    def make(**overrides):
        number = next(_serial)
        related = {
            "sectors": (Sector, overrides.pop("sectors", ["education"])),
            "stages": (Stage, overrides.pop("stages", [])),
            "recognitions": (Recognition, overrides.pop("recognitions", [])),
            "tags": (Tag, overrides.pop("tags", [])),
        }
        fields = {
            "title": f"Case {number}",
            "slug": f"case-{number}",
            "short_explanation": f"Short explanation of case {number}.",
            "country_id": overrides.pop("country", "PT"),
            "level": Innovation.Level.NATIONAL,
            "status": Innovation.Status.PUBLISHED,
            **overrides,
        }
        innovation = Innovation.objects.create(**fields)
        for name, (model, slugs) in related.items():
            getattr(innovation, name).set(model.objects.filter(slug__in=slugs))
        return innovation

    return make


@pytest.fixture
def editor(db):
    """A staff member of the Editors group (not a superuser)."""
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("editor", password="a-long-passphrase", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def make_many(seed):
    """Create `count` published cases in one insert; a field may be a function of n."""

    def make(count, **fields):
        Innovation.objects.bulk_create(
            Innovation(
                **{
                    "title": f"Bulk case {n}",
                    "slug": f"bulk-{n}",
                    "short_explanation": "A case.",
                    "country_id": "ES",
                    "level": "local",
                    "status": "published",
                    **{
                        name: value(n) if callable(value) else value
                        for name, value in fields.items()
                    },
                }
            )
            for n in range(count)
        )

    return make


@pytest.fixture
def make_submission(make_innovation):
    """Create a case as the public form leaves it: awaiting review, with its submitter."""
    from innovations.models import Submission

    def make(name="Ana Submitter", email="ana@example.org", **overrides):
        innovation = make_innovation(**{"status": Innovation.Status.SUBMITTED, **overrides})
        Submission.objects.create(
            innovation=innovation, token=uuid.uuid4(), name=name, email=email, may_share=True
        )
        return innovation

    return make


CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(items):
    """Browser tests need Debian's Chromium, which the project does not download."""
    if Path(CHROMIUM).exists():
        return
    missing = pytest.mark.skip(reason="Debian's Chromium is missing: apt-get install chromium")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(missing)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, quiet and offline: the browser tests never download a browser."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
        ],
    }
