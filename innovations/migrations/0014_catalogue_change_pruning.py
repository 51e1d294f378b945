"""Old rows of the change log can be deleted without losing count of them.

The catalogue's version is the number of changes a snapshot sees (0010). Pruning keeps
that number: in one transaction it deletes old rows and adds them to `changes` in
`innovations_catalogue_pruned`, and it records in `through` the newest transaction whose
rows it deleted. A process that last looked before `through` may have missed one of those
rows, so it loads its index again (innovations.catalogue.freshness). Only the pruning
writes this row: writers of the catalogue never touch it.
"""

from django.db import migrations

PRUNED = """
CREATE TABLE innovations_catalogue_pruned (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    through xid8 NOT NULL DEFAULT '0',
    changes bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE innovations_catalogue_pruned IS
    'How many change rows were pruned, and the newest transaction among them.';
INSERT INTO innovations_catalogue_pruned DEFAULT VALUES;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("innovations", "0013_case_language"),
    ]

    operations = [
        migrations.RunSQL(PRUNED, "DROP TABLE innovations_catalogue_pruned;"),
    ]
