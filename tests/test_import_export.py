"""Editors move cases in and out as CSV: checked row by row, all or nothing, exact."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from innovations import csvfile
from innovations.models import SECTION_FIELDS, TERM_FIELDS, Innovation, StatusChange, Tag


def export(path="-"):
    out = io.StringIO()
    call_command("export_cases", str(path), stdout=out)
    return out.getvalue()


def import_file(path):
    out = io.StringIO()
    call_command("import_cases", str(path), stdout=out)
    return out.getvalue().strip()


def write(tmp_path, text, name="cases.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


@pytest.fixture
def rich_cases(make_innovation):
    """Cases that use every field, in every status, with awkward text."""
    return [
        make_innovation(
            slug="everything",
            title='Quotes "inside", commas, and ünïcode – dashes',
            status="published",
            country="PT",
            level="regional",
            year=2021,
            latitude=41.14961,
            longitude=-8.61099,
            sectors=["health", "education"],
            stages=["implementation", "evaluation"],
            recognitions=["award-winner"],
            tags=["open-data", "transparency", "smart-cities"],
            organisation_name="Porto City Council",
            organisation_type="government",
            website="https://www.porto.pt/",
            source="OPSI",
            source_url="https://oecd-opsi.org/innovations/",
            is_synthetic=True,
            **{name: f"{name}: line one\r\nline two; with | bars" for name in SECTION_FIELDS},
        ),
        make_innovation(slug="bare-draft", status="draft", country="BR", year=None),
        make_innovation(
            slug="waiting", title="Waiting case", status="submitted", sectors=["health"]
        ),
        make_innovation(slug="sent-back", status="returned", country="FR"),
        make_innovation(slug="old", status="archived", latitude=-33.5, longitude=151.25),
    ]


def test_export_writes_a_header_and_one_row_per_case(rich_cases):
    text = export()
    assert text.splitlines()[0].split(",") == list(csvfile.COLUMNS)
    rows = {row["slug"]: row for _line, row in csvfile.read(io.StringIO(text))}
    assert list(rows) == ["bare-draft", "everything", "old", "sent-back", "waiting"]
    everything = rows["everything"]
    assert everything["sectors"] == "education|health"
    assert everything["tags"] == "open-data|smart-cities|transparency"
    assert (everything["latitude"], everything["longitude"]) == ("41.14961", "-8.61099")
    assert (everything["status"], everything["is_synthetic"]) == ("published", "true")


def test_export_then_import_round_trips_exactly(rich_cases, tmp_path):
    path = tmp_path / "cases.csv"
    export(path)
    before = path.read_bytes()
    snapshot = {case.slug: fields_of(case) for case in Innovation.objects.all()}

    Innovation.objects.all().delete()
    assert import_file(path) == "Created 5, updated 0, unchanged 0."

    assert {case.slug: fields_of(case) for case in Innovation.objects.all()} == snapshot
    export(path)
    assert path.read_bytes() == before


def fields_of(case):
    values = {
        field.name: getattr(case, field.attname)
        for field in Innovation._meta.concrete_fields
        if field.name not in {"id", "created", "updated"}
    }
    for name in TERM_FIELDS:
        values[name] = sorted(getattr(case, name).values_list("slug", flat=True))
    return values


def test_importing_the_same_file_twice_changes_nothing(rich_cases, tmp_path):
    path = tmp_path / "cases.csv"
    export(path)
    updated = dict(Innovation.objects.values_list("slug", "updated"))
    assert import_file(path) == "Created 0, updated 0, unchanged 5."
    assert import_file(path) == "Created 0, updated 0, unchanged 5."
    assert dict(Innovation.objects.values_list("slug", "updated")) == updated
    assert not StatusChange.objects.exists()


def test_import_updates_cases_by_slug_and_logs_status_changes(rich_cases, tmp_path):
    text = export().replace("waiting,Waiting case,submitted", "waiting,Renamed case,published")
    assert import_file(write(tmp_path, text)) == "Created 0, updated 1, unchanged 4."
    case = Innovation.objects.get(slug="waiting")
    assert (case.title, case.status) == ("Renamed case", "published")
    [change] = case.status_changes.all()
    assert (change.from_status, change.to_status, change.by) == ("submitted", "published", None)
    # After the header, bare-draft, everything (one line, plus one per section), old, sent-back.
    assert change.note.endswith(f"cases.csv, line {5 + 1 + len(SECTION_FIELDS)}.")


def test_vocabularies_may_be_separated_by_semicolons(seed, tmp_path):
    row = {name: "" for name in csvfile.COLUMNS}
    row.update(
        slug="new-case",
        title="New case",
        status="draft",
        short_explanation="Short.",
        country="PT",
        level="local",
        sectors="health; education",
        tags="open-data|transparency",
        is_synthetic="false",
    )
    assert import_file(write(tmp_path, csv_text([row]))) == "Created 1, updated 0, unchanged 0."
    case = Innovation.objects.get(slug="new-case")
    assert sorted(case.sectors.values_list("slug", flat=True)) == ["education", "health"]
    assert sorted(case.tags.values_list("slug", flat=True)) == ["open-data", "transparency"]
    assert [(c.from_status, c.to_status) for c in case.status_changes.all()] == [("", "draft")]


def csv_text(rows):
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=csvfile.COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_errors_are_reported_by_line_and_nothing_is_imported(rich_cases, tmp_path):
    rows = {r["slug"]: r for _line, r in csvfile.read(io.StringIO(export()))}
    good_change = {**rows["waiting"], "title": "Would be renamed"}
    new_case = {**rows["old"], "slug": "brand-new"}
    bad_year = {**rows["everything"], "year": "1850"}  # spans lines: its sections have \r\n
    bad_terms = {**rows["sent-back"], "tags": "open-data|no-such-tag", "country": "XX"}
    bad_values = {**rows["bare-draft"], "status": "secret", "is_synthetic": "maybe"}
    half_place = {**rows["old"], "slug": "half-place", "longitude": ""}
    repeated = {**rows["waiting"], "title": "Again"}
    text = csv_text([good_change, new_case, bad_year, bad_terms, bad_values, half_place, repeated])
    lines_per_row = 1 + len(SECTION_FIELDS)  # "everything" has one line break per section

    with pytest.raises(CommandError) as error:
        import_file(write(tmp_path, text))
    report = str(error.value).splitlines()
    bad_terms_line = 4 + lines_per_row
    assert report == [
        "line 4: year: Ensure this value is greater than or equal to 1900.",
        f"line {bad_terms_line}: country: Select a valid choice. "
        "That choice is not one of the available choices.",
        f"line {bad_terms_line + 1}: status: Select a valid choice. "
        "secret is not one of the available choices.",
        f"line {bad_terms_line + 1}: is_synthetic: Write true or false.",
        f"line {bad_terms_line + 2}: Constraint “innovation_location_complete” is violated.",
        f"line {bad_terms_line + 3}: slug: “waiting” is also on line 2.",
        "6 errors; nothing was imported.",
    ]
    assert Innovation.objects.get(slug="waiting").title != "Would be renamed"
    assert not Tag.objects.filter(slug="no-such-tag").exists()  # created, then undone
    assert not Innovation.objects.filter(slug__in=["brand-new", "half-place"]).exists()


def test_a_file_with_other_columns_is_refused(seed, tmp_path):
    with pytest.raises(CommandError, match="Missing: status.*Unknown: state"):
        import_file(write(tmp_path, "slug,title,state\nx,y,z\n"))


def test_a_missing_file_is_reported(db, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        import_file(tmp_path / "nowhere.csv")


def test_export_query_count_is_fixed(rich_cases, django_assert_num_queries):
    # The cases with their countries, then one query per vocabulary.
    with django_assert_num_queries(5):
        export()


# Round trips


def test_an_export_imports_into_a_fresh_database_with_a_report(rich_cases, tmp_path):
    from innovations.models import Country, Recognition, Sector, Stage

    before = export()
    path = write(tmp_path, before)
    # A fresh database: nothing but what the migrations make.
    Innovation.objects.all().delete()
    for model in (Sector, Stage, Recognition, Tag, Country):
        model.objects.all()._raw_delete("default")

    report = import_file(path).splitlines()

    assert report[0].startswith("Loaded the list of ") and report[0].endswith(" countries.")
    assert "Created 2 sectors named after their slugs (rename them in the admin): " in report[1]
    assert report[-1] == f"Created {len(rich_cases)}, updated 0, unchanged 0."
    assert export() == before
    assert Tag.objects.get(slug="open-data").name == "Open data"


DANGEROUS = ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tTab", "\rReturn"]
QUOTED = ["'=quoted", "''=twice", "'plain", "-", "-12.5"]


@pytest.mark.parametrize("text", DANGEROUS + QUOTED)
def test_a_cell_a_spreadsheet_would_run_is_marked_as_text_and_read_back(text):
    written = csvfile.neutralise(text)
    marked = text in DANGEROUS or text in ["'=quoted", "''=twice", "-"]
    assert written == (f"'{text}" if marked else text)
    assert csvfile.restore(written) == text


@pytest.mark.parametrize("text", DANGEROUS[:4] + QUOTED)
def test_formulas_survive_an_export_and_import_unchanged(make_innovation, tmp_path, text):
    make_innovation(slug="tricky", title=f"{text} title", organisation_name=text)
    exported = export()
    raw = next(csv.DictReader(io.StringIO(exported)))
    assert raw["organisation_name"] == csvfile.neutralise(text)
    Innovation.objects.all().delete()
    import_file(write(tmp_path, exported))
    assert Innovation.objects.get(slug="tricky").organisation_name == text
    assert export() == exported


def test_numbers_are_written_as_numbers(make_innovation):
    make_innovation(slug="west", latitude=-33.5, longitude=-70.25)
    raw = next(csv.DictReader(io.StringIO(export())))
    assert (raw["latitude"], raw["longitude"]) == ("-33.5", "-70.25")
