"""A phone, a keyboard and a screen reader: what a visitor using them sees and hears.

Each test runs in Chromium at a desktop size (1280 × 800) or a phone's (390 × 844);
axe-core (tests/axe/axe.min.js, checked in so that the tests run offline) checks WCAG
2.1 A and AA on every public page in both languages and on the editors' admin pages.
"""

import os
import re
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.utils import translation
from playwright.sync_api import expect

from innovations.models import Innovation

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "axe" / "axe.min.js").read_text()
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


@pytest.fixture
def site(page, live_server):
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
        slug="porto", title="Porto card", country="PT", level="regional", tags=["open-data"]
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


def axe_violations(page):
    """axe-core's WCAG 2.1 A and AA violations on the page as it is: [(rule, [targets])]."""
    page.add_script_tag(content=AXE)
    found = page.evaluate(
        """() => axe.run(document, {runOnly: {type: "tag",
              values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
            .then(r => r.violations.map(v => [v.id, v.nodes.map(n => n.target.join(" "))]))"""
    )
    return [(rule, targets) for rule, targets in found]


def first_result(page):
    return page.locator(".card h3 a").first


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
    site.locator("#level-local").check()
    summary = "2 innovations, filtered by Level of government: Local"
    expect(site.locator("#result-summary")).to_have_text(summary)
    assert live_regions(site) == ["result-summary"]
    site.locator("#country-pt").check()
    expect(site.locator("#result-summary")).to_have_text(
        "1 innovation, filtered by Country: Portugal; Level of government: Local"
    )


def test_the_title_follows_the_search_the_filters_and_the_page(site, many):
    site.goto(site.url_for("/innovations/"))
    expect(site).to_have_title("24 innovations. Page 1 of 2 · Innovation Catalogue")
    site.locator("#level-local").check()
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


def test_the_skip_link_is_the_first_thing_and_shows_when_focused(site, cases):
    site.goto(site.url_for("/innovations/"))
    site.keyboard.press("Tab")
    link = site.get_by_role("link", name="Skip to results")
    expect(link).to_be_focused()
    expect(link).to_be_in_viewport()


def test_changing_the_sort_keeps_the_focus_on_it(site, cases):
    site.goto(site.url_for("/innovations/"))
    site.locator("#sort").focus()
    site.keyboard.press("ArrowDown")  # Chromium changes a closed select with the arrows
    expect(site).to_have_url(re.compile(r"sort=added"))
    expect(site.locator("#sort")).to_be_focused()
    expect(site.locator("#sort")).to_have_value("added")


def test_ticking_a_filter_keeps_the_focus_on_it(site, cases):
    site.goto(site.url_for("/innovations/"))
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


def test_the_focus_outline_stands_out_on_every_background(site, many):
    site.goto(site.url_for("/innovations/?level=local"))
    seen = 0
    for _press in range(60):
        site.keyboard.press("Tab")
        element = site.locator(":focus")
        if not element.count() or site.evaluate("document.activeElement === document.body"):
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
