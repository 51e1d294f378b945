"""The map at real scale, in Chromium at desktop and phone sizes, and the pages' accessibility.

The world here has 1,000 published cases in 160 countries. Every request that is not to
the site itself is refused and recorded: the map has no third party to ask.
"""

import json
import os
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from innovations.catalogue.maps import POPUP_CASES
from innovations.models import Country

from . import axe

# Playwright's sync API runs an event loop; the live server's ORM calls happen beside it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
COUNTRIES = 160
CASES = 1000


@pytest.fixture(params=list(SIZES))
def size(request):
    return request.param


@pytest.fixture
def site(page, live_server, size):
    """A page at one size that may reach only the live server, recording all else."""
    errors, elsewhere = [], []
    page.set_viewport_size(SIZES[size])
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    def route(request):
        if request.request.url.startswith(live_server.url):
            request.continue_()
        else:
            elsewhere.append(request.request.url)
            request.abort()

    page.route("**/*", route)
    page.errors, page.elsewhere = errors, elsewhere
    page.url_for = lambda path: f"{live_server.url}{path}"
    yield page
    assert errors == []


@pytest.fixture
def world(make_many, seed):
    """1,000 published cases in 160 countries; every third has a place of its own."""
    countries = list(Country.objects.order_by("code")[:COUNTRIES])
    make_many(
        CASES,
        title=lambda n: f"Case {n:04d}",
        country_id=lambda n: countries[(n * 7) % COUNTRIES].code,
        level=lambda n: ("local", "national")[n % 2],
        latitude=lambda n: (
            _near(countries[(n * 7) % COUNTRIES].latitude, n) if n % 3 == 0 else None
        ),
        longitude=lambda n: countries[(n * 7) % COUNTRIES].longitude if n % 3 == 0 else None,
    )
    return countries


def _near(latitude, n):
    return max(-89.0, min(89.0, latitude + (n % 5) * 0.3))


def drawn(page):
    """The map's bubbles and single cases once drawn: their counts and screen rectangles."""
    expect(page.locator("#catalogue-map")).not_to_have_attribute("aria-busy", "true")
    return page.locator(".map-bubble, .map-point").evaluate_all(
        """nodes => nodes.map(node => {
            const box = node.getBoundingClientRect();
            return {count: Number(node.dataset.count), label: node.getAttribute("aria-label"),
                    left: box.left, top: box.top, right: box.right, bottom: box.bottom};
        })"""
    )


def still(page):
    """Wait until the map stops moving (a popup pans itself into view; Leaflet marks its pane
    while it pans) and has drawn what it shows: a move that ends outside the bubbles drawn
    loads them again."""
    expect(page.locator("#catalogue-map .leaflet-pan-anim")).to_have_count(0)
    expect(page.locator("#catalogue-map")).not_to_have_attribute("aria-busy", "true")


def in_view(page):
    """The indexes of the bubbles whose centre a person sees inside the map, once it is still."""
    still(page)
    return page.locator(".map-bubble").evaluate_all(
        """(nodes) => {
            const map = document.getElementById("catalogue-map").getBoundingClientRect();
            return nodes.flatMap((node, n) => {
                const box = node.getBoundingClientRect();
                const x = (box.left + box.right) / 2, y = (box.top + box.bottom) / 2;
                return x > map.left && x < map.right && y > map.top && y < map.bottom ? [n] : [];
            });
        }"""
    )


def overlapping(rects):
    return [
        (a["label"], b["label"])
        for n, a in enumerate(rects)
        for b in rects[n + 1 :]
        if a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    ]


def shown_count(page):
    return int(page.locator("#result-count").get_attribute("data-count"))


@pytest.mark.browser
@pytest.mark.parametrize("view", ["", "?lat=45&lng=10&zoom=4", "?lat=40&lng=0&zoom=6"])
def test_bubbles_never_overlap_with_a_thousand_cases_in_160_countries(site, world, view):
    site.goto(site.url_for(f"/innovations/map/{view}"))
    expect(site.locator(".map-bubble").first).to_be_visible()
    rects = drawn(site)
    assert len(rects) >= 2
    assert overlapping(rects) == []
    # Merging keeps every case drawn: the bubbles add up to what the map says it shows.
    said = re.match(r"(\d+)", site.locator("#map-status").inner_text()).group(1)
    assert sum(rect["count"] for rect in rects) == int(said)
    assert shown_count(site) == CASES


