from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce, ExtractYear, Now
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

FIRST_YEAR = 1900

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

    def with_related(self):
        """Country and vocabularies, loaded with a fixed number of queries for any count."""
        return self.select_related("country").prefetch_related(
            "sectors", "stages", "recognitions", "tags"
        )

    def search(self, text):
        """Plain, accent-sensitive text matching on the title and short explanation."""
        return self.filter(
            models.Q(title__icontains=text) | models.Q(short_explanation__icontains=text)
        )

    def with_point(self):
        """Annotates `lat` and `lng`: the case's own location, else its country's capital."""
        return self.annotate(
            lat=Coalesce("latitude", "country__latitude"),
            lng=Coalesce("longitude", "country__longitude"),
        )


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
        PUBLISHED = "published", _("Published")

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
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

    status = models.CharField(
        _("publication status"), max_length=20, choices=Status, default=Status.DRAFT
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    objects = InnovationManager()

    class Meta:
        ordering = ["-created"]
        verbose_name = _("innovation")
        verbose_name_plural = _("innovations")
        indexes = [
            models.Index(fields=["status", "country"], name="innovation_status_country"),
            models.Index(fields=["status", "level"], name="innovation_status_level"),
            models.Index(fields=["status", "year"], name="innovation_status_year"),
            models.Index(fields=["status", "-created"], name="innovation_status_created"),
            models.Index(fields=["status", "title"], name="innovation_status_title"),
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
