from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models, transaction
from django.db.models.functions import ExtractYear, Now
from django.template.loader import render_to_string
from django.urls import resolve, reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

FIRST_YEAR = 1900

# The vocabularies a case is linked to.
TERM_FIELDS = ("sectors", "stages", "recognitions", "tags")
# The long sections of a case, in the order of the case form.
SECTION_FIELDS = (
    "overview",
    "innovative",
    "status_description",
    "collaborations",
    "users",
    "results",
    "challenges",
    "conditions",
    "replication",
    "lessons",
    "anything_else",
)


def next_year():
    return timezone.now().year + 1


def validate_not_after_next_year(value):
    MaxValueValidator(next_year())(value)


def is_shadowed(slug):
    """Whether a case with this slug would be hidden by another page (`map`, `submit`)."""
    return resolve(reverse("innovations:detail", args=[slug])).url_name != "detail"


def validate_not_shadowed(slug):
    if is_shadowed(slug):
        raise ValidationError(
            _("“%(slug)s” is the address of another page; choose another slug."),
            params={"slug": slug},
        )


class VocabularyManager(models.Manager):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Vocabulary(models.Model):
    """A list of terms that editors manage: sectors, stages, tags, recognitions."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)

    objects = VocabularyManager()

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.slug,)


class Sector(Vocabulary):
    class Meta(Vocabulary.Meta):
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")


class Stage(Vocabulary):
    """A stage of the innovation lifecycle, listed in lifecycle order."""

    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta(Vocabulary.Meta):
        ordering = ["position", "name"]
        verbose_name = _("stage of innovation")
        verbose_name_plural = _("stages of innovation")


class Recognition(Vocabulary):
    class Meta(Vocabulary.Meta):
        verbose_name = _("recognition")
        verbose_name_plural = _("recognitions")


class Tag(Vocabulary):
    class Meta(Vocabulary.Meta):
        verbose_name = _("tag")
        verbose_name_plural = _("tags")


class Country(models.Model):
    """An ISO 3166-1 country, placed at its capital."""

    code = models.CharField(_("ISO code"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    capital = models.CharField(_("capital"), max_length=100, blank=True)
    latitude = models.FloatField(
        _("latitude"), validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        _("longitude"), validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[A-Z]{2}$"), name="country_code_is_alpha2"
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90),
                name="country_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__gte=-180, longitude__lte=180),
                name="country_longitude_range",
            ),
        ]

    def __str__(self):
        return self.name


class InnovationQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Innovation.Status.PUBLISHED)

    def awaiting_review(self):
        """The review queue: submitted cases, oldest first."""
        return self.filter(status=Innovation.Status.SUBMITTED).order_by("created", "pk")

    def unique_slug(self, title):
        """A slug made from `title` that no case has yet: `title`, `title-2`, `title-3`…

        Slugs whose address belongs to another page (`submit`) are skipped too.
        """
        base = slugify(title)[:180].strip("-") or "case"
        taken = Innovation.objects.filter(slug__startswith=base).order_by()
        taken = set(taken.values_list("slug", flat=True))

        slug, number = base, 1
        while slug in taken or is_shadowed(slug):
            number += 1
            slug = f"{base}-{number}"
        return slug

    def with_related(self):
        """Country and vocabularies, loaded with a fixed number of queries for any count."""
        return self.select_related("country").prefetch_related(*TERM_FIELDS)


class InnovationManager(models.Manager.from_queryset(InnovationQuerySet)):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Innovation(models.Model):
    class Level(models.TextChoices):
        NATIONAL = "national", _("National/federal")
        REGIONAL = "regional", _("Regional/state")
        LOCAL = "local", _("Local")
        OTHER = "other", _("Other")

    class OrganisationType(models.TextChoices):
        GOVERNMENT = "government", _("Government")
        NGO = "ngo", _("Non-governmental organisation")
        INTERNATIONAL = "international", _("International organisation")
        ACADEMIA = "academia", _("Academia")
        PRIVATE = "private", _("Private sector")
        INDEPENDENT = "independent", _("Independent institution")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Awaiting review")
        RETURNED = "returned", _("Returned for changes")
        PUBLISHED = "published", _("Published")
        ARCHIVED = "archived", _("Archived")

    # The editorial workflow: where a case may go from each status. Only published
    # cases are public; an editor archives a published case rather than deleting it.
    TRANSITIONS = {
        Status.DRAFT: [Status.SUBMITTED, Status.PUBLISHED, Status.ARCHIVED],
        Status.SUBMITTED: [Status.PUBLISHED, Status.RETURNED, Status.ARCHIVED],
        Status.RETURNED: [Status.SUBMITTED, Status.PUBLISHED, Status.ARCHIVED],
        Status.PUBLISHED: [Status.ARCHIVED],
        Status.ARCHIVED: [Status.DRAFT, Status.PUBLISHED],
    }
    # Moving a case into these is an editor's decision (the publish permission).
    DECISIONS = {Status.PUBLISHED, Status.RETURNED, Status.ARCHIVED}

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(
        _("slug"), max_length=200, unique=True, validators=[validate_not_shadowed]
    )
    short_explanation = models.TextField(
        _("short explanation"),
        max_length=500,
        help_text=_("One paragraph, shown in lists and search results."),
    )

    overview = models.TextField(_("overview"), max_length=5000, blank=True)
    innovative = models.TextField(_("what makes it innovative"), max_length=1000, blank=True)
    status_description = models.TextField(_("status"), max_length=1000, blank=True)
    collaborations = models.TextField(_("collaborations and partners"), max_length=1000, blank=True)
    users = models.TextField(
        _("users, stakeholders and beneficiaries"), max_length=1000, blank=True
    )
    results = models.TextField(_("results and impacts"), max_length=1000, blank=True)
    challenges = models.TextField(_("challenges and failures"), max_length=1000, blank=True)
    conditions = models.TextField(_("conditions for success"), max_length=1000, blank=True)
    replication = models.TextField(_("replication"), max_length=1000, blank=True)
    lessons = models.TextField(_("lessons learned"), max_length=1000, blank=True)
    anything_else = models.TextField(_("anything else"), max_length=1000, blank=True)

    organisation_name = models.CharField(_("organisation"), max_length=200, blank=True)
    organisation_type = models.CharField(
        _("type of organisation"), max_length=20, choices=OrganisationType, blank=True
    )
    website = models.URLField(_("website"), max_length=500, blank=True)

    country = models.ForeignKey(
        Country, on_delete=models.PROTECT, related_name="innovations", verbose_name=_("country")
    )
    level = models.CharField(_("level of government"), max_length=20, choices=Level)
    sectors = models.ManyToManyField(Sector, related_name="innovations", verbose_name=_("sectors"))
    stages = models.ManyToManyField(
        Stage, related_name="innovations", blank=True, verbose_name=_("stages of innovation")
    )
    year = models.PositiveSmallIntegerField(
        _("year of launch"),
        null=True,
        blank=True,
        validators=[MinValueValidator(FIRST_YEAR), validate_not_after_next_year],
    )
    recognitions = models.ManyToManyField(
        Recognition, related_name="innovations", blank=True, verbose_name=_("recognitions")
    )
    tags = models.ManyToManyField(
        Tag, related_name="innovations", blank=True, verbose_name=_("tags")
    )
    latitude = models.FloatField(
        _("latitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
        help_text=_("Leave both coordinates empty to place the case at its country's capital."),
    )
    longitude = models.FloatField(
        _("longitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )

    source = models.CharField(_("data source"), max_length=200, blank=True)
    source_url = models.URLField(_("data source address"), max_length=500, blank=True)
    is_synthetic = models.BooleanField(
        _("synthetic"), default=False, help_text=_("Generated test data, not a real case.")
    )
    language = models.CharField(
        _("language of the text"),
        max_length=10,
        choices=settings.LANGUAGES,
        default="en",
        blank=True,  # left out of a form, a case keeps the default
        help_text=_(
            "The language the case is written in, so that browsers and screen "
            "readers pronounce it right."
        ),
    )

    status = models.CharField(
        _("publication status"), max_length=20, choices=Status, default=Status.DRAFT
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)
    # One more at each save of the case form: a form opened before another editor's
    # save is refused rather than silently undoing it (CaseAdminForm).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = InnovationManager()

    # What a search found in the short explanation (innovations.catalogue.search); blank
    # for a case that was not searched for.
    snippet = ""

    class Meta:
        ordering = ["-created"]
        verbose_name = _("innovation")
        verbose_name_plural = _("innovations")
        permissions = [("publish_innovation", _("Can publish, return and archive innovations"))]
        indexes = [
            models.Index(fields=["status", "country"], name="innovation_status_country"),
            models.Index(fields=["status", "level"], name="innovation_status_level"),
            models.Index(fields=["status", "year"], name="innovation_status_year"),
            models.Index(fields=["status", "-created"], name="innovation_status_created"),
            # The catalogue index reads every published case in title order, with the
            # id that breaks ties, from this index alone.
            models.Index(fields=["status", "title", "id"], name="innovation_status_title_id"),
            # A full load reads these columns of every published case from this index
            # alone, not from the rows, which are wide with the cases' long sections.
            models.Index(
                fields=["status", "id"],
                include=["country", "level", "year", "created", "latitude", "longitude"],
                name="innovation_status_id_facts",
            ),
            GinIndex(OpClass("title", name="gin_trgm_ops"), name="innovation_title_trgm"),
        ]
        constraints = [
            # The upper bound only loosens as time passes, so rows stored under it
            # always satisfy it later (and on restore).
            models.CheckConstraint(
                condition=models.Q(year__gte=FIRST_YEAR)
                & models.Q(year__lte=ExtractYear(Now()) + 1),
                name="innovation_year_range",
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90),
                name="innovation_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__gte=-180, longitude__lte=180),
                name="innovation_longitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(latitude__isnull=False, longitude__isnull=False),
                name="innovation_location_complete",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("innovations:detail", args=[self.slug])

    def natural_key(self):
        return (self.slug,)

    @property
    def level_label(self):
        """What get_level_display() gives, read from the enumeration directly: the
        generic method hashes every choice's lazy label, on each card of a list."""
        try:
            return self.Level(self.level).label
        except ValueError:
            return self.level

    @property
    def point(self):
        """Where the case sits on a map: its own location, else its country's capital."""
        if self.latitude is not None and self.longitude is not None:
            return self.latitude, self.longitude
        return self.country.latitude, self.country.longitude

    @property
    def sections(self):
        """The long sections that have text, as (heading, text) pairs in form order."""
        return [
            (self._meta.get_field(name).verbose_name, getattr(self, name))
            for name in SECTION_FIELDS
            if getattr(self, name)
        ]

    def next_statuses(self, user=None):
        """The statuses this case may move to; editorial decisions only for editors.

        `user` None means the site itself (the public form, a management command).
        """
        allowed = self.TRANSITIONS.get(self.status, [])
        if user is not None and not user.has_perm("innovations.publish_innovation"):
            allowed = [status for status in allowed if status not in self.DECISIONS]
        return allowed

    def transition(self, to, by=None, note=""):
        """Move the case to status `to` if the workflow allows it; save, log, return the log.

        The move only happens if the case still has the status it was read with, so
        two editors acting at once cannot overwrite each other's decision.
        """
        to = self.Status(to)
        if to not in self.TRANSITIONS.get(self.status, []):
            raise ValidationError(
                _("A case that is “%(current)s” cannot become “%(new)s”."),
                code="invalid_transition",
                params={"current": self.get_status_display(), "new": to.label},
            )
        if to not in self.next_statuses(by):
            raise PermissionDenied(_("Only editors can publish, return or archive a case."))
        if to == self.Status.RETURNED and not note.strip():
            raise ValidationError(_("Say what the submitter should change."), code="note_required")
        with transaction.atomic():
            now = timezone.now()
            moved = Innovation.objects.filter(pk=self.pk, status=self.status).update(
                status=to, updated=now
            )
            if not moved:
                raise ValidationError(
                    _("The case changed meanwhile; reload it and try again."), code="stale"
                )
            change = self.status_changes.create(
                by=by, from_status=self.status, to_status=to, note=note.strip(), at=now
            )
            self.status, self.updated = to, now
            if to in (self.Status.PUBLISHED, self.Status.RETURNED):
                submission = Submission.objects.filter(innovation=self).first()
                if submission:
                    submission.email_later(to, note)
        return change


