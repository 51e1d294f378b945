import re
import unicodedata
import uuid

from django import forms
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html, strip_tags
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from .models import (
    FIRST_YEAR,
    SECTION_FIELDS,
    TERM_FIELDS,
    Country,
    Innovation,
    Submission,
    next_year,
)

# Where a case is and what it is about (its terms, and its year among them), in the
# order in which the public form and the case file give them.
WHERE_AND_WHAT = ["country", "level", "sectors", "stages", "year", "recognitions", "tags"]


class ReturnForm(forms.Form):
    """The message an editor sends with cases returned for changes."""

    message = forms.CharField(
        label=_("Message to the submitter"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text=_("Say what to change. It is emailed to the submitter and kept in the log."),
    )


def without_private_use(text):
    """Text without Unicode's private-use characters: they mean nothing to a reader,
    and search marks its matches in snippets with two of them."""
    return "".join(char for char in text if unicodedata.category(char) != "Co")


class WithoutPrivateUse:
    """A form mixin: every text it cleans loses its private-use characters."""

    def _clean_fields(self):
        super()._clean_fields()
        for name, value in self.cleaned_data.items():
            if isinstance(value, str):
                self.cleaned_data[name] = without_private_use(value)


class CaseAdminForm(WithoutPrivateUse, forms.ModelForm):
    """The admin's case form, refused if another editor saved the case since it was opened.

    The form carries the version it was opened at. Checking it locks the case's row
    until the save ends (the admin saves in one transaction), so of two editors
    saving at once the second waits, then finds the version moved on.
    """

    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seen_version"].initial = self.instance.version

    def clean(self):
        cleaned_data = super().clean()
        seen = cleaned_data.get("seen_version")
        if self.instance.pk is None or seen is None:  # a new case, or a form from a script
            return cleaned_data
        current = (
            Innovation.objects.select_for_update()
            .filter(pk=self.instance.pk)
            .values_list("version", flat=True)
            .first()
        )
        if seen != current:
            url = reverse("admin:innovations_innovation_change", args=[self.instance.pk])
            raise forms.ValidationError(
                format_html(
                    '{} <a href="{}">{}</a>',
                    _(
                        "Another editor saved this case after you opened it, so your changes "
                        "were not saved: they would have undone theirs. Copy what you need "
                        "from this page, then"
                    ),
                    url,
                    _("open the latest version"),
                ),
                code="stale",
            )
        self.instance.version = current + 1
        return cleaned_data


class PlainTextField(forms.CharField):
    """Text as a person typed it, without markup.

    Tags are stripped (nothing typed reaches a page as HTML), and line endings are
    made `\\n`, as the browser counted them for `maxlength`, before the length check.
    """

    def to_python(self, value):
        value = super().to_python(value)
        return strip_tags(value.replace("\r\n", "\n").replace("\r", "\n")).strip()


class PlainLineField(PlainTextField):
    """One line of plain text: any run of spaces or line breaks becomes one space."""

    def to_python(self, value):
        return " ".join(super().to_python(value).split())


SECTION_HELP = {
    "title": _("The name people know the innovation by."),
    "short_explanation": _(
        "One paragraph that says what the innovation is and does. It is shown in lists "
        "and search results."
    ),
    "overview": _(
        "The problem or opportunity it responds to, what it is and how it works, and who runs it."
    ),
    "innovative": _("What is new about it, compared with what was done before or elsewhere."),
    "status_description": _(
        "Where it is now: being developed, running, evaluated, scaled up or ended."
    ),
    "collaborations": _(
        "Who worked on it: other public bodies, companies, universities, citizens' groups."
    ),
    "users": _("Who uses it or benefits from it, and how they took part."),
    "results": _("What has changed because of it. Give figures where you have them."),
    "challenges": _("What was hard or went wrong, and how it was dealt with."),
    "conditions": _("What made it possible: leadership, funding, skills, rules, partners."),
    "replication": _("Whether it has been, or could be, adopted elsewhere, and how."),
    "lessons": _("What you would tell someone starting something similar."),
    "anything_else": _("Anything that does not fit above."),
}


class SubmissionForm(WithoutPrivateUse, forms.ModelForm):
    """The public form for proposing a case; the case waits for an editor's review."""

    level = forms.ChoiceField(
        label=_("Level of government"),
        choices=Innovation.Level.choices,
        widget=forms.RadioSelect,
    )
    name = PlainLineField(
        label=_("Your name"),
        max_length=200,
        help_text=_("Only the catalogue's editors see it; it is never published."),
    )
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_(
            "We send a confirmation here, and write when the case is published or if it "
            "needs changes. Never published."
        ),
    )
    may_share = forms.BooleanField(
        label=_("I confirm that I may share this content and that the catalogue may publish it."),
        error_messages={"required": _("Confirm that you may share this content.")},
    )
    # One per form, so that sending the form twice creates one case.
    token = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form could not be checked; please send it again."),
            "invalid": _("This form could not be checked; please send it again."),
        },
    )
    # A trap for robots: hidden from people and screen readers, so only robots fill it.
    comment = forms.CharField(required=False, max_length=200, label=_("Leave this field empty"))

    class Meta:
        model = Innovation
        fields = [
            "title",
            "short_explanation",
            *SECTION_FIELDS,
            *WHERE_AND_WHAT,
            "organisation_name",
            "organisation_type",
            "website",
        ]
        field_classes = {
            **{name: PlainTextField for name in ["short_explanation", *SECTION_FIELDS]},
            "title": PlainLineField,
            "organisation_name": PlainLineField,
        }
        widgets = {
            **dict.fromkeys(TERM_FIELDS, forms.CheckboxSelectMultiple),
            **{name: forms.Textarea(attrs={"rows": 5}) for name in SECTION_FIELDS},
            "overview": forms.Textarea(attrs={"rows": 10}),
            "short_explanation": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = SECTION_HELP

    # The form's parts, in order, each under its own heading.
    GROUPS = [
        (_("The innovation"), ["title", "short_explanation"]),
        (_("The case"), list(SECTION_FIELDS)),
        (_("Where and what"), WHERE_AND_WHAT),
        (_("Organisation"), ["organisation_name", "organisation_type", "website"]),
        (_("About you"), ["name", "email", "may_share"]),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["token"].initial = uuid.uuid4
        self.fields["country"].empty_label = _("Choose a country")
        # Say what to choose, as for the country (Django 6.1's own blank label, "- Select
        # an option -", has no Portuguese translation yet).
        self.fields["organisation_type"].choices = [
            ("", _("Choose a type of organisation")),
            *Innovation.OrganisationType.choices,
        ]
        self.fields["year"].widget.attrs.update({"min": FIRST_YEAR, "max": next_year()})
        for name in TERM_FIELDS:
            self.fields[name].help_text = ""
        self.fields["sectors"].help_text = _("Choose at least one.")
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["organisation_name"].widget.attrs["autocomplete"] = "organization"
        self.fields["comment"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    @property
    def groups(self):
        return [(legend, [self[name] for name in names]) for legend, names in self.GROUPS]

    @property
    def is_spam(self):
        """Whether the robots' trap was filled in."""
        return bool(self.data.get(self.add_prefix("comment")))

    def clean_email(self):
        """An address whose domain cannot be written for the mail system (IDNA: each
        part of an international name at most 63 characters once encoded) is refused
        here, rather than failing each time we write to it."""
        email = self.cleaned_data["email"]
        try:
            email.rpartition("@")[2].encode("idna")
        except UnicodeError:
            raise forms.ValidationError(
                _("This email address’s domain is not valid; check it."), code="invalid"
            ) from None
        return email

    def sent_before(self):
        """The case this very form already created, if it was sent before."""
        try:
            token = self.fields["token"].clean(self.data.get(self.add_prefix("token")))
        except forms.ValidationError:
            return None
        return Submission.objects.filter(token=token).first()

    def save(self, language):
        """Store the case as awaiting review, with its submitter; email a confirmation.

        Sending the same form twice at once stores it once: the second sending finds
        the first one's token taken and returns its submission.
        """
        data = self.cleaned_data
        for _attempt in range(3):
            try:
                with transaction.atomic():
                    innovation = super().save(commit=False)
                    # Cases sent at once with one title take turns choosing a slug.
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "SELECT pg_advisory_xact_lock(hashtext(%s))",
                            [f"slug:{slugify(innovation.title)}"],
                        )
                    innovation.slug = Innovation.objects.unique_slug(innovation.title)
                    innovation.status = Innovation.Status.SUBMITTED
                    innovation.language = language  # most write in the page's language
                    innovation.save()
                    self.save_m2m()
                    # The log is the editors': in the site's language, not the submitter's.
                    with translation.override(settings.LANGUAGE_CODE):
                        note = str(_("Sent through the public form."))
                    innovation.status_changes.create(
                        to_status=Innovation.Status.SUBMITTED, note=note
                    )
                    submission = Submission.objects.create(
                        innovation=innovation,
                        token=data["token"],
                        name=data["name"],
                        email=data["email"],
                        may_share=data["may_share"],
                        language=language,
                    )
                    submission.email_later(Innovation.Status.SUBMITTED)
                    return submission
            except IntegrityError:
                self.instance.pk = None
                if existing := Submission.objects.filter(token=data["token"]).first():
                    return existing
                # Another case took the same slug meanwhile: try the next one.
        raise IntegrityError("Could not find a free slug for the submitted case.")


VOCABULARY_SEPARATOR = re.compile(r"[|;]")


def by_slug(field, **kwargs):
    """A case file names a case's terms by their slugs."""
    if field.name in TERM_FIELDS:
        kwargs["to_field_name"] = "slug"
    return field.formfield(**kwargs)


class CaseImportForm(WithoutPrivateUse, forms.ModelForm):
    """One row of a case file; vocabularies by slug, the country by ISO code."""

    country = forms.ModelChoiceField(Country.objects.all(), to_field_name="code")
    is_synthetic = forms.NullBooleanField()

    class Meta:
        model = Innovation
        fields = [
            "slug",
            "title",
            "status",
            "short_explanation",
            *SECTION_FIELDS,
            "organisation_name",
            "organisation_type",
            "website",
            *WHERE_AND_WHAT,
            "latitude",
            "longitude",
            "source",
            "source_url",
            "is_synthetic",
        ]
        formfield_callback = by_slug

    def __init__(self, row, **kwargs):
        data = dict(row)
        for name in TERM_FIELDS:
            if name in data:
                data[name] = self.terms(data[name])
        super().__init__(data, **kwargs)

    @staticmethod
    def terms(cell):
        """The slugs in a vocabulary cell."""
        if not isinstance(cell, str):
            return []
        return [value.strip() for value in VOCABULARY_SEPARATOR.split(cell) if value.strip()]

    def clean_is_synthetic(self):
        value = self.cleaned_data["is_synthetic"]
        if value is None:
            raise forms.ValidationError(_("Write true or false."), code="invalid")
        return value
