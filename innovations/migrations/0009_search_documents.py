"""Move each case's search vector to a table of its own.

Ranking the thousands of matches of a common word reads every match's vector. Read
from the cases' rows, wide with text, that meant going through most of a 240 MB
table; the vectors alone take 145 MB at 100,000 cases, more of them stay in the
database's buffers, and a search of two common words with a facet went from 47-48 ms
to 37-44 ms at p95 in the benchmark. Their storage is MAIN, as in 0007: a long
vector is compressed in its row before it is moved to TOAST. Writes to the new table
change the catalogue version (0005), as writes to the cases table do.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

TABLE = "innovations_searchdocument"

SETUP = f"""
ALTER TABLE {TABLE} ALTER COLUMN vector SET STORAGE MAIN;
CREATE TRIGGER catalogue_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON {TABLE} FOR EACH STATEMENT EXECUTE FUNCTION innovations_catalogue_changed();
"""

COPY = f"""
INSERT INTO {TABLE} (innovation_id, vector)
    SELECT id, search_vector FROM innovations_innovation WHERE search_vector IS NOT NULL;
"""

COPY_BACK = f"""
ALTER TABLE innovations_innovation ALTER COLUMN search_vector SET STORAGE MAIN;
UPDATE innovations_innovation AS i SET search_vector = d.vector
    FROM {TABLE} AS d WHERE d.innovation_id = i.id;
"""


class Migration(migrations.Migration):
    dependencies = [("innovations", "0008_inline_titles")]

    operations = [
        migrations.CreateModel(
            name="SearchDocument",
            fields=[
                (
                    "innovation",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_document",
                        serialize=False,
                        to="innovations.innovation",
                    ),
                ),
                ("vector", django.contrib.postgres.search.SearchVectorField()),
            ],
            options={
                "verbose_name": "search index entry",
                "verbose_name_plural": "search index entries",
                "default_permissions": (),
            },
        ),
        migrations.RunSQL(SETUP, f"DROP TRIGGER catalogue_changed ON {TABLE};"),
        # Each index is built after its table is filled, in either direction.
        migrations.RemoveIndex(model_name="innovation", name="innovation_search"),
        migrations.RunSQL(COPY, COPY_BACK),
        migrations.AddIndex(
            model_name="searchdocument",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["vector"], name="search_document_vector"
            ),
        ),
        migrations.RemoveField(model_name="innovation", name="search_vector"),
    ]
