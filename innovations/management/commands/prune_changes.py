from datetime import timedelta

from django.core.management.base import BaseCommand

from innovations.catalogue import freshness, postings


class Command(BaseCommand):
    help = (
        "Delete the catalogue's change log rows older than a number of hours, keeping "
        "the catalogue's version as it is, after building the search postings again. "
        "Run it daily, from cron for example."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=float,
            default=24,
            metavar="HOURS",
            help="Keep the rows of the last HOURS hours (default 24).",
        )

    def handle(self, *args, older_than, **options):
        # Postings built before rows that are pruned could no longer be brought up to
        # date: they are built again first.
        postings.build()
        deleted = freshness.prune(timedelta(hours=older_than))
        self.stdout.write(f"Pruned {deleted} rows of the change log.")
