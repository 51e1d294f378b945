"""The catalogue index reads the published cases in title order (ties by id) from an
index alone, without sorting them or visiting their rows."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("innovations", "0014_catalogue_change_pruning"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="innovation",
            name="innovation_status_title",
        ),
        migrations.AddIndex(
            model_name="innovation",
            index=models.Index(fields=["status", "title", "id"], name="innovation_status_title_id"),
        ),
    ]
