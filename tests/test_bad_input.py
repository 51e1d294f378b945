"""Bad input never breaks the list: the bad part is ignored and the page says so."""

import pytest

LIST = "/innovations/"


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ("country=zz", "“ZZ” is not a known value"),
        ("tag=no-such-tag", "“no-such-tag” is not a known value"),
        ("level=galactic", "“galactic” is not a known value"),
        ("year_from=abc", "Launched from: the value given was not understood"),
        ("year_to=99999999999999999999", "Launched until: the value given was not understood"),
        ("sort=anything", "Sort by: the value given was not understood"),
        ("page=9999", "There is no page 9999; showing page 1."),
        ("page=abc", "is not a page number"),
        ("page=-3", "There is no page -3"),
        ("q=" + "x" * 5000, "Search: the value given was not understood"),
        ("q=%00%01%02binary", "Search: the value given was not understood"),
        ("tag=%00%ff%fe", "is not a known value"),
        ("country=PT%27%3B%20DROP%20TABLE%20innovations_innovation%3B--", "is not a known value"),
        ("sector=" + ",".join(["x"] * 500), "is not a known value"),
    ],
)
def test_bad_values_are_ignored_with_a_notice(client, make_innovation, query, notice):
    make_innovation(slug="still-here")
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == 200
    page = response.content.decode()
    assert notice in page
    assert "still-here" in page


def test_a_notice_says_what_was_wrong_with_a_value(client, make_innovation):
    make_innovation(year=2015)
    notices = client.get(f"{LIST}?format=json&year_from=2015.5&q={'x' * 201}").json()["notices"]
    assert notices == [
        "Search: the value given was not understood and was ignored. "
        "Ensure this value has at most 200 characters (it has 201).",
        "Launched from: the value given was not understood and was ignored. Enter a whole number.",
    ]


def test_a_format_not_offered_is_ignored_with_a_notice(client, make_innovation):
    make_innovation(slug="still-here")
    response = client.get(f"{LIST}?format=xml")
    assert response["Content-Type"].startswith("text/html")
    assert "Format “xml” is not offered and was ignored" in response.content.decode()
    data_headers = {"accept": "application/json"}
    data = client.get(f"{LIST}?format=xml", headers=data_headers).json()
    assert [row["slug"] for row in data["results"]] == ["still-here"]
    assert data["notices"] == [
        "Format “xml” is not offered and was ignored; format=json gives JSON."
    ]
    in_portuguese = client.get("/pt/innovations/?format=xml", headers=data_headers)
    assert in_portuguese.json()["notices"] == [
        "O formato “xml” não está disponível e foi ignorado; format=json dá JSON."
    ]


def test_format_html_asks_for_the_page_whatever_the_accept_header(client, make_innovation):
    make_innovation()
    response = client.get(f"{LIST}?format=html", headers={"accept": "application/json"})
    assert response["Content-Type"].startswith("text/html")
    assert "is not offered" not in response.content.decode()


def test_reversed_years_say_why_nothing_matches(client, make_innovation):
    make_innovation(year=2015)
    data = client.get(f"{LIST}?format=json&year_from=2020&year_to=2010").json()
    assert data["count"] == 0
    assert data["notices"] == [
        "“Launched from” 2020 is later than “Launched until” 2010: no case can match."
    ]
    notices = client.get("/pt/innovations/?format=json&year_from=2020&year_to=2010").json()
    assert notices["notices"] == [
        "“Lançamento desde” 2020 é posterior a “Lançamento até” 2010: "
        "nenhum caso pode corresponder."
    ]


def test_values_beyond_the_limit_are_left_out_with_a_notice(client, make_innovation):
    from innovations.catalogue.filters import MAX_VALUES
    from innovations.models import Country

    codes = list(Country.objects.order_by("code").values_list("code", flat=True)[: MAX_VALUES + 1])
    make_innovation(slug="in-the-first", country=codes[0])
    make_innovation(slug="past-the-limit", country=codes[-1])
    data = client.get(f"{LIST}?format=json&country={','.join(codes)}").json()
    assert [row["slug"] for row in data["results"]] == ["in-the-first"]
    assert data["notices"] == [f"Country: only the first {MAX_VALUES} values were used."]


