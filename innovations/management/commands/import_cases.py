from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from innovations import csvfile
from innovations.forms import CaseImportForm
from innovations.models import TERM_FIELDS, Country, Innovation


class Command(BaseCommand):
    help = (
        "Create or update cases from a CSV file (the format export_cases writes), matched "
        "by slug. Every row is checked; if any row has an error nothing is imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file to read.")

    def handle(self, *args, file, **options):
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        errors = []
        try:
            with open(file, encoding="utf-8-sig", newline="") as source, transaction.atomic():
                rows = list(csvfile.read(source))
                added = self.prepare_references(rows)
                seen = {}
                for line, row in rows:
                    slug = (row.get("slug") or "").strip()
                    if slug and slug in seen:
                        errors.append(f"line {line}: slug: “{slug}” is also on line {seen[slug]}.")
                        continue
                    seen[slug] = line
                    result = self.import_row(row, line, file, errors)
                    if result:
                        counts[result] += 1
                if errors:
                    # Leaving the block with an exception undoes every row.
                    raise CommandError(
                        "\n".join(errors) + f"\n{len(errors)} errors; nothing was imported."
                    )
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise CommandError(f"{file}: {error}") from error
        for line in added:
            self.stdout.write(line)
        self.stdout.write(
            "Created {created}, updated {updated}, unchanged {unchanged}.".format(**counts)
        )

    def prepare_references(self, rows):
        """Make sure what the rows refer to exists, and say what was added: the
        countries (the site's reference list) on a database that has none, and each
        vocabulary term no case had yet, named after its slug for editors to rename.
        Returns the report's lines; an import with errors undoes these too."""
        added = []
        if not Country.objects.exists():
            call_command("loaddata", "countries", verbosity=0)
            added.append(f"Loaded the list of {Country.objects.count()} countries.")
        for name in TERM_FIELDS:
            model = CaseImportForm.base_fields[name].queryset.model
            # In the order the file lists them: an export lists stages in lifecycle order.
            wanted = {}
            for _line, row in rows:
                wanted.update(dict.fromkeys(CaseImportForm.terms(row.get(name))))
            known = set(model.objects.values_list("slug", flat=True))
            missing = [slug for slug in wanted if slug not in known]
            if not missing:
                continue
            taken = set(model.objects.values_list("name", flat=True))
            ordered = any(field.name == "position" for field in model._meta.fields)
            for position, slug in enumerate(missing, start=model.objects.count() + 1):
                label = slug.replace("-", " ").capitalize()
                term = model(slug=slug, name=label if label not in taken else slug)
                if ordered:
                    term.position = position
                term.save()
            added.append(
                f"Created {len(missing)} {model._meta.verbose_name_plural} named after their "
                f"slugs (rename them in the admin): {', '.join(missing)}."
            )
        return added

    def import_row(self, row, line, file, errors):
        """Validate one row and save it if it changes anything; say what happened."""
        instance = Innovation.objects.filter(slug=(row.get("slug") or "").strip()).first()
        before = instance.status if instance else ""
        form = CaseImportForm(row, instance=instance)
        if not form.is_valid():
            for field, messages in form.errors.items():
                for message in messages:
                    where = f"{field}: " if field != "__all__" else ""
                    errors.append(f"line {line}: {where}{message}")
            return None
        if instance and not form.has_changed():
            return "unchanged"
        if errors:
            return None  # nothing will be imported; just keep checking the rows
        innovation = form.save()
        if innovation.status != before:
            innovation.status_changes.create(
                from_status=before,
                to_status=innovation.status,
                note=f"Imported from {file}, line {line}.",
            )
        return "updated" if instance else "created"
