"""Settings for the public-sector innovation catalogue.

Every value that differs between deployments comes from the environment; the
variables are listed in `.env.example`.
"""

import os
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name, default):
    value = os.environ.get(name, default).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name, default):
    value = os.environ.get(name, default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def envlist(name, default):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "false")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    SECRET_KEY = "insecure-development-key"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
# The site's public address, for links in emails; `check --deploy` requires it.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    # SimpleAdminConfig: the admin registers our models explicitly, so that
    # django-leaflet's GDAL-backed admin module is never imported.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    "django.forms",
    "django_filters",
    "leaflet",
    "django_tasks_db",
    "axes",
    "innovations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "innovations.middleware.CompressWithoutSecrets",
    "innovations.middleware.permissions_policy",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "innovations.middleware.reject_unreadable_requests",
    "innovations.middleware.reject_nul_in_admin",
    "innovations.middleware.admin_statement_timeout",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "innovations.api.read_only_cors",
]

ROOT_URLCONF = "opsi.urls"
WSGI_APPLICATION = "opsi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "innovations.context_processors.languages",
            ],
        },
    },
]

if "DATABASE_URL" not in os.environ:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Run the site with `make run` (which starts an embedded "
        "PostgreSQL) or set DATABASE_URL, e.g. postgresql://postgres@127.0.0.1:5432/opsi."
    )
DATABASES = {
    "default": dj_database_url.parse(
        os.environ["DATABASE_URL"], conn_max_age=600, conn_health_checks=True
    )
}
# A database that is down or frozen must not hold requests: give up connecting after
# DATABASE_CONNECT_TIMEOUT seconds, and stop a query after DATABASE_STATEMENT_TIMEOUT
# (public pages), DATABASE_ADMIN_TIMEOUT (the admin) or DATABASE_COMMAND_TIMEOUT
# (management commands and the task worker) seconds; 0 means no limit. A server that
# has frozen cannot stop its own queries, so the site stops waiting for an answer
# ANSWER_GRACE seconds after that limit (opsi/postgresql/base.py).
DATABASE_CONNECT_TIMEOUT = envint("DATABASE_CONNECT_TIMEOUT", "3")
DATABASE_STATEMENT_TIMEOUT = envint("DATABASE_STATEMENT_TIMEOUT", "5")
DATABASE_ADMIN_TIMEOUT = envint("DATABASE_ADMIN_TIMEOUT", "60")
DATABASE_COMMAND_TIMEOUT = envint("DATABASE_COMMAND_TIMEOUT", "0")
ANSWER_GRACE = 1
_statement_timeout = (
    DATABASE_COMMAND_TIMEOUT
    if Path(sys.argv[0]).name == "manage.py"
    else DATABASE_STATEMENT_TIMEOUT
)
DATABASES["default"]["OPTIONS"] = {
    **DATABASES["default"].get("OPTIONS", {}),
    "connect_timeout": DATABASE_CONNECT_TIMEOUT,
    "options": f"-c statement_timeout={_statement_timeout}s",
    "answer_timeout": _statement_timeout + ANSWER_GRACE if _statement_timeout else None,
}
DATABASES["default"]["ENGINE"] = "opsi.postgresql"
# Each web worker brings its catalogue index up to date every CATALOGUE_REFRESH_MS
# milliseconds in a thread of its own (gunicorn.conf.py), so that a change is applied
# between requests rather than by the first one after it, and frees the garbage that
# pages leave once the worker has grown; 0 leaves it to the requests, and Python.
CATALOGUE_REFRESH_MS = envint("CATALOGUE_REFRESH_MS", "250")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis, shared by every process and server: the cache and the rate limits' counts.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Each process's own: for {% cache %} fragments that only a new release changes
    # (they name static files by their hashes), never shared with an older release.
    "template_fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "template-fragments",
    },
}

# Cases one address may send through the public form in an hour (innovations.ratelimit
# counts in Redis when REDIS_URL is set, else in the database).
SUBMISSIONS_PER_HOUR = envint("SUBMISSIONS_PER_HOUR", "5")
# Reverse proxies in front of the site that add the client's address to
# X-Forwarded-For; 0 when clients connect to the app server directly.
TRUSTED_PROXIES = envint("TRUSTED_PROXIES", "0")

# Editors' logins resist guessing (django-axes, counting in the database that every
# server shares): after LOGIN_FAILURE_LIMIT wrong passwords from one address, or for
# one account, logins from there or to it wait LOGIN_LOCKOUT_MINUTES.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", "5")
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", "15"))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "innovations.ratelimit.client_address"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("pt", _("Portuguese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Files with a hash in their name are cached for ever (WhiteNoise marks them
# immutable); others, such as a file linked by its plain name, for an hour.
WHITENOISE_MAX_AGE = 60 * 60 if not DEBUG else 0

# Behind TLS (README, Deployment): secure cookies, redirect to https, and HSTS.
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", "false")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "false")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0")
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "false")
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "false")
# Only when a proxy that sets X-Forwarded-Proto (and strips the client's) is in front.
if envbool("SECURE_PROXY_SSL_HEADER", "false"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (Django's own): scripts and styles only from the site's
# files, map tiles from their server; the one inline script (django-leaflet's map
# start-up) carries the request's nonce.
_tiles = urlsplit(os.environ.get("MAP_TILES_URL", ""))
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"]
    + ([f"{_tiles.scheme}://{_tiles.netloc.replace('{s}', '*')}"] if _tiles.netloc else []),
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in "accelerometer camera geolocation gyroscope magnetometer microphone "
    "payment usb".split()
)

# Email goes to the console unless an SMTP server is named.
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": os.environ["EMAIL_HOST"],
            "port": envint("EMAIL_PORT", "587"),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": envbool("EMAIL_USE_TLS", "true"),
            # A server that accepts connections but never answers fails the attempt
            # after this many seconds; the task worker tries again later.
            "timeout": envint("EMAIL_TIMEOUT", "10"),
        },
    }
    if os.environ.get("EMAIL_HOST")
    else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "catalogue@localhost")
# A failed email is tried again after EMAIL_RETRY_SECONDS, then twice as long each
# time, EMAIL_ATTEMPTS times in all (the defaults keep trying for about four hours).
EMAIL_ATTEMPTS = envint("EMAIL_ATTEMPTS", "8")
EMAIL_RETRY_SECONDS = envint("EMAIL_RETRY_SECONDS", "60")

# Work that can wait (email) is stored in the database and done by the task worker,
# `manage.py db_worker`, which `make run` starts beside the web server.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Form widgets may use the project's templates (the admin's location picker does).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

LEAFLET_CONFIG = {
    # No tiles unless MAP_TILES_URL names a tile server: the map draws its own countries
    # (static/geo/), so by default no visitor's address reaches a third party.
    "TILES": [
        (
            "",
            os.environ["MAP_TILES_URL"],
            {
                "attribution": os.environ.get(
                    "MAP_TILES_ATTRIBUTION",
                    '&copy; <a href="https://www.openstreetmap.org/copyright">'
                    "OpenStreetMap</a> contributors",
                ),
                "maxZoom": 18,
            },
        )
    ]
    if os.environ.get("MAP_TILES_URL")
    else [],
    "DEFAULT_CENTER": (20.0, 0.0),
    "DEFAULT_ZOOM": 2,
    "MIN_ZOOM": 1,
    "MAX_ZOOM": 18,
    "RESET_VIEW": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