class TitleWords(models.Func):
    """A search vector's words at weight A: those of the case's title."""

    function = "ts_filter"
    template = "%(function)s(%(expressions)s, '{a}'::\"char\"[])"
    output_field = SearchVectorField()


class SearchDocument(models.Model):
    """A case's search vector, which the database writes and keeps current whenever the
    case, its tags or sectors, or their names change (migration 0010); the search itself
    is `innovations.catalogue.search`.

    The vectors have a table of their own: a common word finds thousands of cases, and
    ranking them reads each one's vector, which is quicker from narrow rows than from
    the cases' own, wide with text.
    """

    innovation = models.OneToOneField(
        Innovation,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="search_document",
    )
    vector = SearchVectorField()

    class Meta:
        verbose_name = _("search index entry")
        verbose_name_plural = _("search index entries")
        default_permissions = ()  # only ever written with its case
        indexes = [
            GinIndex(fields=["vector"], name="search_document_vector"),
            GinIndex(TitleWords("vector"), name="search_document_title"),
        ]

    def __str__(self):
        return str(self.innovation)


class SearchPosting(models.Model):
    """The cases whose search vectors hold one common word, as the last build of the
    postings found them (`manage.py build_search_postings`): a catalogue index that
    holds them answers a search for common words from memory. Written only whole, by
    the build, never by a save: a save leaves them as they are, and the change log says
    which cases to read again."""

    lexeme = models.TextField(primary_key=True)
    common = models.BooleanField()  # whether processes hold it in memory
    # The cases as bits over case ids (the bit of case id n is bit 7 - n % 8 of byte
    # n // 8), or, where fewer bytes, as their ids, ascending, 4-byte little-endian.
    packed = models.BooleanField()
    cases = models.BinaryField()
    titled = models.BinaryField()  # the cases with the word in their titles, as ids

    class Meta:
        default_permissions = ()

    def __str__(self):
        return self.lexeme