@pytest.mark.browser
def test_the_old_map_piled_bubbles_that_merging_now_separates(site, world):
    """Without merging, the world view's country bubbles overlap (Spain under Portugal)."""
    site.goto(site.url_for("/innovations/map/"))
    expect(site.locator(".map-bubble").first).to_be_visible()
    merged = site.locator(".map-bubble[data-countries]")
    assert merged.count() > 0
    countries = sum(
        len(codes.split(","))
        for codes in merged.evaluate_all("nodes => nodes.map(node => node.dataset.countries)")
    )
    assert countries > merged.count()


@pytest.mark.browser
def test_every_bubble_is_two_clicks_from_a_case_or_offers_its_cases_in_the_list(site, world):
    site.goto(site.url_for("/innovations/map/"))
    expect(site.locator(".map-bubble").first).to_be_visible()
    bubbles = site.locator(".map-bubble")
    popup = site.locator(".leaflet-popup-content")
    n = 0
    while n < len(seen := in_view(site)):  # a popup panned into view may redraw the map
        bubbles.nth(seen[n]).focus()
        n += 1
        site.keyboard.press("Enter")  # a click on the focused bubble
        expect(popup).not_to_contain_text("Loading")
        text = popup.inner_text()
        listed = re.search(r"(\d+) innovations? here", text)
        if listed:  # a small bubble: its cases, as many as the fragment holds, are links
            count = int(listed.group(1))
            assert count <= 20
            expect(popup.locator("li a")).to_have_count(min(count, POPUP_CASES))
        else:
            count = int(re.search(r"Show these (\d+) innovations in the list", text).group(1))
            assert count > 20
        if count > POPUP_CASES:
            link = popup.get_by_role("link", name=f"Show these {count} innovations in the list")
            expect(link).to_be_visible()
        site.locator("#catalogue-map").focus()
        site.keyboard.press("Escape")
        expect(popup).to_have_count(0)
    assert n > 1
    # The second click reaches a case.
    counts = [int(n) for n in bubbles.evaluate_all("all => all.map(b => b.dataset.count)")]
    bubbles.nth(next(n for n, count in enumerate(counts) if count <= POPUP_CASES)).focus()
    site.keyboard.press("Enter")
    link = popup.locator("li a").first
    title = link.inner_text()
    still(site)  # its cases move the popup into view: a person clicks once it stops
    link.click()
    expect(site.locator("h1")).to_have_text(title)


def held(page, url):
    """Keep the requests to `url` unanswered; each call of the result lets the first one go."""
    kept = []
    page.route(url, lambda route: kept.append(route))

    def let_go(answer=lambda route: route.continue_()):
        for _wait in range(100):  # the route's handler runs as Playwright reads its events
            if kept:
                return answer(kept.pop(0))
            page.wait_for_timeout(50)
        raise AssertionError(f"no request to {url}")

    return let_go


def small_bubble_in_view(page):
    """A bubble a person sees that lists its cases, as a locator that stays on it."""
    seen = in_view(page)
    bubbles = page.locator(".map-bubble")
    counts = [int(n) for n in bubbles.evaluate_all("all => all.map(b => b.dataset.count)")]
    n = next(n for n in seen if 1 < counts[n] <= POPUP_CASES)
    label = bubbles.nth(n).get_attribute("aria-label")
    return page.locator(f'.map-bubble[aria-label="{label}"]'), counts[n]


