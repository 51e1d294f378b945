"""The database keeps the public catalogue's change log and every case's search vector.

Change log. The single version row of 0005, which every write to eleven tables
replaced, made every writer wait for every other and marked drafts, submissions and
logs as changes to the catalogue. It goes. Instead, triggers append a row to
`innovations_catalogue_change` only when what the public can see changes: a case that
is published before or after a write (its fields, its terms, its status), or any
vocabulary or country (their names are listed in the filter panel). Appending takes no
lock that another writer waits for. Each row carries the id of the transaction that
wrote it (`xid`), so a reader can tell, from its snapshot's horizon, which rows may still
appear and which never will (innovations.catalogue.freshness). A statement that changes
more than BULK published cases writes a single row with no case: everything changed.

Search vectors. One SQL function, `innovations_refresh_search(ids)`, writes the search
documents of the given cases from their rows, terms and country; triggers call it
whenever those change, so saves, bulk loads and this migration build vectors in the same
way. The vector is weighted by `innovation_search_document()` (0004).
"""

from django.db import migrations

BULK = 1000
LINKS = {
    "innovations_innovation_sectors": "sector",
    "innovations_innovation_stages": "stage",
    "innovations_innovation_recognitions": "recognition",
    "innovations_innovation_tags": "tag",
}
VOCABULARIES = [
    ("innovations_sector", "id"),
    ("innovations_stage", "id"),
    ("innovations_recognition", "id"),
    ("innovations_tag", "id"),
    ("innovations_country", "code"),
]
# The columns a case's search document is made of.
SEARCHED = (
    "title short_explanation organisation_name country_id overview innovative "
    "status_description collaborations users results challenges conditions replication "
    "lessons anything_else"
).split()
SECTIONS = SEARCHED[4:]
# The cases whose vectors cite a renamed tag, sector or country (in an UPDATE trigger).
RENAMED = (
    "SELECT n.{key} FROM new_rows n JOIN old_rows o ON o.{key} = n.{key} "
    "WHERE n.name IS DISTINCT FROM o.name"
)
NAMED = {
    "innovations_tag": "SELECT innovation_id FROM innovations_innovation_tags "
    f"WHERE tag_id IN ({RENAMED.format(key='id')})",
    "innovations_sector": "SELECT innovation_id FROM innovations_innovation_sectors "
    f"WHERE sector_id IN ({RENAMED.format(key='id')})",
    "innovations_country": "SELECT id FROM innovations_innovation "
    f"WHERE country_id IN ({RENAMED.format(key='code')})",
}

CHANGE_LOG = f"""
CREATE TABLE innovations_catalogue_change (
    id bigserial PRIMARY KEY,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    innovation_id bigint,
    recorded timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX innovations_catalogue_change_xid ON innovations_catalogue_change (xid);
COMMENT ON TABLE innovations_catalogue_change IS
    'Changes to what the public sees; innovation_id NULL means everything may have changed.';

CREATE FUNCTION innovations_record_changes(cases bigint[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO innovations_catalogue_change (innovation_id)
        SELECT DISTINCT c FROM unnest(cases) AS c WHERE cardinality(cases) <= {BULK}
        UNION ALL SELECT NULL WHERE cardinality(cases) > {BULK};
$$;

-- A case the public sees: published before the write or after it.
CREATE FUNCTION innovations_case_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM innovations_record_changes(
        ARRAY(SELECT id FROM new_rows WHERE status = 'published'));
    PERFORM innovations_refresh_search(ARRAY(SELECT id FROM new_rows));
    RETURN NULL;
END $$;
CREATE FUNCTION innovations_case_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM innovations_record_changes(ARRAY(
        SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.status = 'published' OR o.status = 'published') AND n IS DISTINCT FROM o));
    PERFORM innovations_refresh_search(ARRAY(
        SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE ({", ".join(f"n.{c}" for c in SEARCHED)})
            IS DISTINCT FROM ({", ".join(f"o.{c}" for c in SEARCHED)})));
    RETURN NULL;
END $$;
CREATE FUNCTION innovations_case_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM innovations_record_changes(
        ARRAY(SELECT id FROM old_rows WHERE status = 'published'));
    RETURN NULL;
END $$;

-- A case's terms (tags and sectors are searched too).
CREATE FUNCTION innovations_terms_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cases bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        cases := ARRAY(SELECT DISTINCT innovation_id FROM new_rows);
    ELSE
        cases := ARRAY(SELECT DISTINCT innovation_id FROM old_rows);
    END IF;
    PERFORM innovations_record_changes(ARRAY(
        SELECT id FROM innovations_innovation WHERE id = ANY(cases) AND status = 'published'));
    IF TG_ARGV[0] = 'searched' THEN
        PERFORM innovations_refresh_search(cases);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION innovations_everything_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO innovations_catalogue_change (innovation_id) VALUES (NULL);
    RETURN NULL;
END $$;
"""

