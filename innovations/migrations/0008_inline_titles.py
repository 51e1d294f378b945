"""Keep a case's title and slug inside its row.

A row longer than `toast_tuple_target` (2 kB by default) has values moved out to the
TOAST table. With the search vector kept in the row (0007), the short columns were the
ones moved: sorting 100,000 cases by title then read every title back from there, a
hundred times slower. Rows now stay whole up to 4 kB, and the title and slug are never
moved. (Existing rows keep their layout until rewritten, e.g. by VACUUM FULL.)
"""

from django.db import migrations

TABLE = "innovations_innovation"


class Migration(migrations.Migration):
    dependencies = [("innovations", "0007_search_vector_inline")]

    operations = [
        migrations.RunSQL(
            f"ALTER TABLE {TABLE} SET (toast_tuple_target = 4080);"
            f"ALTER TABLE {TABLE} ALTER COLUMN title SET STORAGE PLAIN,"
            " ALTER COLUMN slug SET STORAGE PLAIN;",
            f"ALTER TABLE {TABLE} RESET (toast_tuple_target);"
            f"ALTER TABLE {TABLE} ALTER COLUMN title SET STORAGE EXTENDED,"
            " ALTER COLUMN slug SET STORAGE EXTENDED;",
        )
    ]
