"""A phone, a keyboard and a screen reader: what a visitor using them sees and hears.

Each test runs in Chromium at a desktop size (1280 × 800) or a phone's (390 × 844);
axe-core (tests/axe/axe.min.js, checked in so that the tests run offline) checks WCAG
2.1 A and AA on every public page in both languages and on the editors' admin pages.
"""

import os
import re
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.template.loader import render_to_string
from django.utils import translation
from playwright.sync_api import expect

from innovations.models import Innovation

from . import axe

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TILE = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4a300"
    "00000049454e44ae426082"
)


def open_page(page, live_server, size):
    """A page at `size` that talks only to the live server and records JavaScript errors
    and every request to the list."""
    page.set_viewport_size(size)
    page.errors = []
    page.list_requests = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))

    def route(request):
        url = request.request.url
        if not url.startswith(live_server.url):
            request.fulfill(status=200, content_type="image/png", body=TILE)
            return
        if "/innovations/?" in url or url.endswith("/innovations/"):
            page.list_requests.append(url)
        request.continue_()

    page.route("**/*", route)
    page.url_for = lambda path: f"{live_server.url}{path}"
    return page


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def site(request, page, live_server):
    """At a desktop's size and at a phone's."""
    yield open_page(page, live_server, request.param)
    assert page.errors == []


@pytest.fixture
def desktop(page, live_server):
    yield open_page(page, live_server, DESKTOP)
    assert page.errors == []


@pytest.fixture
def phone(page, live_server):
    yield open_page(page, live_server, PHONE)
    assert page.errors == []


COUNTRIES = ["PT", "ES", "FR", "BR", "DE", "IT", "NL", "BE", "SE", "FI", "DK", "IE"]


@pytest.fixture
def cases(make_innovation):
    """Five cases in four countries, and a draft."""
    make_innovation(
        slug="lisbon",
        title="Lisbon portal",
        country="PT",
        level="local",
        tags=["open-data"],
        overview="An open data portal.",
        year=2019,
    )
    make_innovation(
        slug="porto",
        title="Porto card",
        country="PT",
        level="regional",
        tags=["open-data"],
        latitude=41.1579,
        longitude=-8.6291,
    )
    make_innovation(slug="madrid", title="Madrid lab", country="ES", level="local")
    make_innovation(slug="paris", title="Paris lab", country="FR", level="national")
    make_innovation(
        slug="brasilia", title="Brasília bot", country="BR", level="national", language="pt"
    )
    make_innovation(slug="draft", country="BR", status=Innovation.Status.DRAFT)


@pytest.fixture
def many(make_innovation):
    """Twenty-four cases in twelve countries: two pages, and a long country facet."""
    for number in range(24):
        make_innovation(
            slug=f"case-in-{number}",
            title=f"Case {number:02d}",
            country=COUNTRIES[number % len(COUNTRIES)],
            level="local" if number % 3 else "national",
        )


def first_result(page):
    return page.locator(".card h3 a").first


