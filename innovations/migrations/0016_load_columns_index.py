"""The catalogue index's full load reads the columns it keeps of every published case
from an index alone (an index-only scan), rather than from the cases' rows, which their
long sections make wide."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("innovations", "0015_title_order_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="innovation",
            index=models.Index(
                fields=["status", "id"],
                include=("country", "level", "year", "created", "latitude", "longitude"),
                name="innovation_status_id_facts",
            ),
        ),
    ]
