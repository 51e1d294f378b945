"""The one FilterSet that owns the catalogue's query-string contract.

    country      ISO 3166-1 alpha-2 codes, any case
    level        national, regional, local, other
    sector, stage, recognition, tag
                 vocabulary slugs
    year_from, year_to
                 years of launch, inclusive
    q            text to search for
    bbox         west,south,east,north in degrees: the cases whose point lies in
                 the box (west > east crosses the antimeridian)
    sort         relevance (the default when searching), newest (the default
                 otherwise), added, title

Every multi-valued parameter may be repeated (`tag=a&tag=b`) or comma-separated
(`tag=a,b`). Values inside one parameter are ORed, parameters are ANDed. Values the
catalogue does not know are dropped and reported in `notices`, never an error.

The FilterSet parses and validates the query string; the catalogue index answers it.
Each filter says what it selects with `mask(index, value)`, a boolean array over the
index's cases: that is the filter's only meaning.
"""

import unicodedata
import weakref

import django_filters
import numpy as np
from django import forms
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from ..models import FIRST_YEAR, Innovation
from . import rows, search
from .freshness import current_index
from .maps import BBoxField

MAX_VALUES = 50  # values of one parameter that are used


def printable(text, length=60):
    """Text from the query string as a notice may quote it: cut short, and without
    control characters (a NUL byte, say), which no page should carry."""
    return "".join(c for c in text[:length] if unicodedata.category(c) != "Cc")


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

    def __init__(self, *args, normalise=str.lower, known=None, **kwargs):
        self.normalise = normalise
        self.known = known  # a function giving the known values, where not the choices
        self.ignored = []
        self.beyond = 0  # known values past the first MAX_VALUES, left out
        super().__init__(*args, **kwargs)

    def clean(self, value):
        values = split_values(value, self.normalise)
        if not values:
            return []
        known = self.known() if self.known else {str(key) for key, _label in self.choices}
        self.ignored = [v for v in values if v not in known]
        kept = [v for v in values if v in known]
        self.beyond = max(0, len(kept) - MAX_VALUES)
        return kept[:MAX_VALUES]


class FacetFilter(django_filters.Filter):
    """Keeps the cases having any of the chosen values; never duplicates a case."""

    field_class = LenientMultipleChoiceField

    def mask(self, index, value):
        vocabulary = index.vocabularies[self.field_name]
        chosen = [vocabulary.position[key] for key in value]
        if self.field_name in index.terms:
            return index.having_any(self.field_name, chosen)
        wanted = np.zeros(len(vocabulary.keys), dtype=bool)
        wanted[chosen] = True
        return wanted[getattr(index, self.field_name)]


class VocabularyFilter(FacetFilter):
    """A facet over a vocabulary table, whose terms the catalogue's index holds: the
    values are checked without a query."""

    @property
    def field(self):
        if not hasattr(self, "_field"):
            # A function rather than the bound method, which the form would deep-copy
            # along with this filter and its filterset.
            self.extra["choices"] = lambda: self.choices()
            self.extra["known"] = lambda: self.vocabulary().position
        return super().field

    def vocabulary(self):
        return self.parent.index.vocabularies[self.field_name]

    def choices(self):
        vocabulary = self.vocabulary()
        return zip(vocabulary.keys, vocabulary.labels, strict=True)


class YearFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField  # a year is a whole number: "2015.5" is not one

    def mask(self, index, value):
        compare = np.greater_equal if self.lookup_expr == "gte" else np.less_equal
        return (index.year > 0) & compare(index.year, int(value))


class SearchFilter(django_filters.CharFilter):
    """Full-text matches; when there are none at all, titles that look alike."""

    def mask(self, index, value):
        return index.contains(self.parent.text_matches[0])


class BBoxFilter(django_filters.Filter):
    """The cases whose point (own location, else the capital) lies in the box."""

    field_class = BBoxField

    def mask(self, index, value):
        return value.holds(index.latitude, index.longitude)


class SortFilter(django_filters.ChoiceFilter):
    """Orders the cases: by relevance when searching, else by one of the index's orders."""

    def __init__(self, *, labels, **kwargs):
        super().__init__(choices=list(labels.items()), empty_label=None, **kwargs)


