"""The operator's commands, run as the README gives them: `make manage`, `make backup`
and `make restore`."""

import os
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from .conftest import database_url

ROOT = Path(__file__).resolve().parent.parent


def make(*args, database):
    env = {**os.environ, "DATABASE_URL": database_url(database)}
    return subprocess.run(
        ["make", "--silent", "--no-print-directory", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout


@pytest.fixture
def other_database():
    """An empty database beside the test database, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restored"
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_restored_backup_exports_the_same_cases(make_innovation, other_database, tmp_path):
    make_innovation(title="Kept safe", tags=["open-data"], stages=["evaluation"])
    make_innovation(title="Also kept", status="draft")
    database = connection.settings_dict["NAME"]
    backup = tmp_path / "catalogue.dump"

    make("backup", f"BACKUP={backup}", database=database)
    make("restore", f"BACKUP={backup}", database=other_database)

    export = ["manage", "ARGS=export_cases -"]
    original = make(*export, database=database)
    assert "Kept safe" in original and "Also kept" in original
    assert make(*export, database=other_database) == original


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_make_manage_runs_any_command_without_further_setup():
    output = make(
        "manage", "ARGS=showmigrations innovations", database=connection.settings_dict["NAME"]
    )
    assert "[X] 0001_initial" in output