def open_filters(page):
    """On a phone, unfold the filters (on a desktop they are always shown)."""
    toggle = page.locator("#filter-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false":
        toggle.click()


def tick(page, selector):
    open_filters(page)
    page.locator(selector).check()


# 1. The search box


def test_typing_after_a_search_keeps_the_text_and_the_caret(site, cases):
    site.goto(site.url_for("/innovations/"))
    box = site.get_by_role("searchbox", name="Search")
    box.click()
    site.keyboard.type("open")
    site.keyboard.press("Enter")
    expect(site).to_have_url(re.compile(r"\?q=open$"))
    expect(site.locator("#result-count")).to_have_text("2 innovations")
    site.keyboard.type(" data")
    expect(box).to_have_value("open data")
    assert box.evaluate("box => [box.selectionStart, box.selectionEnd]") == [9, 9]
    expect(box).to_be_focused()


def test_each_search_sends_one_request(site, cases):
    site.goto(site.url_for("/innovations/"))
    site.list_requests.clear()
    site.get_by_role("searchbox", name="Search").fill("lab")
    site.keyboard.press("Enter")
    expect(site.locator("#result-count")).to_have_text("2 innovations")
    site.get_by_role("searchbox", name="Search").fill("portal")
    site.get_by_role("button", name="Search", exact=True).click()
    expect(site.locator("#result-count")).to_have_text("1 innovation")
    site.wait_for_timeout(300)
    assert [url.split("?")[1] for url in site.list_requests] == ["q=lab", "q=portal"]


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_search_button_is_visible(page, live_server, cases, size):
    site = open_page(page, live_server, size)
    site.goto(site.url_for("/innovations/"))
    expect(site.get_by_role("button", name="Search", exact=True)).to_be_visible()
    expect(site.get_by_role("searchbox", name="Search")).to_be_in_viewport()


# 2. What a screen reader hears, and the keyboard


def live_regions(page):
    return page.evaluate(
        """() => Array.from(document.querySelectorAll(
              '[aria-live]:not([aria-live="off"]), [role=status], [role=alert], [role=log]'))
            .map(e => e.id)"""
    )


def test_only_the_result_summary_is_read_out_when_filters_change(site, cases):
    site.goto(site.url_for("/innovations/"))
    assert live_regions(site) == ["result-summary"]
    tick(site, "#level-local")
    summary = "2 innovations, filtered by Level of government: Local"
    expect(site.locator("#result-summary")).to_have_text(summary)
    assert live_regions(site) == ["result-summary"]
    tick(site, "#country-pt")
    expect(site.locator("#result-summary")).to_have_text(
        "1 innovation, filtered by Country: Portugal; Level of government: Local"
    )


def test_only_the_result_summary_is_read_out_on_the_statistics_page(site, cases):
    site.goto(site.url_for("/innovations/stats/"))
    assert live_regions(site) == ["result-summary"]
    tick(site, "#level-local")
    summary = "2 innovations, filtered by Level of government: Local"
    expect(site.locator("#result-summary")).to_have_text(summary)
    assert live_regions(site) == ["result-summary"]


def test_the_title_follows_the_search_the_filters_and_the_page(site, many):
    site.goto(site.url_for("/innovations/"))
    expect(site).to_have_title("24 innovations. Page 1 of 2 · Innovation Catalogue")
    tick(site, "#level-local")
    expect(site).to_have_title(
        "16 innovations, filtered by Level of government: Local · Innovation Catalogue"
    )
    site.get_by_role("searchbox", name="Search").fill("case")
    site.keyboard.press("Enter")
    expect(site).to_have_title(
        "16 innovations, filtered by Search: case; Level of government: Local"
        " · Innovation Catalogue"
    )
    site.goto(site.url_for("/innovations/?page=2"))
    expect(site).to_have_title("24 innovations. Page 2 of 2 · Innovation Catalogue")


def tabs_to(page, target, most=300):
    """How many presses of Tab from the top of the page reach `target`; Enter is pressed
    on a skip link reached on the way."""
    presses = 0
    while presses < most:
        page.keyboard.press("Tab")
        presses += 1
        if target.evaluate("element => element === document.activeElement"):
            return presses
        if page.evaluate("document.activeElement.classList.contains('skip-link')"):
            page.keyboard.press("Enter")
            page.wait_for_function("!document.activeElement.classList.contains('skip-link')")
    return None


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_first_result_is_two_tabs_from_the_top(page, live_server, many, size):
    site = open_page(page, live_server, size)
    site.goto(site.url_for("/innovations/?" + "&".join(f"country={c}" for c in COUNTRIES)))
    assert tabs_to(site, first_result(site)) == 2


def focus_path(page, target, most=60):
    """What Tab alone (no Enter on the skip link) focuses from the top, up to `target`."""
    path = []
    for _press in range(most):
        page.keyboard.press("Tab")
        path.append(
            page.evaluate(
                """() => { const e = document.activeElement;
                    return e.id || e.getAttribute("aria-label") || e.textContent.trim(); }"""
            )
        )
        if target.evaluate("element => element === document.activeElement"):
            return path
    return path


@pytest.fixture
def many_countries(make_innovation):
    """Forty cases in forty countries: a long country facet."""
    from innovations.models import Country

    for number, country in enumerate(Country.objects.order_by("code")[:40]):
        make_innovation(slug=f"case-{number}", title=f"Case {number:02d}", country=country.code)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("", ["Skip to results", "menu-toggle", "q", "Search"]),
        ("/pt", ["Saltar para os resultados", "menu-toggle", "q", "Pesquisa"]),
    ],
)
@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_first_result_is_five_tabs_from_the_top_without_the_skip_link(
    page, live_server, many_countries, size, language, words
):
    site = open_page(page, live_server, size)
    site.goto(site.url_for(f"{language}/innovations/"))
    expect(site.locator("#facet-country li[data-count]")).to_have_count(40)
    path = focus_path(site, first_result(site))
    # The skip link, the header's menu, the search box and its button, the first result.
    assert path == [*words, first_result(site).inner_text()]
    assert len(path) <= 5
    assert axe.violations(site) == []


