"""Two app servers (two gunicorn instances) in front of one PostgreSQL and one Redis
behave as one site: what one does, the other shows at once."""

import http.cookiejar
import re
import urllib.parse
import urllib.request

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import User

from innovations import ratelimit
from innovations.models import Innovation

from .test_ratelimit import TEST_REDIS_URL
from .test_server import start_gunicorn, stop
from .test_submit import SUBMIT, case_data


@pytest.fixture
def two_servers():
    redis = ratelimit.redis_client(TEST_REDIS_URL)
    redis.delete(*redis.keys("ratelimit:*") or ["none"])
    environment = {"REDIS_URL": TEST_REDIS_URL, "SUBMISSIONS_PER_HOUR": "3"}
    started = [start_gunicorn(**environment) for _ in range(2)]
    yield [port for port, _process in started]
    for _port, process in started:
        stop(process)
    redis.delete(*redis.keys("ratelimit:*") or ["none"])


class Browser:
    """One visitor's cookies (sessions and CSRF), used against either server."""

    def __init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def open(self, port, path, data=None):
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body)
        try:
            with self.opener.open(request, timeout=20) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def token(self, page):
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_servers_share_sessions_publications_and_limits(two_servers, seed):
    first, second = two_servers
    # Hashed with a hasher the servers know (the tests' own is a fast one).
    chief = User.objects.create_superuser("chief")
    hasher = PBKDF2PasswordHasher()
    chief.password = hasher.encode("a-long-passphrase", hasher.salt(), iterations=1000)
    chief.save()
    editor = Browser()

    # A form from one server is accepted by the other, and the session works on both.
    _status, page = editor.open(first, "/admin/login/?next=/admin/")
    credentials = {"username": "chief", "password": "a-long-passphrase"}
    status, page = editor.open(
        second,
        "/admin/login/?next=/admin/",
        {**credentials, "csrfmiddlewaretoken": editor.token(page)},
    )
    assert status == 200 and "Log out" in page

    # The rate limit is one count: three submissions between the two, then a 429.
    visitor = Browser()
    statuses = []
    for port in [first, second, first, second]:
        _status, form = visitor.open(port, SUBMIT)
        data = {**case_data(), "csrfmiddlewaretoken": visitor.token(form)}
        statuses.append(visitor.open(port, SUBMIT, data)[0])
    assert statuses == [200, 200, 200, 429]  # redirects to the thank-you page are followed
    assert Innovation.objects.count() == 3

    # Published through the first server, public on the second at once.
    case = Innovation.objects.order_by("pk").first()
    _status, page = editor.open(first, "/admin/innovations/innovation/")
    action = {"action": "publish", "_selected_action": case.pk, "index": 0}
    editor.open(
        first,
        "/admin/innovations/innovation/",
        {**action, "csrfmiddlewaretoken": editor.token(page)},
    )
    assert editor.open(second, f"/innovations/{case.slug}/")[0] == 200

    # Both answer the list and the map data alike.
    for path in ["/innovations/?format=json", "/innovations/map.json?bbox=-180,-85,180,85&zoom=2"]:
        # The same, but for the links to cases, which name the server asked.
        first_answer, second_answer = (
            Browser().open(port, path)[1].replace(f"127.0.0.1:{port}", "SERVER")
            for port in two_servers
        )
        assert first_answer == second_answer
        assert first_answer.startswith("{")
    assert case.slug in Browser().open(second, "/innovations/?format=json")[1]
