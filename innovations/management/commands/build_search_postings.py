from django.core.management.base import BaseCommand

from innovations.catalogue import postings


class Command(BaseCommand):
    help = (
        "Build the postings of the search's common words, with which each process "
        "answers a search for them from memory. Processes queue a build themselves when "
        "the stored postings are missing or too old; run it to have them sooner."
    )

    def handle(self, *args, **options):
        built = postings.build()
        if built is None:
            self.stdout.write("Another build of the search postings is running.")
        else:
            words, held = built
            self.stdout.write(f"Built the search postings of {words} words, {held} held in memory.")
