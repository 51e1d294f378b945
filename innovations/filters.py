"""The one FilterSet that owns the catalogue's query-string contract.

    country      ISO 3166-1 alpha-2 codes, any case
    level        national, regional, local, other
    sector, stage, recognition, tag
                 vocabulary slugs
    year_from, year_to
                 years of launch, inclusive
    q            text to search for
    sort         relevance (the default when searching), newest (the default
                 otherwise), added, title

Every multi-valued parameter may be repeated (`tag=a&tag=b`) or comma-separated
(`tag=a,b`). Values inside one parameter are ORed, parameters are ANDed. Values the
catalogue does not know are dropped and reported in `notices`, never an error.
"""

import re

import django_filters
from django import forms
from django.db.models import F
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .models import FIRST_YEAR, Country, Innovation, Recognition, Sector, Stage, Tag

MAX_VALUES = 50
SLUG_RE = re.compile(r"^[-a-z0-9_]{1,120}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")


def split_values(raw, normalise):
    """Flatten repeated and comma-separated values, normalised and without repeats."""
    values = []
    for item in raw or []:
        for part in str(item).split(","):
            part = normalise(part.strip())
            if part and part not in values:
                values.append(part)
    return values


class LenientMultipleChoiceField(forms.MultipleChoiceField):
    """A multiple choice that keeps the known values and sets the unknown aside."""

    def __init__(self, *args, normalise=str.lower, **kwargs):
        self.normalise = normalise
        self.ignored = []
        super().__init__(*args, **kwargs)

    def clean(self, value):
        values = split_values(value, self.normalise)
        self.ignored = [v for v in values if not self.valid_value(v)]
        return [v for v in values if self.valid_value(v)][:MAX_VALUES]


class LenientModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Like LenientMultipleChoiceField, for a vocabulary table looked up in one query."""

    def __init__(self, queryset, *, pattern=SLUG_RE, normalise=str.lower, **kwargs):
        self.pattern = pattern
        self.normalise = normalise
        self.ignored = []
        super().__init__(queryset, **kwargs)

    def clean(self, value):
        values = split_values(value, self.normalise)
        wellformed = [v for v in values if self.pattern.match(v)][:MAX_VALUES]
        key = self.to_field_name or "pk"
        found = {
            str(getattr(obj, key)): obj
            for obj in self.queryset.filter(**{f"{key}__in": wellformed})
        }
        self.ignored = [v for v in values if v not in found]
        return [found[v] for v in values if v in found]


class FacetFilter(django_filters.Filter):
    """Keeps the cases having any of the chosen values; never duplicates a case."""

    field_class = LenientMultipleChoiceField

    def filter(self, qs, value):
        if not value:
            return qs
        field = Innovation._meta.get_field(self.field_name)
        if field.many_to_many:
            through = field.remote_field.through
            matches = through.objects.filter(**{f"{field.m2m_reverse_name()}__in": value})
            return qs.filter(pk__in=matches.values(field.m2m_column_name()))
        return qs.filter(**{f"{self.field_name}__in": value})


class VocabularyFilter(FacetFilter):
    field_class = LenientModelMultipleChoiceField


class SortFilter(django_filters.ChoiceFilter):
    """Orders the cases: by relevance when searching, else by the chosen order."""

    def __init__(self, *, orders, **kwargs):
        self.orders = orders
        choices = [(key, label) for key, (label, _fields) in orders.items()]
        super().__init__(choices=choices, empty_label=None, **kwargs)

    def filter(self, qs, value):
        return qs.order_by(*self.orders[self.parent.order][1])


class InnovationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_text", label=_("Search"), max_length=200, strip=True
    )
    country = VocabularyFilter(
        queryset=Country.objects.all(),
        to_field_name="code",
        pattern=COUNTRY_RE,
        normalise=str.upper,
        label=_("Country"),
    )
    level = FacetFilter(choices=Innovation.Level.choices, label=_("Level of government"))
    sector = VocabularyFilter(
        field_name="sectors", queryset=Sector.objects.all(), to_field_name="slug", label=_("Sector")
    )
    year_from = django_filters.NumberFilter(
        field_name="year",
        lookup_expr="gte",
        label=_("Launched from"),
        min_value=FIRST_YEAR,
        max_value=9999,
    )
    year_to = django_filters.NumberFilter(
        field_name="year",
        lookup_expr="lte",
        label=_("Launched until"),
        min_value=FIRST_YEAR,
        max_value=9999,
    )
    stage = VocabularyFilter(
        field_name="stages",
        queryset=Stage.objects.all(),
        to_field_name="slug",
        label=_("Stage of innovation"),
    )
    recognition = VocabularyFilter(
        field_name="recognitions",
        queryset=Recognition.objects.all(),
        to_field_name="slug",
        label=_("Recognition"),
    )
    tag = VocabularyFilter(
        field_name="tags", queryset=Tag.objects.all(), to_field_name="slug", label=_("Tag")
    )
    sort = SortFilter(
        orders={
            "relevance": (_("Relevance"), ["-rank", "pk"]),
            "newest": (_("Newest launch"), [F("year").desc(nulls_last=True), "-created", "pk"]),
            "added": (_("Recently added"), ["-created", "pk"]),
            "title": (_("Title A–Z"), ["title", "pk"]),
        },
        label=_("Sort by"),
    )

    # The facets a person picks from; the year facet is the pair year_from/year_to.
    FACETS = ("country", "level", "sector", "year", "stage", "recognition", "tag")

    class Meta:
        model = Innovation
        fields = []

    def filter_text(self, qs, name, value):
        """Full-text matches; when there are none at all, titles that look alike."""
        if not value:
            return qs
        return qs.similar_titles(value) if self.is_fallback else qs.search(value)

    @cached_property
    def is_fallback(self):
        """True when the search text matches nothing and similar titles stand in."""
        text = self.cleaned_data.get("q")
        return bool(text) and not self.queryset.search(text).exists()

    @property
    def order(self):
        """The order in force: relevance only (and by default) when searching."""
        chosen = self.cleaned_data.get("sort")
        if self.cleaned_data.get("q"):
            return chosen or "relevance"
        return chosen if chosen and chosen != "relevance" else "newest"

    @property
    def sort_choices(self):
        choices = self.filters["sort"].extra["choices"]
        if self.cleaned_data.get("q"):
            return choices
        return [(key, label) for key, label in choices if key != "relevance"]

    @property
    def cleaned_data(self):
        """The valid part of the query string (validating it on first use)."""
        self.errors  # noqa: B018
        return self.form.cleaned_data

    def queryset_without(self, facet):
        """The cases matching every filter except `facet`'s own, unordered (for counts)."""
        own = {"year_from", "year_to"} if facet == "year" else {facet}
        qs = self.queryset.all()
        for name, value in self.cleaned_data.items():
            if name not in own and name != "sort":
                qs = self.filters[name].filter(qs, value)
        return qs

    @property
    def notices(self):
        """What was ignored, in words a person can act on."""
        self.errors  # noqa: B018
        notices = []
        if self.is_fallback:
            notices.append(
                _("Nothing matches “%(text)s” exactly. Did you mean one of these?")
                % {"text": self.cleaned_data["q"][:60]}
            )
        for name, field in self.form.fields.items():
            label = field.label
            for value in getattr(field, "ignored", []):
                notices.append(
                    _("%(label)s: “%(value)s” is not a known value and was ignored.")
                    % {"label": label, "value": value[:60]}
                )
            if name in self.form.errors:
                notices.append(
                    _("%(label)s: the value given was not understood and was ignored.")
                    % {"label": label}
                )
        return notices