@pytest.mark.browser
def test_a_popup_opened_while_the_map_loads_stays_open_and_shows_its_cases(site, world):
    site.goto(site.url_for("/innovations/map/?lat=45&lng=10&zoom=4"))
    bubble, count = small_bubble_in_view(site)
    status = site.locator("#map-status")
    drawn_before = status.inner_text()
    map_data = held(site, "**/innovations/map.json?*")
    cases = held(site, "**/innovations/map/cases/?*")
    site.locator(".leaflet-control-zoom-out").click()  # the map asks for the wider view
    expect(site.locator("#catalogue-map")).to_have_attribute("aria-busy", "true")
    bubble.focus()
    site.keyboard.press("Enter")
    popup = site.locator(".leaflet-popup-content")
    expect(popup).to_have_text("Loading…")
    # The wider view's bubbles come while the popup waits for its cases: they wait in turn.
    map_data()
    expect(site.locator("#catalogue-map")).not_to_have_attribute("aria-busy", "true")
    cases()
    expect(popup).to_contain_text(f"{count} innovations here")
    expect(popup.locator("li a")).to_have_count(count)
    expect(status).to_have_text(drawn_before)
    # Closed, the popup lets the map draw the wider view.
    site.keyboard.press("Escape")
    expect(popup).to_have_count(0)
    expect(status).not_to_have_text(drawn_before)
    rects = drawn(site)
    assert overlapping(rects) == []
    said = re.match(r"(\d+)", status.inner_text()).group(1)
    assert sum(rect["count"] for rect in rects) == int(said)


@pytest.mark.browser
def test_a_popup_whose_cases_cannot_be_loaded_says_so_and_asks_again(site, world):
    site.goto(site.url_for("/innovations/map/?lat=45&lng=10&zoom=4"))
    bubble, count = small_bubble_in_view(site)
    cases = held(site, "**/innovations/map/cases/?*")
    bubble.focus()
    site.keyboard.press("Enter")
    popup = site.locator(".leaflet-popup-content")
    again = popup.get_by_role("button", name="Try again")
    cases(lambda route: route.fulfill(status=503))
    expect(popup).to_contain_text("This could not be loaded.")
    again.click()
    expect(popup).to_have_text("Loading…")
    expect(popup).to_be_focused()
    cases(lambda route: route.fulfill(status=503))
    expect(popup).to_contain_text("This could not be loaded.")
    expect(again).to_be_visible()
    # Opened again, the popup asks again.
    site.keyboard.press("Escape")
    expect(popup).to_have_count(0)
    bubble.focus()
    site.keyboard.press("Enter")
    expect(popup).to_have_text("Loading…")
    cases()
    expect(popup.locator("li a")).to_have_count(count)
    # The refused answers are the browser's only complaints.
    assert set(site.errors) == {
        "Failed to load resource: the server responded with a status of 503 (Service Unavailable)"
    }
    site.errors.clear()


@pytest.mark.browser
def test_a_filter_ticked_with_a_popup_open_closes_it_and_redraws_the_map(site, world):
    site.goto(site.url_for("/innovations/map/?lat=45&lng=10&zoom=4"))
    bubble, count = small_bubble_in_view(site)
    bubble.focus()
    site.keyboard.press("Enter")
    popup = site.locator(".leaflet-popup-content")
    expect(popup.locator("li a")).to_have_count(count)
    if site.locator("#filter-toggle").is_visible():  # on a phone, the filters are folded
        site.locator("#filter-toggle").click()
    site.locator("#level-local").check()
    expect(site.locator("#result-count")).to_have_text(f"{CASES // 2} innovations")
    expect(popup).to_have_count(0)
    status = site.locator("#map-status")
    expect(status).to_contain_text(f"of {CASES // 2} innovations")
    said = re.match(r"(\d+)", status.inner_text()).group(1)
    assert sum(rect["count"] for rect in drawn(site)) == int(said)


@pytest.mark.browser
def test_a_large_bubble_shows_its_cases_in_the_list(site, world):
    site.goto(site.url_for("/innovations/map/?lat=20&lng=0&zoom=1"))
    big = site.locator(".map-bubble").filter(has_not_text=re.compile(r"^\d$|^1\d$|^20$"))
    expect(big.first).to_be_visible()
    count = int(big.first.get_attribute("data-count"))
    assert count > 20
    big.first.focus()
    site.keyboard.press("Enter")
    site.get_by_role("link", name=f"Show these {count} innovations in the list").click()
    expect(site).to_have_url(re.compile(r"/innovations/\?.*country="))
    expect(site.locator("#result-count")).to_have_text(f"{count} innovations")