class SearchPostingsBuild(models.Model):
    """When the postings were built: the one row says which writes they include."""

    one = models.BooleanField(primary_key=True, default=True)
    snapshot = models.TextField()  # the build's pg_snapshot: the writes it saw committed
    last_change = models.BigIntegerField()  # the change log's last id the build saw
    # The build's own transaction, if it had written before the build (its writes are
    # seen, though its snapshot counts it as running): a pg xid8, or "".
    transaction = models.TextField(blank=True)
    width = models.IntegerField()  # bits in each packed posting: case ids below it
    built = models.DateTimeField()

    class Meta:
        default_permissions = ()
        constraints = [models.CheckConstraint(condition=models.Q(one=True), name="one_build")]

    def __str__(self):
        return f"Search postings built {self.built:%Y-%m-%d %H:%M}"


class Submission(models.Model):
    """Who proposed a case through the public form. No public page ever shows it."""

    innovation = models.OneToOneField(
        Innovation,
        on_delete=models.CASCADE,
        related_name="submission",
        verbose_name=_("innovation"),
    )
    # One per form: a form sent twice finds the case its first sending created.
    token = models.UUIDField(_("form token"), editable=False)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), max_length=254)
    may_share = models.BooleanField(
        _("may share the content"),
        default=False,
        help_text=_("The submitter confirmed that they may share the content."),
    )
    language = models.CharField(_("language"), max_length=10, default=settings.LANGUAGE_CODE)
    created = models.DateTimeField(_("submitted"), auto_now_add=True)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        constraints = [
            models.UniqueConstraint(fields=["token"], name="submission_token_unique"),
        ]

    def __str__(self):
        return f"{self.name} <{self.email}>"

    EMAILS = {
        Innovation.Status.SUBMITTED: "submitted",
        Innovation.Status.PUBLISHED: "published",
        Innovation.Status.RETURNED: "returned",
    }

    def email_later(self, status, note=""):
        """Have the task worker email the submitter about `status`.

        Called inside the transaction that makes the change: the task is stored with it
        (or not at all), and the request never waits for a mail server.
        """
        from .tasks import email_submitter

        email_submitter.enqueue(self.pk, status, note)

    def notify(self, status, note=""):
        """Email the submitter about their case, in the language they wrote in (the
        task worker calls this; a mail server's failure is raised, to be retried)."""
        name = self.EMAILS[status]
        with translation.override(self.language):
            context = {
                "submission": self,
                "innovation": self.innovation,
                "note": note,
                "url": settings.SITE_URL.rstrip("/") + self.innovation.get_absolute_url(),
                "submit_url": settings.SITE_URL.rstrip("/") + reverse("innovations:submit"),
            }
            subject = render_to_string(f"innovations/email/{name}_subject.txt", context)
            body = render_to_string(f"innovations/email/{name}.txt", context)
        send_mail(" ".join(subject.split()), body, None, [self.email])


