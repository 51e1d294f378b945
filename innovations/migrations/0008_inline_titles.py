"""Keep a case's title and slug inside its row.

A row longer than `toast_tuple_target` (2 kB by default) has values moved out to the
TOAST table. With the search vector kept in the row (0007), the short columns were the
ones moved: sorting 100,000 cases by title then read every title back from there, a
hundred times slower. Rows now stay whole up to 3 kB (their long values compressed in
place first), and the title and slug are never moved. At 4 kB the vectors were no
longer compressed: the table doubled and ranking slowed. (Existing rows keep their
layout until rewritten, e.g. by VACUUM FULL.)
"""

from django.db import migrations

TABLE = "innovations_innovation"


class Migration(migrations.Migration):
    dependencies = [("innovations", "0007_search_vector_inline")]

    operations = [
        migrations.RunSQL(
            f"ALTER TABLE {TABLE} SET (toast_tuple_target = 3000);"
            f"ALTER TABLE {TABLE} ALTER COLUMN title SET STORAGE PLAIN,"
            " ALTER COLUMN slug SET STORAGE PLAIN;",
            f"ALTER TABLE {TABLE} RESET (toast_tuple_target);"
            f"ALTER TABLE {TABLE} ALTER COLUMN title SET STORAGE EXTENDED,"
            " ALTER COLUMN slug SET STORAGE EXTENDED;",
        )
    ]