@pytest.mark.browser
def test_the_choropleth_and_its_legend_show_with_every_outside_request_refused(site, world):
    site.goto(site.url_for("/innovations/map/"))
    shaded = site.locator("path.map-country-shaded")
    expect(shaded.first).to_be_attached()
    legend = site.locator(".map-legend li[data-high]")
    expect(legend.first).to_be_visible()
    classes = legend.evaluate_all(
        """items => items.map(item => ({
             low: Number(item.dataset.low), high: Number(item.dataset.high),
             fill: item.querySelector('.map-legend-swatch').style.background}))"""
    )
    fills = shaded.evaluate_all(
        """paths => paths.map(path => ({
             code: path.dataset.country, count: Number(path.dataset.count),
             fill: getComputedStyle(path).fill}))"""
    )
    table = {row.code: row.count for row in _table(site)}
    assert {fill["code"] for fill in fills} <= set(table)
    assert len({fill["code"] for fill in fills}) > 100  # the 110m shapes lack some small states
    # The classes cover 1 to the largest count without gaps, and every shade is its class's.
    assert classes[0]["low"] == 1 and classes[-1]["high"] == max(table.values())
    assert all(a["high"] + 1 == b["low"] for a, b in zip(classes, classes[1:], strict=False))
    for fill in fills:
        assert fill["count"] == table[fill["code"]]
        (own,) = [c for c in classes if c["low"] <= fill["count"] <= c["high"]]
        assert fill["fill"] == own["fill"]
    assert site.elsewhere == []


def _table(page):
    class Row:
        def __init__(self, code, count):
            self.code, self.count = code, int(count)

    return [
        Row(*pair)
        for pair in page.locator("#countries tbody tr").evaluate_all(
            "rows => rows.map(row => [row.dataset.country, row.dataset.count])"
        )
    ]


@pytest.mark.browser
def test_no_request_leaves_the_site_when_no_tiles_are_configured(site, world):
    site.goto(site.url_for("/innovations/map/"))
    expect(site.locator("path.map-country").first).to_be_attached()
    site.locator(".leaflet-control-zoom-in").click()
    expect(site).to_have_url(re.compile(r"zoom=3"))
    expect(site.locator("#catalogue-map")).not_to_have_attribute("aria-busy", "true")
    assert site.elsewhere == []
    credit = site.locator(".leaflet-control-attribution")
    expect(credit).to_contain_text("Natural Earth")
    expect(credit).not_to_contain_text("OpenStreetMap")


@pytest.mark.browser
def test_with_tiles_that_fail_the_map_says_so_and_keeps_its_countries(
    site, world, monkeypatch, settings
):
    import leaflet

    tiles = [("", "https://tiles.example.org/{z}/{x}/{y}.png", {"attribution": "Example tiles"})]
    monkeypatch.setitem(leaflet.app_settings, "TILES", tiles)
    settings.SECURE_CSP = {
        **settings.SECURE_CSP,
        "img-src": [*settings.SECURE_CSP["img-src"], "https://tiles.example.org"],
    }
    site.goto(site.url_for("/innovations/map/"))
    expect(site.locator("#map-tiles-status")).to_have_text(
        "The background map could not be loaded; the map shows the country outlines."
    )
    expect(site.locator("path.map-country-shaded").first).to_be_attached()
    expect(site.locator(".map-legend")).to_be_visible()
    assert any(url.startswith("https://tiles.example.org/") for url in site.elsewhere)
    # The refused tiles are the browser's only complaints.
    assert set(site.errors) == {"Failed to load resource: net::ERR_FAILED"}
    site.errors.clear()


