"""What only a browser shows: the map, its bubbles and popups, and the editors' picker."""

import os
import re
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from innovations.models import Innovation

# Playwright's sync API runs an event loop; the live server's ORM calls happen beside it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser

# A transparent 1×1 PNG: every tile, so that the tests never reach the network.
TILE = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4a300"
    "00000049454e44ae426082"
)


@pytest.fixture
def site(page, live_server):
    """A page that talks only to the live server and records every JavaScript error."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    def route(request):
        if request.request.url.startswith(live_server.url):
            request.continue_()
        else:
            request.fulfill(status=200, content_type="image/png", body=TILE)

    page.route("**/*", route)
    page.errors = errors
    page.url_for = lambda path: f"{live_server.url}{path}"
    yield page
    assert errors == []


@pytest.fixture
def cases(make_innovation):
    make_innovation(slug="lisbon", title="Lisbon portal", country="PT", level="local")
    make_innovation(
        slug="porto",
        title="Porto card",
        country="PT",
        level="regional",
        latitude=41.1579,
        longitude=-8.6291,
    )
    make_innovation(slug="madrid", title="Madrid lab", country="ES", level="local")
    make_innovation(slug="paris", title="Paris lab", country="FR", level="national")
    make_innovation(slug="brasilia", title="Brasília bot", country="BR", level="national")
    make_innovation(slug="draft", country="BR", status=Innovation.Status.DRAFT)


def bubbles_total(page):
    expect(page.locator("#catalogue-map")).not_to_have_attribute("aria-busy", "true")
    return sum(int(text) for text in page.locator(".map-bubble").all_inner_texts())


def shown_count(page):
    return int(page.locator("#result-count").get_attribute("data-count"))


def test_the_map_loads_without_errors_and_its_bubbles_add_up_to_the_count(site, cases):
    site.goto(site.url_for("/innovations/map/"))
    # Portugal's and Spain's bubbles would overlap at the world's zoom: they are one.
    expect(site.locator(".map-bubble")).to_have_count(3)
    expect(site.locator('.map-bubble[data-countries="PT,ES"]')).to_have_text("3")
    assert bubbles_total(site) == shown_count(site) == 5
    expect(site.locator("#result-count")).to_have_text("5 innovations")
    expect(site.locator("#map-status")).to_have_text("5 innovations on the map.")


def test_the_portuguese_map_speaks_portuguese(site, cases):
    site.goto(site.url_for("/pt/innovations/map/"))
    expect(site.locator("#result-count")).to_have_text("5 inovações")
    expect(site.locator("#map-status")).to_have_text("5 inovações no mapa.")
    expect(site.locator('.map-bubble[data-country="FR"]')).to_have_attribute(
        "aria-label", "France: 1 inovação"
    )
    site.locator("#level-local").check()
    expect(site).to_have_url(re.compile(r"/pt/innovations/map/\?level=local"))
    expect(site.locator("#result-count")).to_have_text("2 inovações")
    expect(site.locator(".chips")).to_contain_text("Nível de governo: Local")


def test_clicking_a_country_filters_the_view_and_changes_the_address(site, cases):
    site.goto(site.url_for("/innovations/map/"))
    brazil = site.locator('path.map-country-shaded[data-country="BR"]')
    box = brazil.bounding_box()
    site.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    expect(site).to_have_url(re.compile(r"[?&]country=BR(&|$)"))
    expect(site.locator("#result-count")).to_have_text("1 innovation")
    expect(site.locator("#country-br")).to_be_checked()
    expect(site.locator("#countries tbody tr")).to_have_count(1)
    expect(site.locator(".map-bubble, .map-point")).to_have_count(1)
    assert "zoom=5" in site.url


def test_a_country_bubble_lists_its_cases_from_the_keyboard(site, cases):
    site.goto(site.url_for("/innovations/map/"))
    site.locator('.map-bubble[data-country="FR"]').focus()
    site.keyboard.press("Enter")
    popup = site.locator(".leaflet-popup-content")
    expect(popup.get_by_role("link", name="Paris lab")).to_have_attribute(
        "href", "/innovations/paris/"
    )


def test_a_single_case_opens_its_popup(site, cases):
    site.goto(site.url_for("/innovations/map/?lat=41.1579&lng=-8.6291&zoom=14"))
    site.locator('.map-point[data-slug="porto"]').click()
    popup = site.locator(".leaflet-popup-content")
    expect(popup.get_by_role("link", name="Porto card")).to_have_attribute(
        "href", "/innovations/porto/"
    )
    expect(popup).to_contain_text("Portugal")


def test_the_view_is_a_permalink(site, cases):
    site.goto(site.url_for("/innovations/map/?country=PT&lat=41&lng=-8.6&zoom=9"))
    expect(site.locator(".map-point")).to_have_count(1)
    for zoom in (8, 7, 6):
        site.locator(".leaflet-control-zoom-out").click()
        expect(site).to_have_url(re.compile(rf"zoom={zoom}"))
    expect(site.locator(".map-point")).to_have_count(2)
    assert "country=PT" in site.url
    site.reload()
    expect(site.locator(".map-point")).to_have_count(2)
    expect(site.locator(".map-bubble")).to_have_count(0)


def test_live_filtering_redraws_the_map(site, cases):
    site.goto(site.url_for("/innovations/map/"))
    expect(site.locator(".map-bubble")).to_have_count(3)
    site.locator("#level-local").check()
    expect(site.locator("#result-count")).to_have_text("2 innovations")
    expect(site.locator(".map-bubble")).to_have_count(1)
    assert bubbles_total(site) == shown_count(site) == 2
    assert "level=local" in site.url


def test_list_and_map_toggle_keeps_the_filters(site, cases):
    site.goto(site.url_for("/innovations/?country=PT&level=local"))
    site.get_by_role("navigation", name="View as").get_by_role("link", name="Map").click()
    expect(site).to_have_url(re.compile(r"/innovations/map/\?country=PT&level=local"))
    expect(site.locator("#result-count")).to_have_text("1 innovation")
    expect(site.locator(".map-bubble")).to_have_count(1)
    site.get_by_role("navigation", name="View as").get_by_role("link", name="List").click()
    expect(site).to_have_url(re.compile(r"/innovations/\?country=PT&level=local$"))
    expect(site.locator(".card")).to_have_count(1)


def test_without_javascript_the_map_page_offers_the_table_and_the_filters(
    browser, live_server, cases
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/innovations/map/")
    expect(page.get_by_text("The map needs JavaScript.")).to_be_visible()
    expect(page.locator("#catalogue-map")).to_be_hidden()
    expect(page.locator("#countries tbody tr")).to_have_count(4)
    page.locator("#level-local").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"/innovations/map/\?.*level=local"))
    expect(page.locator("#result-count")).to_have_text("2 innovations")
    page.locator("#countries").get_by_role("link", name="Spain").click()
    expect(page.locator("#result-count")).to_have_text("1 innovation")
    expect(page.locator("#country-es")).to_be_checked()
    context.close()


@pytest.fixture
def editor(db):
    """An editor; the Editors group comes from a migration, so it is made again after a flush."""
    import_module("innovations.migrations.0002_editors_group").create_editors_group(apps, None)
    import_module("innovations.migrations.0003_editorial_workflow").grant_review_permissions(
        apps, None
    )
    user = User.objects.create_user("picker", password="a-long-passphrase", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


def test_the_admin_picker_writes_coordinates_that_are_saved(site, make_innovation, editor):
    case = make_innovation(slug="somewhere", country="PT")
    site.goto(site.url_for("/admin/login/"))
    site.fill("#id_username", "picker")
    site.fill("#id_password", "a-long-passphrase")
    site.get_by_role("button", name="Log in").click()
    site.goto(site.url_for(f"/admin/innovations/innovation/{case.pk}/change/"))
    picker = site.locator(".location-picker-map")
    expect(site.locator(".location-picker-marker")).to_have_count(0)

    site.fill("#id_latitude", "40")
    site.fill("#id_longitude", "-8")
    expect(site.locator(".location-picker-marker")).to_have_count(1)

    picker.click(position={"x": 120, "y": 90})
    latitude = float(site.input_value("#id_latitude"))
    longitude = float(site.input_value("#id_longitude"))
    assert (latitude, longitude) != (40, -8)
    site.locator('input[name="_save"]').first.click()
    expect(site.locator(".messagelist")).to_contain_text("was changed successfully")

    case.refresh_from_db()
    assert (case.latitude, case.longitude) == (latitude, longitude)
