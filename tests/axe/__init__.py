"""axe-core (axe.min.js, checked in beside this file with its licence, so that the tests
run offline): the WCAG 2.1 A and AA violations on a page."""

from pathlib import Path

SOURCE = (Path(__file__).parent / "axe.min.js").read_text()


def violations(page):
    """axe-core's WCAG 2.1 A and AA violations on the page as it is: [(rule, [targets])].

    The script is evaluated rather than added as a tag, which the site's content
    security policy refuses."""
    page.evaluate(SOURCE)
    found = page.evaluate(
        """() => axe.run(document, {runOnly: {type: "tag",
              values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
            .then(r => r.violations.map(v => [v.id, v.nodes.map(n => n.target.join(" "))]))"""
    )
    return [(rule, targets) for rule, targets in found]