@pytest.mark.browser
def test_clicking_a_shaded_country_filters_to_it(site, world):
    site.goto(site.url_for("/innovations/map/"))
    brazil = site.locator('path.map-country-shaded[data-country="BR"]')
    expect(brazil).to_be_attached()
    count = int(brazil.get_attribute("data-count"))
    site.locator("#catalogue-map").scroll_into_view_if_needed()
    # A point where Brazil itself, not a bubble or a control, is on top.
    spot = brazil.evaluate(
        """path => {
            const box = path.getBoundingClientRect();
            for (let y = box.top + 2; y < box.bottom; y += 4)
                for (let x = box.left + 2; x < box.right; x += 4)
                    if (document.elementFromPoint(x, y) === path) return [x, y];
        }"""
    )
    site.mouse.click(*spot)
    expect(site).to_have_url(re.compile(r"[?&]country=BR(&|$)"))
    expect(site.locator("#result-count")).to_have_text(f"{count} innovations")


@pytest.mark.browser
def test_search_this_area_appears_after_a_move_and_puts_the_view_in_the_filters(site, world):
    site.goto(site.url_for("/innovations/map/?lat=45&lng=10&zoom=4"))
    site.evaluate("() => { window.moves = [] }")
    site.evaluate("() => document.addEventListener('map:moved', () => window.moves.push(1))")
    button = site.get_by_role("button", name="Search this area")
    expect(button).to_be_hidden()
    site.locator(".leaflet-control-zoom-in").click()
    expect(button).to_be_visible()
    assert site.evaluate("() => window.moves") == [1]
    everywhere = site.locator("#result-count").inner_text()
    with site.expect_request(re.compile(r"/innovations/map/\?.*bbox=")):
        button.click()
    expect(site).to_have_url(
        re.compile(r"[?&]bbox=-?\d+\.\d+%2C-?\d+\.\d+%2C-?\d+\.\d+%2C-?\d+\.\d+")
    )
    expect(button).to_be_hidden()
    assert "zoom=5" in site.url
    # The count is the area's, as the list's, and the area is a chip.
    expect(site.locator("#result-count")).not_to_have_text(everywhere)
    area = parse_qs(urlsplit(site.url).query)["bbox"][0]
    listed = site.request.get(site.url_for(f"/innovations/?format=json&bbox={area}")).json()
    expect(site.locator("#result-count")).to_have_text(
        re.compile(rf"^{listed['count']} innovations?$")
    )
    expect(site.locator(".chips")).to_contain_text("Area:")
    # Another filter keeps the area.
    if site.locator("#filter-toggle").is_visible():  # on a phone, the filters are folded
        site.locator("#filter-toggle").click()
    site.locator("#level-local").check()
    expect(site).to_have_url(re.compile(r"level=local"))
    assert "bbox=" in site.url


@pytest.mark.browser
def test_the_country_table_sorts_by_count_without_javascript(browser, live_server, world):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/innovations/map/")
    names = page.locator("#countries tbody th").all_inner_texts()
    assert names == sorted(names)
    table = page.locator("#countries")
    table.get_by_role("link", name="Innovations", exact=True).click()
    counts = [int(n) for n in page.locator("#countries tbody td").all_inner_texts()]
    assert counts == sorted(counts, reverse=True)
    expect(page.locator('#countries th[aria-sort="descending"]')).to_have_text("Innovations")
    table.get_by_role("link", name="Country", exact=True).click()
    assert page.locator("#countries tbody th").all_inner_texts() == names
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("language", ["", "/pt"])
@pytest.mark.parametrize("path", ["/innovations/map/", "/innovations/stats/?level=local"])
def test_the_map_and_statistics_pages_pass_axe_in_both_languages(site, world, language, path):
    site.goto(site.url_for(f"{language}{path}"))
    if "map" in path:
        expect(site.locator("path.map-country-shaded").first).to_be_attached()
        expect(site.locator("#catalogue-map")).not_to_have_attribute("aria-busy", "true")
    violations = axe.violations(site)
    assert violations == [], json.dumps(violations, indent=1)