class InnovationFilter(django_filters.FilterSet):
    q = SearchFilter(label=_("Search"), max_length=200, strip=True)
    country = VocabularyFilter(normalise=str.upper, label=_("Country"))
    level = FacetFilter(choices=Innovation.Level.choices, label=_("Level of government"))
    sector = VocabularyFilter(field_name="sectors", label=_("Sector"))
    year_from = YearFilter(
        field_name="year",
        lookup_expr="gte",
        label=_("Launched from"),
        min_value=FIRST_YEAR,
        max_value=9999,
    )
    year_to = YearFilter(
        field_name="year",
        lookup_expr="lte",
        label=_("Launched until"),
        min_value=FIRST_YEAR,
        max_value=9999,
    )
    stage = VocabularyFilter(field_name="stages", label=_("Stage of innovation"))
    recognition = VocabularyFilter(field_name="recognitions", label=_("Recognition"))
    tag = VocabularyFilter(field_name="tags", label=_("Tag"))
    bbox = BBoxFilter(label=_("Area"))
    sort = SortFilter(
        labels={
            "relevance": _("Relevance"),  # only when searching
            "newest": _("Newest launch"),
            "added": _("Recently added"),
            "title": _("Title A–Z"),
        },
        label=_("Sort by"),
    )

    # The facets a person picks from; the year facet is the pair year_from/year_to.
    FACETS = ("country", "level", "sector", "year", "stage", "recognition", "tag")

    class Meta:
        model = Innovation
        fields = []

    def __init__(self, data=None, *, index=None, **kwargs):
        super().__init__(data, queryset=Innovation.objects.none(), **kwargs)
        if index is not None:
            self.index = index
        # Each filter points back at the FilterSet: weakly, so that a page's FilterSet,
        # its masks and the index it read go when the page is done, rather than when
        # Python's cycle collector next runs, which may be many pages and reloads later.
        for filter_ in self.filters.values():
            filter_.parent = weakref.proxy(self)
        self.combined = {}  # the masks of the sets of filters that mask() has combined

    @cached_property
    def text_matches(self):
        """The published cases that the search text finds: their ids (ascending) and
        ranks, and whether similar titles stand in because the text matches nothing.

        Worked out once per version of the catalogue: refining a search (a facet, the
        next page, another order) does not search again."""
        text = self.cleaned_data.get("q")
        return self.index.remember(("q", text), lambda: self.find_text(text))

    def find_text(self, text):
        # Every case's vector is searched, and the matches that the index holds are
        # kept: the published cases.
        ids, ranks = self.published(*search.matches(text, self.index.postings))
        fallback = not len(ids)
        if fallback:
            ids, ranks = self.published(*search.similar_titles(text))
        ids.flags.writeable = ranks.flags.writeable = False  # shared by later requests
        return ids, ranks, fallback

    def published(self, ids, ranks):
        """The ids and ranks of the published cases among these."""
        published = self.index.holds(ids)
        return ids[published], ranks[published]

    def relevance(self, ids):
        """How well each of these matching cases matches the search text."""
        matched, ranks, _fallback = self.text_matches
        return ranks[np.searchsorted(matched, ids)]

    @property
    def is_fallback(self):
        return bool(self.cleaned_data.get("q")) and self.text_matches[2]

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

    @cached_property
    def index(self):
        return current_index()

    @cached_property
    def masks(self):
        """Each active filter's own selection of the index's cases."""
        return {
            name: self.filters[name].mask(self.index, value)
            for name, value in self.cleaned_data.items()
            if name != "sort" and value not in (None, "", [])
        }

    def mask(self, without=None):
        """Which cases of the index match every filter except `without`'s own: worked
        out once for each set of filters (a facet that is not in use counts under all
        of them, as the results do)."""
        own = {"year_from", "year_to"} if without == "year" else {without}
        names = tuple(name for name in self.masks if name not in own)
        if names not in self.combined:
            self.combined[names] = self.combine(names)
        return self.combined[names]

    def combine(self, names):
        """The cases that every filter in `names` selects, read-only."""
        if not names:
            return self.index.every_case
        first, *others = (self.masks[name] for name in names)
        mask = first.copy()
        for selection in others:
            mask &= selection
        mask.flags.writeable = False  # shared by the facets counted under it
        return mask

    @cached_property
    def ordered_ids(self):
        """The ids of the matching cases, in the order in force."""
        index, mask = self.index, self.mask()
        if self.order != "relevance":
            return index.ordered_ids(mask, self.order)
        # The most relevant first; as relevant, newest launch first.
        ids = index.ordered_ids(mask, "newest")
        return ids[np.argsort(-self.relevance(ids), kind="stable")]

    def cases(self, ids):
        """The cases with these ids, in that order, ready to show: with a snippet of the
        search text, and their terms (`case.terms`) read from the index."""
        return rows.in_order(self.index, ids, text=self.cleaned_data.get("q"))

    @property
    def notices(self):
        """What was ignored, in words a person can act on."""
        self.errors  # noqa: B018
        notices = []
        # Titles that look alike stand in for a search that matches nothing; offered
        # only when some of them pass the other filters.
        if self.is_fallback and self.mask().any():
            notices.append(
                _("Nothing matches “%(text)s” exactly. Did you mean one of these?")
                % {"text": printable(self.cleaned_data["q"])}
            )
        for name, field in self.form.fields.items():
            label = field.label
            for value in getattr(field, "ignored", []):
                notices.append(
                    _("%(label)s: “%(value)s” is not a known value and was ignored.")
                    % {"label": label, "value": printable(value)}
                )
            if getattr(field, "beyond", 0):
                notices.append(
                    _("%(label)s: only the first %(used)d values were used.")
                    % {"label": label, "used": MAX_VALUES}
                )
            if name in self.form.errors:
                # The field's own words say what was wrong ("Enter a whole number.").
                notices.append(
                    _("%(label)s: the value given was not understood and was ignored.")
                    % {"label": label}
                    + " "
                    + " ".join(self.form.errors[name])
                )
        first, last = self.cleaned_data.get("year_from"), self.cleaned_data.get("year_to")
        if first is not None and last is not None and first > last:
            notices.append(
                _("“%(from)s” %(first)d is later than “%(until)s” %(last)d: no case can match.")
                % {
                    "from": self.filters["year_from"].label,
                    "first": first,
                    "until": self.filters["year_to"].label,
                    "last": last,
                }
            )
        return notices