SEARCH = f"""
-- Writes the search documents of these cases (an upsert), from their current rows.
CREATE FUNCTION innovations_refresh_search(cases bigint[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO innovations_searchdocument (innovation_id, vector)
    SELECT i.id, innovation_search_document(
        i.title,
        concat_ws(' ', i.short_explanation, i.organisation_name,
            (SELECT string_agg(t.name, ' ' ORDER BY t.name)
                FROM innovations_innovation_tags l JOIN innovations_tag t ON t.id = l.tag_id
                WHERE l.innovation_id = i.id),
            (SELECT string_agg(s.name, ' ' ORDER BY s.name)
                FROM innovations_innovation_sectors l
                JOIN innovations_sector s ON s.id = l.sector_id
                WHERE l.innovation_id = i.id),
            (SELECT c.name FROM innovations_country c WHERE c.code = i.country_id)),
        concat_ws(' ', {", ".join(f"i.{c}" for c in SECTIONS)}))
    FROM innovations_innovation i WHERE i.id = ANY(cases)
    ON CONFLICT (innovation_id) DO UPDATE SET vector = EXCLUDED.vector;
$$;
"""


def _triggers():
    sql = []
    table = "innovations_innovation"
    for event, transition, function in [
        ("INSERT", "NEW TABLE AS new_rows", "innovations_case_inserted"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", "innovations_case_updated"),
        ("DELETE", "OLD TABLE AS old_rows", "innovations_case_deleted"),
    ]:
        sql.append(
            f"CREATE TRIGGER catalogue_{event.lower()} AFTER {event} ON {table} "
            f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
        )
    for link, term in LINKS.items():
        searched = "searched" if term in ("sector", "tag") else "not searched"
        for event, transition in [
            ("INSERT", "NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ]:
            sql.append(
                f"CREATE TRIGGER catalogue_{event.lower()} AFTER {event} ON {link} "
                f"REFERENCING {transition} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION innovations_terms_changed('{searched}');"
            )
    for name in [table, *LINKS]:
        sql.append(
            f"CREATE TRIGGER catalogue_truncate AFTER TRUNCATE ON {name} "
            "FOR EACH STATEMENT EXECUTE FUNCTION innovations_everything_changed();"
        )
    for vocabulary, key in VOCABULARIES:
        sql.append(
            f"CREATE TRIGGER catalogue_changed AFTER INSERT OR DELETE OR TRUNCATE "
            f"ON {vocabulary} FOR EACH STATEMENT "
            "EXECUTE FUNCTION innovations_everything_changed();"
        )
        sql.append(
            f"CREATE FUNCTION {vocabulary}_updated() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            f"    IF EXISTS (SELECT FROM new_rows n JOIN old_rows o ON o.{key} = n.{key}\n"
            "               WHERE n IS DISTINCT FROM o) THEN\n"
            "        INSERT INTO innovations_catalogue_change (innovation_id) VALUES (NULL);\n"
            "    END IF;\n"
            "    RETURN NULL;\n"
            "END $$;\n"
            f"CREATE TRIGGER catalogue_updated AFTER UPDATE ON {vocabulary} "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {vocabulary}_updated();"
        )
    # A name that vectors include changed: refresh the cases that cite it.
    for vocabulary, cases in NAMED.items():
        sql.append(
            f"CREATE FUNCTION {vocabulary}_renamed() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            f"    PERFORM innovations_refresh_search(ARRAY({cases}));\n"
            "    RETURN NULL;\n"
            "END $$;\n"
            f"CREATE TRIGGER search_names AFTER UPDATE ON {vocabulary} "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {vocabulary}_renamed();"
        )
    return "\n".join(sql)


def _drop_triggers():
    sql = []
    for name in ["innovations_innovation", *LINKS]:
        for trigger in ("catalogue_insert", "catalogue_update", "catalogue_delete"):
            if name != "innovations_innovation" and trigger == "catalogue_update":
                continue
            sql.append(f"DROP TRIGGER {trigger} ON {name};")
        sql.append(f"DROP TRIGGER catalogue_truncate ON {name};")
    for vocabulary, _key in VOCABULARIES:
        sql.append(f"DROP TRIGGER catalogue_changed ON {vocabulary};")
        sql.append(f"DROP TRIGGER catalogue_updated ON {vocabulary};")
        sql.append(f"DROP FUNCTION {vocabulary}_updated();")
    for vocabulary in NAMED:
        sql.append(f"DROP TRIGGER search_names ON {vocabulary};")
        sql.append(f"DROP FUNCTION {vocabulary}_renamed();")
    return "\n".join(sql)


# 0005's version row, and its triggers on the catalogue's tables and search documents.
OLD_TABLES = [
    "innovations_innovation",
    *LINKS,
    "innovations_country",
    "innovations_sector",
    "innovations_stage",
    "innovations_recognition",
    "innovations_tag",
    "innovations_searchdocument",
]
DROP_VERSION = "".join(f"DROP TRIGGER catalogue_changed ON {t};\n" for t in OLD_TABLES) + (
    "DROP FUNCTION innovations_catalogue_changed();\n"
    "DROP TABLE innovations_catalogue_version;\n"
    "DROP SEQUENCE innovations_catalogue_version_seq;\n"
)
RESTORE_VERSION = """
CREATE SEQUENCE innovations_catalogue_version_seq;
CREATE TABLE innovations_catalogue_version (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    number bigint NOT NULL
);
INSERT INTO innovations_catalogue_version (number)
    VALUES (nextval('innovations_catalogue_version_seq'));
CREATE FUNCTION innovations_catalogue_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE innovations_catalogue_version
        SET number = nextval('innovations_catalogue_version_seq');
    RETURN NULL;
END $$;
""" + "".join(
    f"CREATE TRIGGER catalogue_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
    f"ON {t} FOR EACH STATEMENT EXECUTE FUNCTION innovations_catalogue_changed();\n"
    for t in OLD_TABLES
)

FUNCTIONS = [
    "innovations_case_inserted()",
    "innovations_case_updated()",
    "innovations_case_deleted()",
    "innovations_terms_changed()",
    "innovations_everything_changed()",
    "innovations_refresh_search(bigint[])",
    "innovations_record_changes(bigint[])",
]

# Vectors of cases that never had one (created outside the site) are built now.
BUILD_VECTORS = """
SELECT innovations_refresh_search(ARRAY(
    SELECT id FROM innovations_innovation i WHERE NOT EXISTS (
        SELECT FROM innovations_searchdocument d WHERE d.innovation_id = i.id)));
"""


class Migration(migrations.Migration):
    dependencies = [("innovations", "0009_search_documents")]

    operations = [
        migrations.RunSQL(DROP_VERSION, RESTORE_VERSION),
        migrations.RunSQL(
            CHANGE_LOG + SEARCH + _triggers() + BUILD_VECTORS,
            _drop_triggers()
            + "".join(f"DROP FUNCTION {f};\n" for f in FUNCTIONS)
            + "DROP TABLE innovations_catalogue_change;\n",
        ),
    ]