def focused(page):
    """Where the focus is: in the map (a bubble, a popup, the map itself) or lost to body."""
    return page.evaluate(
        """() => {
            const active = document.activeElement;
            const map = document.getElementById("catalogue-map");
            return {lost: active === document.body, inMap: map.contains(active),
                    bubble: active.matches(".map-bubble, .map-point"),
                    count: Number(active.dataset.count || 0), text: active.textContent.trim()};
        }"""
    )


def tab_to_bubble(page, wanted):
    """Tab from the map to the first bubble whose count `wanted` accepts."""
    page.locator("#catalogue-map").focus()
    seen = []
    for _press in range(80):
        page.keyboard.press("Tab")
        now = focused(page)
        assert not now["lost"] and now["inMap"], now  # moving to a bubble may redraw the map
        if now["bubble"] and wanted(now["count"]):
            return now
        seen.append(now["count"])
    raise AssertionError(f"no such bubble in {seen}")


@pytest.mark.browser
def test_enter_on_a_small_bubble_takes_the_focus_into_its_cases_and_escape_brings_it_back(
    site, world
):
    site.goto(site.url_for("/innovations/map/?lat=40&lng=0&zoom=6"))
    expect(site.locator(".map-bubble").first).to_be_visible()
    bubble = tab_to_bubble(site, lambda count: 1 < count <= POPUP_CASES)
    site.keyboard.press("Enter")
    popup = site.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(f"{bubble['count']} innovations here")
    expect(popup).to_be_focused()
    site.keyboard.press("Tab")
    now = focused(site)
    assert now["inMap"] and not now["lost"]
    expect(popup.locator("li a").first).to_be_focused()
    site.keyboard.press("Escape")
    expect(popup).to_have_count(0)
    now = focused(site)
    assert now["bubble"] and now["count"] == bubble["count"], now
    assert axe.violations(site) == []


@pytest.mark.browser
def test_zooming_in_on_a_large_bubble_from_the_keyboard_keeps_the_focus_on_the_map(site, world):
    site.goto(site.url_for("/innovations/map/?lat=20&lng=0&zoom=1"))
    big = site.locator(".map-bubble").filter(has_not_text=re.compile(r"^\d$|^1\d$|^20$"))
    expect(big.first).to_be_visible()
    big.first.focus()
    bubble = focused(site)
    site.keyboard.press("Enter")
    expect(site.locator(".leaflet-popup-content")).to_be_focused()
    site.keyboard.press("Tab")
    show = site.get_by_role("link", name=f"Show these {bubble['count']} innovations in the list")
    expect(show).to_be_focused()
    site.keyboard.press("Tab")
    expect(site.get_by_role("button", name="Zoom in here")).to_be_focused()
    site.keyboard.press("Enter")
    expect(site).to_have_url(re.compile(r"zoom=5"))
    expect(site.locator("#catalogue-map")).not_to_have_attribute("aria-busy", "true")
    now = focused(site)
    assert now["bubble"] and now["inMap"] and not now["lost"], now
    site.keyboard.press("Tab")
    now = focused(site)
    assert now["inMap"] and not now["lost"], now


@pytest.mark.browser
@pytest.mark.parametrize("language", ["", "/pt"])
def test_only_the_summary_is_live_on_the_map_page_and_it_follows_the_filters(site, world, language):
    site.goto(site.url_for(f"{language}/innovations/map/"))
    live = """() => Array.from(document.querySelectorAll(
        '[aria-live]:not([aria-live="off"]), [role=status], [role=alert], [role=log]'))
        .map(e => e.id)"""
    assert site.evaluate(live) == ["result-summary"]
    summary = site.locator("#result-summary")
    expect(summary).to_have_text(f"{CASES} {'inovações' if language else 'innovations'}")
    if site.locator("#filter-toggle").is_visible():
        site.locator("#filter-toggle").click()
    site.locator("#level-local").check()
    local = CASES // 2
    expect(summary).to_have_text(
        f"{local} innovations, filtered by Level of government: Local"
        if not language
        else f"{local} inovações, filtradas por Nível de governo: Local"
    )
    assert site.evaluate(live) == ["result-summary"]
    assert axe.violations(site) == []
