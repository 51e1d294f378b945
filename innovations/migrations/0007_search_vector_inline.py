"""Keep each case's search vector inside its row.

A row wider than about 2 kB has its largest values moved to the TOAST table, and the
vector was usually the one moved: then ranking a few thousand matches read as many
values back from there, ten times slower than from the row. With storage MAIN the
long text sections leave the row first and the (compressed) vector stays.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("innovations", "0006_reserved_slugs")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE innovations_innovation ALTER COLUMN search_vector SET STORAGE MAIN;",
            "ALTER TABLE innovations_innovation ALTER COLUMN search_vector SET STORAGE EXTENDED;",
        )
    ]