def test_after_the_results_the_focus_reaches_the_views_the_sort_and_the_filters(desktop, many):
    desktop.goto(desktop.url_for("/innovations/"))
    path = focus_path(desktop, desktop.locator("#level-local"), most=80)
    cases = [step for step in path if step.startswith("Case ")]
    after = path[path.index(cases[-1]) :]
    # The rest of the results, then the pages, the downloads, the views, the sort, the filters.
    assert len(cases) == 20
    assert after.index("Next") < after.index("CSV") < after.index("Map") < after.index("sort")
    assert path[-1] == "level-local"


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_folded_header_opens_with_the_keyboard(page, live_server, cases, size):
    site = open_page(page, live_server, size)
    site.goto(site.url_for("/innovations/"))
    menu = site.get_by_role("button", name="Menu")
    expect(language_link(site, "Português")).to_be_hidden()
    menu.focus()
    site.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    site.keyboard.press("Tab")
    expect(site.get_by_role("link", name="Home")).to_be_focused()
    assert axe.violations(site) == []
    language_link(site, "Português").focus()
    site.keyboard.press("Escape")
    expect(menu).to_be_focused()
    expect(language_link(site, "Português")).to_be_hidden()


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_filter_button_stays_in_sight_while_the_results_scroll(page, live_server, many, size):
    site = open_page(page, live_server, size)
    site.goto(site.url_for("/innovations/"))
    toggle = site.locator("#filter-toggle")
    if size is DESKTOP:
        expect(toggle).to_be_hidden()
        expect(site.locator("#facet-level")).to_be_in_viewport()
        return
    expect(toggle).to_be_in_viewport()
    site.locator(".card").nth(10).scroll_into_view_if_needed()
    expect(toggle).to_be_in_viewport()
    toggle.click()
    expect(site.locator("#sort")).to_be_in_viewport()


def test_the_skip_link_is_the_first_thing_and_shows_when_focused(site, cases):
    site.goto(site.url_for("/innovations/"))
    site.keyboard.press("Tab")
    link = site.get_by_role("link", name="Skip to results")
    expect(link).to_be_focused()
    expect(link).to_be_in_viewport()


def test_changing_the_sort_keeps_the_focus_on_it(site, cases):
    site.goto(site.url_for("/innovations/"))
    open_filters(site)  # on a phone, the sort is with the filters
    site.locator("#sort").focus()
    site.keyboard.press("ArrowDown")  # Chromium changes a closed select with the arrows
    expect(site).to_have_url(re.compile(r"sort=added"))
    expect(site.locator("#sort")).to_be_focused()
    expect(site.locator("#sort")).to_have_value("added")


def test_ticking_a_filter_keeps_the_focus_on_it(site, cases):
    site.goto(site.url_for("/innovations/"))
    open_filters(site)
    site.locator("#level-local").focus()
    site.keyboard.press("Space")
    expect(site.locator("#result-count")).to_have_text("2 innovations")
    expect(site.locator("#level-local")).to_be_focused()


