"""A version number that every change to the catalogue's tables replaces, in the same
transaction, so that each web process can tell at the cost of one tiny query whether
its in-memory facet index (innovations.index) is still current. The numbers come from
a sequence, so a rolled-back change's number is never seen again."""

from django.db import migrations

TABLES = [
    "innovations_innovation",
    "innovations_innovation_sectors",
    "innovations_innovation_stages",
    "innovations_innovation_recognitions",
    "innovations_innovation_tags",
    "innovations_country",
    "innovations_sector",
    "innovations_stage",
    "innovations_recognition",
    "innovations_tag",
]

FORWARD = """
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
    f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION innovations_catalogue_changed();\n"
    for table in TABLES
)

BACKWARD = (
    "".join(f"DROP TRIGGER catalogue_changed ON {table};\n" for table in TABLES)
    + """
DROP FUNCTION innovations_catalogue_changed();
DROP TABLE innovations_catalogue_version;
DROP SEQUENCE innovations_catalogue_version_seq;
"""
)


class Migration(migrations.Migration):
    dependencies = [("innovations", "0004_search")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
