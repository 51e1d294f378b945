"""A production deployment: `check --deploy` passes, and every answer carries its
security headers, compressed where that is safe."""

import gzip
import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.core.checks import run_checks
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


def env_example():
    """The variables .env.example documents, as a deployment would set them."""
    pairs = (
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    return dict(pairs)


def test_check_deploy_passes_with_the_documented_production_environment():
    env = {
        "PATH": os.environ["PATH"],
        **env_example(),
        # The one value .env.example cannot show: a real secret.
        "SECRET_KEY": secrets.token_urlsafe(50),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_a_site_url_that_is_not_the_public_https_address_is_reported(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    ids = [message.id for message in run_checks(include_deployment_checks=True)]
    assert "innovations.W001" in ids
    settings.SITE_URL = "https://catalogue.example.org"
    ids = [message.id for message in run_checks(include_deployment_checks=True)]
    assert "innovations.W001" not in ids


def test_pages_carry_a_strict_content_security_policy(client, seed):
    response = client.get("/innovations/submit/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "style-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert "geolocation=()" in response["Permissions-Policy"]


def test_the_maps_inline_script_carries_the_requests_nonce(client, make_innovation):
    case = make_innovation()
    response = client.get(f"/innovations/{case.slug}/")
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in response.content.decode()


def test_json_and_pages_without_a_csrf_token_are_compressed(client, make_innovation):
    make_innovation()
    for url in ["/innovations/?format=json", "/innovations/"]:
        response = client.get(url, headers={"accept-encoding": "gzip"})
        assert response["Content-Encoding"] == "gzip", url
        assert gzip.decompress(response.content)


def test_pages_with_a_csrf_token_are_not_compressed(client, seed):
    response = client.get("/innovations/submit/", headers={"accept-encoding": "gzip"})
    assert "csrfmiddlewaretoken" in response.content.decode()
    assert not response.has_header("Content-Encoding")


def test_static_files_without_a_hash_are_not_cached_for_a_year(settings):
    settings.WHITENOISE_USE_FINDERS = True
    response = Client().get("/static/css/site.css")
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=3600, public"