@pytest.mark.parametrize(
    "url",
    [f"{LIST}?page=%00", f"{LIST}?country=%00zz", f"{LIST}?tag=a%00b", "/innovations/export.%00"],
)
def test_a_notice_never_echoes_control_characters(client, make_innovation, url):
    make_innovation()
    response = client.get(url)
    assert response.status_code in (200, 400)
    assert b"\x00" not in response.content


def test_good_values_survive_beside_bad_ones(client, make_innovation):
    make_innovation(slug="pt-case", country="PT")
    make_innovation(slug="es-case", country="ES")
    data = client.get(f"{LIST}?format=json&country=PT,XX,%3Cb%3E").json()
    assert [row["slug"] for row in data["results"]] == ["pt-case"]
    assert len(data["notices"]) == 2


def test_markup_in_the_query_is_never_echoed_unescaped(client, make_innovation):
    make_innovation()
    attack = "%3Cscript%3Ealert(1)%3C%2Fscript%3E"
    for name in ["q", "tag", "country", "year_from", "sort", "page"]:
        page = client.get(f"{LIST}?{name}={attack}").content.decode()
        assert "<script>alert(1)</script>" not in page, name


def test_sql_in_the_search_is_just_text(client, make_innovation):
    make_innovation(slug="survivor")
    response = client.get(f"{LIST}?format=json&q=%27%20OR%201%3D1%20--")
    assert response.json()["count"] == 0
    assert client.get(f"{LIST}?format=json").json()["count"] == 1


@pytest.mark.parametrize(
    ("prefix", "words"), [("", "could not be read"), ("/pt", "não foi possível ler")]
)
def test_too_many_parameters_is_a_bad_request_with_one_log_line(
    client, make_innovation, logged, prefix, words
):
    query = "&".join(f"tag=t{n}" for n in range(1500))
    for url in (f"{prefix}{LIST}", f"{prefix}{LIST}map.json", f"{prefix}/"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400
        assert words in response.content.decode().lower()
    assert len(logged()) == 3
    assert not any(record.exc_info for record in logged())


def test_only_reading_methods_are_allowed(client):
    assert client.post(LIST).status_code == 405


# Hostile requests: a 4xx and at most one log line each, never a 500.

ADMIN_PROBES = [
    "/admin/innovations/innovation/?status__exact=%00",
    "/admin/innovations/innovation/?country__code__exact=%00",
    "/admin/innovations/innovation/?sectors__id__exact=%00",
    "/admin/innovations/innovation/?q=%00",
    "/admin/innovations/innovation/%00/change/",
    "/admin/innovations/innovation/1%00/change/",
    "/admin/innovations/country/%00/change/",
    "/admin/autocomplete/?term=%00&app_label=innovations&model_name=innovation&field_name=country",
    "/admin/innovations/innovation/add/?title=%00&country=%00&sectors=%00",
    "/admin/innovations/innovation/?created__year=%00",
]


@pytest.fixture
def logged(caplog):
    """The log records of warnings and worse written during the test."""
    caplog.set_level("WARNING")
    return lambda: [record for record in caplog.records if record.levelno >= 30]


@pytest.mark.parametrize("url", ADMIN_PROBES)
def test_nul_bytes_in_the_admin_are_a_bad_request(admin_client, seed, logged, url):
    response = admin_client.get(url)
    assert response.status_code == 400
    assert len(logged()) <= 1


@pytest.mark.parametrize("charset", ["latin-1", "utf-16"])
def test_a_form_in_another_encoding_is_a_bad_request_with_one_log_line(seed, logged, charset):
    from django.test import Client

    from innovations.models import Innovation

    client = Client(enforce_csrf_checks=True)
    client.get("/innovations/submit/")
    token = client.cookies["csrftoken"].value
    body = f"csrfmiddlewaretoken={token}&title=Caf\u00e9".encode(charset)
    response = client.generic(
        "POST",
        "/innovations/submit/",
        body,
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
    )
    assert response.status_code == 400
    assert len(logged()) == 1
    assert not Innovation.objects.exists()


def test_an_international_domain_too_long_for_mail_is_a_form_error(client, seed, logged):
    from django.core.cache import cache

    from innovations.models import Innovation

    from .test_submit import case_data

    cache.clear()
    response = client.post("/innovations/submit/", case_data(email="ana@" + "é" * 60 + ".pt"))
    assert response.status_code == 200
    assert "This email address’s domain is not valid; check it." in response.content.decode()
    assert not Innovation.objects.exists()
    assert logged() == []
