"""Statistics of a filtered view: its facet counts drawn as SVG bar charts.

Every number is a facet count (`facets.facet_counts`) for the same filters, so a chart
always agrees with the filter panel beside it: each facet is counted under every filter
but its own, and a bar is exactly what ticking that option would give. The charts are
drawn on the server, so they work without JavaScript and print as they are shown.
"""

from django.utils.translation import gettext_lazy as _

TOP = 10  # bars in the charts of tags and countries, the largest first

# name, title, how many bars (None: every option)
CHARTS = (
    ("year", _("Innovations by year of launch"), None),
    ("stage", _("Innovations by stage of innovation"), None),
    ("level", _("Innovations by level of government"), None),
    ("sector", _("Innovations by sector"), None),
    ("tag", _("Top tags"), TOP),
    ("country", _("Top countries"), TOP),
)

# Drawing sizes, in the units of each chart's viewBox.
WIDTH = 480
LABEL_WIDTH = 180  # horizontal bars: the labels' column
COUNT_WIDTH = 44  # horizontal bars: room for the count after the longest bar
ROW = 26
BAR = 18
LABEL_CHARS = 26
COLUMNS_HEIGHT = 160  # vertical bars (years): the bars' area
AXIS = 24


def bars(name, options, limit):
    """The options a chart draws, in the order it draws them."""
    if name == "year":
        return years(options)
    if limit is not None:
        options = sorted(
            (option for option in options if option["count"]),
            key=lambda option: (-option["count"], option["label"]),
        )[:limit]
    return list(options)


def years(options):
    """Every year from the first to the last with cases: a year without any is a zero."""
    counted = {option["value"]: option for option in options if option["count"]}
    if not counted:
        return []
    return [
        counted.get(year, {"value": year, "label": str(year), "count": 0, "selected": False})
        for year in range(min(counted), max(counted) + 1)
    ]


def short(label):
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def horizontal(options):
    """Geometry of a bar chart with a row per option, bars in proportion to the largest."""
    largest = max((option["count"] for option in options), default=0) or 1
    room = WIDTH - LABEL_WIDTH - COUNT_WIDTH
    rows = []
    for n, option in enumerate(options):
        width = round(room * option["count"] / largest, 1)
        rows.append(
            {
                **option,
                "short": short(option["label"]),
                "y": n * ROW,
                "text_y": n * ROW + BAR - 4,
                "width": width,
                "count_x": LABEL_WIDTH + width + 6,
            }
        )
    return {"rows": rows, "height": max(len(rows), 1) * ROW}


def vertical(options):
    """Geometry of a column chart of years, labelled at the first, every fifth and the last."""
    largest = max((option["count"] for option in options), default=0) or 1
    step = (WIDTH - 8) / max(len(options), 1)
    columns = []
    ticks = [n for n, option in enumerate(options) if n == 0 or option["value"] % 5 == 0]
    if options and len(options) - 1 - ticks[-1] >= 3:
        ticks.append(len(options) - 1)  # the last year too, when it has room
    for n, option in enumerate(options):
        height = round(COLUMNS_HEIGHT * option["count"] / largest, 1)
        columns.append(
            {
                **option,
                "x": round(4 + n * step + step * 0.1, 1),
                "width": round(step * 0.8, 1),
                "y": round(COLUMNS_HEIGHT - height, 1),
                "height": height,
                "right": round(4 + n * step + step * 0.9, 1),
                "middle": round(4 + n * step + step / 2, 1),
                "tick": n in ticks,
            }
        )
    return {"rows": columns, "height": COLUMNS_HEIGHT + AXIS, "axis_y": COLUMNS_HEIGHT}


def narrowed(params, name, value):
    """The query string of the same view narrowed to one option of one facet."""
    params = params.copy()
    for key in ("page", "sort"):
        params.pop(key, None)
    if name == "year":
        params["year_from"] = params["year_to"] = str(value)
    else:
        params[name] = str(value)
    return params.urlencode()


def charts(facets, params):
    """The statistics page's charts from the facet counts of one filtered view, each
    option with the query string of the view narrowed to it (`params`: the view's)."""
    result = []
    for name, title, limit in CHARTS:
        options = [
            {**option, "query": narrowed(params, name, option["value"])}
            for option in bars(name, facets[name], limit)
        ]
        drawing = vertical(options) if name == "year" else horizontal(options)
        result.append(
            {
                "name": name,
                "title": title,
                "columns": name == "year",
                "width": WIDTH,
                "label_width": LABEL_WIDTH,
                "empty": not any(option["count"] for option in options),
                **drawing,
            }
        )
    return result
