"""The case file editors import and export: one CSV row per case, UTF-8, a header row.

Columns are the case's fields by name. The country is its ISO code; sectors, stages,
recognitions and tags are slugs separated by `|` (`;` is read too); `year`,
`latitude` and `longitude` are empty when unknown; `is_synthetic` is true or false.
Export writes exactly what import reads, so a file exported and imported again
changes nothing.

A spreadsheet runs a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage
return as a formula. Export writes such a text with an apostrophe before it (the
spreadsheets' mark for "this is text"), and import takes the apostrophe off again;
a text that itself begins with an apostrophe and one of those gets one more.
Plain numbers (a negative longitude) are written as they are.

Lines end with a line feed, as PostgreSQL's COPY writes them: the catalogue's public
export has PostgreSQL write the same cells (`cell_sql`), and both files read alike.
"""

import csv
import operator
import re

from django.db import models

from .forms import CaseImportForm
from .models import TERM_FIELDS

COLUMNS = CaseImportForm.Meta.fields
SEPARATOR = "|"
FORMULA_STARTS = frozenset("=+-@\t\r")
TEXT_MARK = "'"
# The first characters of the cells that may need marking.
RISKY = FORMULA_STARTS | {TEXT_MARK}
FIRST_CHARACTER = operator.itemgetter(slice(1))
# A plain number, in the syntax Python's and PostgreSQL's regular expressions share: a
# text that is one is written as it is, sign and all.
NUMBER = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
LINE_END = "\n"


def neutralise(value):
    """The cell a spreadsheet shows as text, never runs as a formula."""
    quoted = value[:1] == TEXT_MARK and value[1:2] in RISKY
    if (value[:1] in FORMULA_STARTS and not re.fullmatch(NUMBER, value)) or quoted:
        return TEXT_MARK + value
    return value


def restore(value):
    """The text a neutralised cell stands for."""
    if value[:1] == TEXT_MARK and value[1:2] in RISKY:
        return value[1:]
    return value


def marked(cells):
    """A row's cells as written: each one a spreadsheet could run, marked as text. Most
    rows have none that begins with one of the RISKY characters, and are found so
    without a step of Python per cell."""
    if RISKY.isdisjoint(map(FIRST_CHARACTER, cells)):
        return cells
    return [neutralise(cell) if cell[:1] in RISKY else cell for cell in cells]


def text(value):
    """A value of a case as its cell holds it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# What `cell_sql` needs, as one row `marks(formula, number, mark, risky)` to put in scope.
MARKS_SQL = "SELECT %s::text[], %s::text, %s::text, %s::text[]"
MARKS = [sorted(FORMULA_STARTS), f"^({NUMBER})$", TEXT_MARK, sorted(RISKY)]


def cell_sql(field, value):
    """The SQL for the cell `text()` (and `marked()`, for a text) makes of a field's
    `value`, an SQL expression: for PostgreSQL to write the file. A term field's value is
    its slugs, joined. Needs `marks` (MARKS_SQL, with MARKS) in scope."""
    if isinstance(field, models.BooleanField):
        return f"CASE WHEN {value} THEN 'true' ELSE 'false' END"
    if isinstance(field, models.FloatField):  # as Python writes a float: 12.0, not 12
        return rf"regexp_replace({value}::text, '^(-?[0-9]+)$', '\1.0')"
    if isinstance(field, models.IntegerField):
        return f"{value}::text"
    return (
        f"nullif(CASE WHEN (left({value}, 1) = ANY(marks.formula) AND {value} !~ marks.number)"
        f" OR (left({value}, 1) = marks.mark AND substr({value}, 2, 1) = ANY(marks.risky))"
        f" THEN marks.mark || {value} ELSE {value} END, '')"
    )


def header():
    """The header row."""
    return ",".join(COLUMNS) + LINE_END


def _cell(innovation, name):
    value = getattr(innovation, name if name != "country" else "country_id")
    if name in TERM_FIELDS:
        return SEPARATOR.join(term.slug for term in value.all())
    return text(value)


def write(innovations, file):
    """Write the cases, with a header row, to an open text file."""
    file.write(header())
    writer = csv.writer(file, lineterminator=LINE_END)
    writer.writerows(marked([_cell(case, name) for name in COLUMNS]) for case in innovations)


def read(file):
    """Yield (line number, row) for each case in an open text file.

    The line number is where the row starts (the header is line 1), so that a row
    whose text spans several lines is still reported where an editor finds it.
    Raises ValueError if the header is not the case file's.
    """
    reader = csv.DictReader(file)
    header = reader.fieldnames or []
    missing = [name for name in COLUMNS if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    if missing or unknown:
        raise ValueError(
            "The header row does not match the case file's columns."
            + (f" Missing: {', '.join(missing)}." if missing else "")
            + (f" Unknown: {', '.join(unknown)}." if unknown else "")
        )
    start = reader.line_num + 1
    for row in reader:
        yield (
            start,
            {
                name: restore(value) if isinstance(value, str) else value
                for name, value in row.items()
            },
        )
        start = reader.line_num + 1