class StatusChange(models.Model):
    """One move of a case through the workflow: who, when, from, to and why."""

    innovation = models.ForeignKey(
        Innovation,
        on_delete=models.CASCADE,
        related_name="status_changes",
        verbose_name=_("innovation"),
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty when the site made the change (the public form, an import)."),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    from_status = models.CharField(_("from"), max_length=20, choices=Innovation.Status, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Innovation.Status)
    note = models.TextField(_("note"), max_length=2000, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        indexes = [models.Index(fields=["innovation", "at"], name="statuschange_case_at")]

    def __str__(self):
        return f"{self.from_status or '-'} → {self.to_status}"


class RateCountQuerySet(models.QuerySet):
    def live(self):
        return self.filter(expires__gt=Now())

    def add(self, key, seconds):
        """Count one more for `key` in one statement, starting a window of `seconds` if
        there is none or it has ended; return the new count. Ended windows of other
        keys are cleared on the way."""
        table = RateCount._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH ended AS (DELETE FROM {table} WHERE expires < now() - interval '1 day') "
                f"INSERT INTO {table} AS t (key, count, expires) "
                "VALUES (%s, 1, now() + make_interval(secs => %s)) "
                "ON CONFLICT (key) DO UPDATE SET "
                "count = CASE WHEN t.expires > now() THEN t.count + 1 ELSE 1 END, "
                "expires = CASE WHEN t.expires > now() THEN t.expires ELSE EXCLUDED.expires END "
                "RETURNING count",
                [key, seconds],
            )
            return cursor.fetchone()[0]


class RateCount(models.Model):
    """How often one client did one thing in the current window (innovations.ratelimit),
    when there is no Redis to count in."""

    key = models.CharField(max_length=300, primary_key=True)
    count = models.IntegerField(default=0)
    expires = models.DateTimeField()

    objects = RateCountQuerySet.as_manager()

    class Meta:
        verbose_name = _("rate count")
        verbose_name_plural = _("rate counts")
        default_permissions = ()
        indexes = [models.Index(fields=["expires"], name="ratecount_expires")]

    def __str__(self):
        return f"{self.key}: {self.count}"
