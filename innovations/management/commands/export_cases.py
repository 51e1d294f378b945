import io

from django.core.management.base import BaseCommand

from innovations import csvfile
from innovations.models import Innovation


class Command(BaseCommand):
    help = "Write every case, in any status, to a CSV file that import_cases reads back."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file to write, or - for standard output.")

    def handle(self, *args, file, **options):
        cases = Innovation.objects.with_related().order_by("slug")
        if file == "-":
            buffer = io.StringIO(newline="")
            csvfile.write(cases, buffer)
            self.stdout.write(buffer.getvalue(), ending="")
            return
        with open(file, "w", encoding="utf-8", newline="") as out:
            csvfile.write(cases, out)
        self.stdout.write(f"Exported {len(cases)} cases to {file}.")
