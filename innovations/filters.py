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

import django_filters
import numpy as np
from django import forms
from django.db.models import F
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .index import get_index
from .models import FIRST_YEAR, Innovation, SearchDocument

MAX_VALUES = 50


def split_values(raw, normalise):
    """Flatten repeated and comma-separated values, normalised and without repeats."""
    values = []
    for item in raw or []:
        for part in str(item).split(","):
            part = normalise(part.strip())
            if part and part not in values:
                values.append(part)
    return values


def id_and_rank_arrays(rows):
    """Arrays of the ids and of the ranks in (id, rank) rows."""
    rows = list(rows)
    return (
        np.array([pk for pk, _rank in rows], dtype=np.int64),
        np.array([rank for _pk, rank in rows], dtype=float),
    )


class LenientMultipleChoiceField(forms.MultipleChoiceField):
    """A multiple choice that keeps the known values and sets the unknown aside."""

    def __init__(self, *args, normalise=str.lower, **kwargs):
        self.normalise = normalise
        self.ignored = []
        super().__init__(*args, **kwargs)

    def clean(self, value):
        values = split_values(value, self.normalise)
        if not values:
            return []
        known = {str(key) for key, _label in self.choices}
        self.ignored = [v for v in values if v not in known]
        return [v for v in values if v in known][:MAX_VALUES]


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
    """A facet over a vocabulary table, whose terms the catalogue's index holds: the
    values are checked without a query (and the index read only when there are some)."""

    @property
    def field(self):
        if not hasattr(self, "_field"):
            # A function rather than the bound method, which the form would deep-copy
            # along with this filter and its filterset.
            self.extra["choices"] = lambda: self.choices()
        return super().field

    def choices(self):
        vocabulary = self.parent.index.vocabularies[self.field_name]
        return zip(vocabulary.keys, vocabulary.labels, strict=True)

    def filter(self, qs, value):
        """Narrows by the terms' primary keys, which the index knows from their keys."""
        if not value:
            return qs
        vocabulary = self.parent.index.vocabularies[self.field_name]
        return super().filter(qs, [vocabulary.pks[vocabulary.position[key]] for key in value])


class YearFilter(django_filters.NumberFilter):
    def mask(self, index, value):
        compare = np.greater_equal if self.lookup_expr == "gte" else np.less_equal
        return (index.year > 0) & compare(index.year, int(value))


class SearchFilter(django_filters.CharFilter):
    """Full-text matches; when there are none at all, titles that look alike."""

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.similar_titles(value) if self.parent.is_fallback else qs.search(value)

    def mask(self, index, value):
        return index.contains(self.parent.text_matches[0])


class SortFilter(django_filters.ChoiceFilter):
    """Orders the cases: by relevance when searching, else by the chosen order."""

    def __init__(self, *, orders, **kwargs):
        self.orders = orders
        self.static_orders = {
            key: fields for key, (_label, fields) in orders.items() if key != "relevance"
        }
        choices = [(key, label) for key, (label, _fields) in orders.items()]
        super().__init__(choices=choices, empty_label=None, **kwargs)

    def filter(self, qs, value):
        return qs.order_by(*self.orders[self.parent.order][1])


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
    sort = SortFilter(
        orders={
            "relevance": (_("Relevance"), ["-rank", "pk"]),  # only when searching
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
        # kept: the published cases, which are the filters' queryset.
        ids, ranks = id_and_rank_arrays(SearchDocument.objects.ranked_matches(text))
        published = self.index.holds(ids)
        ids, ranks = ids[published], ranks[published]
        fallback = not len(ids)
        if fallback:
            found = self.queryset.similar_titles(text).values_list("pk", "rank")
            ids, ranks = id_and_rank_arrays(found)
        order = np.argsort(ids)
        ids, ranks = ids[order], ranks[order]
        ids.flags.writeable = ranks.flags.writeable = False  # shared by later requests
        return ids, ranks, fallback

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

    @classmethod
    def catalogue_index(cls):
        """This process's index of the published catalogue, current as of now."""
        return get_index(cls.base_filters["sort"].static_orders)

    @cached_property
    def index(self):
        return self.catalogue_index()

    @cached_property
    def masks(self):
        """Each active filter's own selection of the index's cases."""
        return {
            name: self.filters[name].mask(self.index, value)
            for name, value in self.cleaned_data.items()
            if name != "sort" and value not in (None, "", [])
        }

    def mask(self, without=None):
        """Which cases of the index match every filter except `without`'s own."""
        own = {"year_from", "year_to"} if without == "year" else {without}
        mask = np.ones(len(self.index), dtype=bool)
        for name, selection in self.masks.items():
            if name not in own:
                mask &= selection
        return mask

    @cached_property
    def ordered_ids(self):
        """The ids of the matching cases, in the order in force."""
        index, mask = self.index, self.mask()
        if self.order != "relevance":
            return index.ids[index.ordered(mask, self.order)]
        ids = index.ids[mask]
        return ids[np.lexsort((ids, -self.relevance(ids)))]

    def cases(self, ids):
        """The cases with these ids, in that order, ready to show: with a snippet of the
        search text, and their terms (`case.terms`) read from the index."""
        cases = self.queryset.in_order_of_ids(ids, text=self.cleaned_data.get("q"))
        terms = self.index.terms_of([case.pk for case in cases])
        for case in cases:
            case.terms = terms[case.pk]
        return cases

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