def contrast(first, second):
    def luminance(rgb):
        def channel(value):
            value /= 255
            return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

        red, green, blue = (channel(v) for v in rgb)
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    light, dark = sorted([luminance(first), luminance(second)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


FOCUS_COLOURS = """element => {
  const rgb = text => text.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const style = getComputedStyle(element);
  let node = element.parentElement, behind = "rgb(255, 255, 255)";
  while (node) {
    const background = getComputedStyle(node).backgroundColor;
    if (!/rgba\\(0, 0, 0, 0\\)|transparent/.test(background)) { behind = background; break; }
    node = node.parentElement;
  }
  const halo = style.boxShadow.match(/rgb\\([^)]*\\)/);
  return {outline: rgb(style.outlineColor), width: parseFloat(style.outlineWidth),
          style: style.outlineStyle, behind: rgb(behind), halo: halo && rgb(halo[0])};
}"""


def test_the_focus_outline_stands_out_on_every_background(desktop, many):
    desktop.goto(desktop.url_for("/innovations/?level=local"))
    seen = 0
    for _press in range(60):
        desktop.keyboard.press("Tab")
        element = desktop.locator(":focus")
        if not element.count() or desktop.evaluate("document.activeElement === document.body"):
            continue
        colours = element.evaluate(FOCUS_COLOURS)
        assert colours["style"] != "none" and colours["width"] >= 2
        # The ring or its halo stands out against what is behind it.
        best = max(
            contrast(colours["outline"], colours["behind"]),
            contrast(colours["halo"], colours["behind"]) if colours["halo"] else 0,
        )
        assert best >= 3, (element.evaluate("e => e.outerHTML.slice(0, 80)"), colours)
        seen += 1
    assert seen > 40


# 3. A phone


def test_on_a_phone_the_results_come_first_and_the_filters_fold_away(phone, many):
    phone.goto(phone.url_for("/innovations/"))
    toggle = phone.get_by_role("button", name="Filter (0)")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(phone.locator("#facet-country")).to_be_hidden()
    expect(phone.locator("#result-count")).to_be_in_viewport()
    top = first_result(phone).bounding_box()["y"]
    assert top < PHONE["height"], top

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    phone.locator("#level-local").check()
    expect(phone).to_have_url(re.compile(r"level=local"))
    expect(phone.get_by_role("button", name="Filter (1)")).to_be_visible()
    show = phone.get_by_role("button", name="Show 16 innovations")
    expect(show).to_be_in_viewport()
    show.click()
    expect(phone.locator("#facet-country")).to_be_hidden()
    expect(phone.locator("#result-items")).to_be_focused()
    expect(phone.locator("#result-count")).to_have_text("16 innovations")
    expect(phone.locator(".chips")).to_contain_text("Level of government: Local")
    expect(phone.locator(".chips")).to_be_in_viewport()


def test_on_a_desktop_the_filters_are_shown_beside_the_results(desktop, many):
    desktop.goto(desktop.url_for("/innovations/"))
    expect(desktop.locator("#filter-toggle")).to_be_hidden()
    expect(desktop.locator("#facet-country")).to_be_visible()
    assert first_result(desktop).bounding_box()["y"] < DESKTOP["height"]


def test_a_long_facet_shows_its_top_options_and_finds_the_others(desktop, make_innovation):
    for number, code in enumerate(COUNTRIES):
        for _copy in range(number + 1):
            make_innovation(country=code)
    desktop.goto(desktop.url_for("/innovations/"))
    options = desktop.locator("#facet-country li[data-count]")
    expect(options.filter(visible=True)).to_have_count(8)
    expect(desktop.locator("#country-ie")).to_be_visible()  # 12 cases, the most
    expect(desktop.locator("#country-pt")).to_be_hidden()  # 1 case, the fewest
    show_all = desktop.get_by_role("button", name="Show all 12")
    show_all.click()
    expect(options.filter(visible=True)).to_have_count(12)
    desktop.get_by_role("button", name="Show fewer").click()
    expect(options.filter(visible=True)).to_have_count(8)

    desktop.get_by_role("searchbox", name="Find an option in Country").fill("port")
    expect(options.filter(visible=True)).to_have_count(1)
    desktop.locator("#country-pt").check()
    expect(desktop.locator("#result-count")).to_have_text("1 innovation")
    # The facet was redrawn with the counts; what was typed to find an option stays.
    expect(desktop.get_by_role("searchbox", name="Find an option in Country")).to_have_value("port")
    expect(desktop.locator("#country-pt")).to_be_checked()
    expect(desktop.locator("#country-pt")).to_be_focused()


def test_options_that_would_give_nothing_are_not_offered(site, cases):
    site.goto(site.url_for("/innovations/"))
    expect(site.locator("#facet-recognition")).to_contain_text("No options for these filters")
    expect(site.locator("#facet-recognition input")).to_have_count(0)
    counts = site.locator("#filters li[data-count]").evaluate_all(
        "items => items.map(item => Number(item.dataset.count))"
    )
    assert counts and min(counts) > 0


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_checkboxes_and_links_are_big_enough_to_hit(page, live_server, many, size):
    site = open_page(page, live_server, size)
    site.goto(site.url_for("/innovations/?level=local&country=PT,ES"))
    if size is PHONE:
        site.get_by_role("button", name=re.compile(r"Filter")).click()
    targets = site.locator(
        "#filters input[type=checkbox], .chips a, .pagination a, .view-as a, "
        ".site-header a, #filters button, #filters select, .sort select"
    )
    small = [
        (box["width"], box["height"], html)
        for box, html in (
            (target.bounding_box(), target.evaluate("e => e.outerHTML.slice(0, 70)"))
            for target in targets.filter(visible=True).all()
        )
        if box["width"] < 24 or box["height"] < 24
    ]
    assert targets.filter(visible=True).count() > 20
    assert small == []


# 4. Empty results


def test_a_search_that_finds_nothing_says_so_without_an_empty_did_you_mean(site, cases):
    site.goto(site.url_for("/innovations/?q=zzzzqqqq"))
    expect(site.locator("#result-count")).to_have_text("0 innovations")
    expect(site.locator("#results")).to_contain_text("Nothing matches “zzzzqqqq”.")
    expect(site.locator("#results")).not_to_contain_text("Did you mean")


def test_a_near_miss_offers_what_it_may_have_meant(site, cases):
    site.goto(site.url_for("/innovations/?q=lisbn"))
    expect(site.locator(".notices")).to_contain_text("Did you mean one of these?")
    expect(site.locator(".card")).to_have_count(1)


def test_filters_that_empty_the_list_offer_to_remove_the_one_that_did(site, cases):
    site.goto(site.url_for("/innovations/?country=PT&level=national"))
    expect(site.locator("#result-count")).to_have_text("0 innovations")
    expect(site.locator(".empty")).to_contain_text("No innovations match these filters.")
    ways = site.locator(".ways-out li")
    expect(ways).to_have_text(
        [
            "Remove Country: Portugal (2 innovations)",
            "Remove Level of government: National/federal (2 innovations)",
        ]
    )
    ways.last.get_by_role("link").click()
    expect(site.locator("#result-count")).to_have_text("2 innovations")
    expect(site).to_have_url(re.compile(r"/innovations/\?country=PT$"))


# 5. The language links


def language_link(page, name):
    return page.get_by_role("navigation", name=re.compile("Language|Idioma")).get_by_role(
        "link", name=name
    )


def open_menu(page):
    """On the list, unfold the header's links."""
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    if menu.get_attribute("aria-expanded") == "false":
        menu.click()


def test_the_language_links_keep_the_filters_after_live_filtering(site, cases):
    site.goto(site.url_for("/innovations/?country=PT"))
    open_menu(site)
    tick(site, "#level-local")
    expect(site).to_have_url(re.compile(r"country=PT&level=local"))
    expect(language_link(site, "Português")).to_have_attribute(
        "href", "/pt/innovations/?country=PT&level=local"
    )
    site.go_back()
    expect(site.locator("#result-count")).to_have_text("2 innovations")
    expect(language_link(site, "Português")).to_have_attribute(
        "href", "/pt/innovations/?country=PT"
    )
    language_link(site, "Português").click()
    expect(site).to_have_url(re.compile(r"/pt/innovations/\?country=PT$"))
    open_menu(site)
    expect(language_link(site, "English")).to_have_attribute("href", "/innovations/?country=PT")


def test_the_language_links_keep_the_map_where_it_is(desktop, cases):
    desktop.goto(desktop.url_for("/innovations/map/?country=PT&lat=41&lng=-8.6&zoom=9"))
    expect(desktop.locator(".map-point")).to_have_count(1)
    desktop.locator(".leaflet-control-zoom-out").click()
    expect(desktop).to_have_url(re.compile(r"zoom=8"))
    # Whether or not the map says it moved, the link follows the address when used.
    desktop.evaluate("document.dispatchEvent(new CustomEvent('map:moved'))")
    expect(language_link(desktop, "Português")).to_have_attribute(
        "href", re.compile(r"^/pt/innovations/map/\?country=PT&.*zoom=8")
    )
    language_link(desktop, "Português").click()
    expect(desktop).to_have_url(re.compile(r"/pt/innovations/map/\?country=PT&.*zoom=8"))


# 6. A case's page


def test_a_case_leads_back_to_its_results_and_on_to_the_next_one(site, cases):
    site.goto(site.url_for("/innovations/?country=PT,ES&sort=title"))
    expect(site.locator(".card h3")).to_have_text(["Lisbon portal", "Madrid lab", "Porto card"])
    site.get_by_role("link", name="Madrid lab").click()
    expect(site.locator("h1")).to_have_text("Madrid lab")
    trail = site.get_by_role("navigation", name="Results")
    expect(trail).to_contain_text("Case 2 of 3")
    trail.get_by_role("link", name=re.compile("^Next")).click()
    expect(site.locator("h1")).to_have_text("Porto card")
    expect(trail.get_by_role("link", name=re.compile("^Next"))).to_have_count(0)
    trail.get_by_role("link", name=re.compile("^Previous")).click()
    trail.get_by_role("link", name=re.compile("^Previous")).click()
    expect(site.locator("h1")).to_have_text("Lisbon portal")
    trail.get_by_role("link", name="Back to results").click()
    expect(site).to_have_url(re.compile(r"/innovations/\?country=PT%2CES&sort=title$"))
    expect(site.locator(".card")).to_have_count(3)


def test_the_next_page_shows_its_results_first_and_focuses_them(site, many):
    site.goto(site.url_for("/innovations/?sort=title"))
    site.get_by_role("navigation", name="Pages").get_by_role("link", name="Next").click()
    expect(site).to_have_url(re.compile(r"\?sort=title&page=2$"))
    expect(first_result(site)).to_have_text("Case 20")
    expect(site.locator("#result-items")).to_be_focused()
    expect(site.locator("#result-count")).to_be_in_viewport()
    expect(first_result(site)).to_be_in_viewport()
    site.keyboard.press("Tab")
    expect(first_result(site)).to_be_focused()
    expect(site).to_have_title("24 innovations. Page 2 of 2 · Innovation Catalogue")


def test_removing_a_chip_keeps_the_focus_in_the_results(site, cases):
    site.goto(site.url_for("/innovations/?country=PT&level=local"))
    site.get_by_role("link", name="Remove filter Country: Portugal").click()
    expect(site).to_have_url(re.compile(r"\?level=local$"))
    expect(site.locator("#result-count")).to_have_text("2 innovations")
    expect(site.locator("#result-items")).to_be_focused()


def test_back_to_results_returns_to_the_page_that_held_the_case(site, many):
    site.goto(site.url_for("/innovations/?sort=title&page=2"))
    site.get_by_role("link", name="Case 21").click()
    site.get_by_role("link", name="Back to results").click()
    expect(site).to_have_url(re.compile(r"\?sort=title&page=2$"))
    expect(site.locator(".pagination [aria-current=page]")).to_have_text("2")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_short_case_has_no_empty_column(page, live_server, cases, size):
    site = open_page(page, live_server, size)
    site.goto(site.url_for("/innovations/madrid/"))
    expect(site.locator(".case-sections")).to_have_count(0)
    facts = site.locator(".case-facts").bounding_box()
    assert facts["x"] < 60


def test_tags_link_to_the_list_and_related_cases_are_shown(site, cases):
    site.goto(site.url_for("/innovations/lisbon/"))
    related = site.get_by_role("region", name="Related cases")
    # Porto shares a tag, a sector and the country; the others only the sector.
    expect(related.get_by_role("link")).to_have_text(
        ["Porto card", "Brasília bot", "Paris lab", "Madrid lab"]
    )
    site.locator(".case-facts .tags").get_by_role("link", name="Open data").click()
    expect(site).to_have_url(re.compile(r"/innovations/\?tag=open-data$"))
    expect(site.locator(".card")).to_have_count(2)


# axe-core: WCAG 2.1 A and AA

PUBLIC_PAGES = [
    "/",
    "/about/",
    "/innovations/",
    "/innovations/?country=PT&q=portal",
    "/innovations/?q=zzzzqqqq",
    "/innovations/?country=PT&level=national",
    "/innovations/lisbon/",
    "/innovations/madrid/?country=ES",
    "/innovations/map/",
    "/innovations/submit/",
    "/innovations/submit/thanks/",
    "/innovations/no-such-case/",
]


@pytest.mark.parametrize("language", ["", "/pt"])
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_have_no_axe_violations(site, cases, language, path):
    response = site.goto(site.url_for(language + path))
    assert response.status == (404 if "no-such" in path else 200)
    site.errors[:] = [e for e in site.errors if "404" not in e or "no-such" not in path]
    assert axe.violations(site) == []


@pytest.mark.parametrize("language", ["", "/pt"])
def test_the_list_on_a_phone_has_no_axe_violations_with_its_filters_open(phone, many, language):
    phone.goto(phone.url_for(f"{language}/innovations/?level=local"))
    assert axe.violations(phone) == []
    phone.locator("#filter-toggle").click()
    assert axe.violations(phone) == []


@pytest.mark.parametrize("language", ["en", "pt"])
def test_the_error_page_has_no_axe_violations(desktop, live_server, language):
    with translation.override(language):
        html = render_to_string("500.html")
    desktop.goto(desktop.url_for("/about/"))  # the same origin, for the stylesheet
    desktop.set_content(html)
    expect(desktop.locator("h1")).to_have_text(
        {"en": "Something went wrong", "pt": "Algo correu mal"}[language]
    )
    assert axe.violations(desktop) == []


@pytest.fixture
def signed_in(desktop, transactional_db, make_submission):
    """An editor signed in to the admin; the Editors group comes from a migration, so it
    is made again after the live server's flush."""
    import_module("innovations.migrations.0002_editors_group").create_editors_group(apps, None)
    user = User.objects.create_user("editor", password="a-long-passphrase", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    make_submission(slug="waiting", title="A case awaiting review")
    desktop.goto(desktop.url_for("/admin/login/"))
    desktop.fill("#id_username", "editor")
    desktop.fill("#id_password", "a-long-passphrase")
    desktop.get_by_role("button", name="Log in").click()
    expect(desktop.locator("#user-tools")).to_be_visible()
    return desktop


def test_the_admin_pages_have_no_axe_violations(signed_in, cases):
    site = signed_in
    lisbon = Innovation.objects.get(slug="lisbon")
    pages = {
        "list": "/admin/innovations/innovation/",
        "review queue": "/admin/innovations/innovation/?status__exact=submitted",
        "change": f"/admin/innovations/innovation/{lisbon.pk}/change/",
        "add": "/admin/innovations/innovation/add/",
        "home": "/admin/",
    }
    found = {}
    for name, path in pages.items():
        assert site.goto(site.url_for(path)).status == 200
        found[name] = axe.violations(site)
    assert found == dict.fromkeys(pages, [])
