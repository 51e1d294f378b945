"""Postings of the search's common words, which a catalogue index holds to answer a
search for them from memory, and an index of the words of the cases' titles, which
rank the matches."""

import django.contrib.postgres.indexes
from django.db import migrations, models

import innovations.models


class Migration(migrations.Migration):
    dependencies = [
        ("innovations", "0016_load_columns_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchPosting",
            fields=[
                ("lexeme", models.TextField(primary_key=True, serialize=False)),
                ("common", models.BooleanField()),
                ("packed", models.BooleanField()),
                ("cases", models.BinaryField()),
                ("titled", models.BinaryField()),
            ],
            options={
                "default_permissions": (),
            },
        ),
        migrations.CreateModel(
            name="SearchPostingsBuild",
            fields=[
                ("one", models.BooleanField(default=True, primary_key=True, serialize=False)),
                ("snapshot", models.TextField()),
                ("last_change", models.BigIntegerField()),
                ("transaction", models.TextField(blank=True)),
                ("width", models.IntegerField()),
                ("built", models.DateTimeField()),
            ],
            options={
                "default_permissions": (),
            },
        ),
        migrations.AddIndex(
            model_name="searchdocument",
            index=django.contrib.postgres.indexes.GinIndex(
                innovations.models.TitleWords("vector"), name="search_document_title"
            ),
        ),
        migrations.AddConstraint(
            model_name="searchpostingsbuild",
            constraint=models.CheckConstraint(condition=models.Q(("one", True)), name="one_build"),
        ),
    ]
