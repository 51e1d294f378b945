"""The postings of common words, in memory: which cases hold each word that is in at
least COMMON of them, so that a search for such words reads no vector.

PostgreSQL finds a rare word's few cases quickly through its GIN index, but for a word
in thousands of cases it reads every one of their rows. The few thousand words found in
at least COMMON of the cases hold nearly all of the catalogue's postings. Theirs are
built off the request path (`build()`, `manage.py build_search_postings`), in one
snapshot, which is stored with them. A process reads them once and brings them up to
date as it does its catalogue index: the cases whose changes the build did not see are
read again (`changed_since()`, `patched()`). A search of words joined by and, or and
not is answered from them (`matching()`), with the cases of its rare words, if any,
from PostgreSQL, which finds a rare word's few cases quickly; a phrase or a prefix is
left to PostgreSQL.
"""

import dataclasses
import math
import re

import numpy as np
from django.contrib.postgres.fields import ArrayField
from django.db import connection, transaction
from django.db.models import F, Func, TextField
from django.utils import timezone

from ..models import SearchDocument, SearchPosting, SearchPostingsBuild
from .index import among, binary_array, bitset_bytes

# A word in at least this share of the cases has its postings built.
COMMON = 0.01
# Case ids past the highest when the postings were built, which they leave room for.
HEADROOM = 1 << 16
# The key of the advisory lock that one build at a time holds.
BUILDING = 0x6F707369  # "opsi"

STAMP = """
SELECT pg_current_snapshot()::text,
       coalesce(pg_current_xact_id_if_assigned()::text, ''),
       coalesce((SELECT max(id) FROM innovations_catalogue_change), 0),
       coalesce(max(innovation_id), 0),
       count(*)
FROM innovations_searchdocument
"""

COMMON_WORDS = """
SELECT coalesce(array_agg(word), '{}')
FROM ts_stat('SELECT vector FROM innovations_searchdocument')
WHERE ndoc >= %s
"""

POSTINGS = """
SELECT word.lexeme, array_send(array_agg(document.innovation_id))
FROM innovations_searchdocument AS document,
     unnest(document.vector) AS word(lexeme, positions, weights)
WHERE word.lexeme = ANY(%s::text[])
GROUP BY word.lexeme
"""

# The cases whose changes a build did not see: written by a transaction still running
# when its snapshot was taken or begun after it, or later in its own.
UNSEEN = """
SELECT coalesce(array_agg(DISTINCT innovation_id) FILTER (WHERE innovation_id IS NOT NULL),
                '{}'),
       coalesce(bool_or(innovation_id IS NULL), false),
       (SELECT through FROM innovations_catalogue_pruned)
           >= pg_snapshot_xmin(%(snapshot)s::pg_snapshot)
FROM innovations_catalogue_change
WHERE id > %(last_change)s
   OR (xid >= pg_snapshot_xmin(%(snapshot)s::pg_snapshot)
       AND NOT pg_visible_in_snapshot(xid, %(snapshot)s::pg_snapshot)
       AND xid::text <> %(own)s)
"""


def build():
    """Build the postings of the common words from every case's vector, in one
    snapshot. How many words were posted, or None where another build was running."""
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [BUILDING])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(STAMP)
        snapshot, own, last_change, highest, documents = cursor.fetchone()
        width = bitset_bytes(highest + 1 + HEADROOM) * 8
        cursor.execute(COMMON_WORDS, [max(1, math.ceil(COMMON * documents))])
        common = cursor.fetchone()[0]
        SearchPosting.objects.all().delete()
        # A row a word, as PostgreSQL finishes them: all of them at once would be
        # several times the postings' size at a million cases.
        with connection.connection.cursor(name="postings", binary=True) as rows:
            rows.itersize = 64
            rows.execute(POSTINGS, [common])
            batch = []
            for lexeme, data in rows:
                batch.append(posting(lexeme, binary_array(data, "i8"), width))
                if len(batch) == rows.itersize:
                    SearchPosting.objects.bulk_create(batch)
                    batch = []
            SearchPosting.objects.bulk_create(batch)
        SearchPostingsBuild.objects.update_or_create(
            one=True,
            defaults={
                "snapshot": snapshot,
                "last_change": last_change,
                "transaction": own,
                "width": width,
                "built": timezone.now(),
            },
        )
        return len(common)


def posting(lexeme, cases, width):
    """A SearchPosting of these case ids: as bits, or as the ids where they take less."""
    if len(cases) * 4 < width // 8:
        return SearchPosting(
            lexeme=lexeme, packed=False, cases=np.sort(cases).astype("<i4").tobytes()
        )
    bits = np.zeros(width, dtype=bool)
    bits[cases] = True
    return SearchPosting(lexeme=lexeme, packed=True, cases=np.packbits(bits).tobytes())


def built():
    """When the stored postings were built, or None if they never were."""
    return SearchPostingsBuild.objects.values_list("built", flat=True).first()


@dataclasses.dataclass(frozen=True)
class Postings:
    """Common words' cases, by word: a packed bitset over case ids (uint8) or the ids,
    ascending (int32). Never changed in place: `patched()` copies the words it changes,
    so that the readers of an older catalogue index are never disturbed."""

    words: dict
    width: int  # bits in each packed posting
    snapshot: str  # the build's
    last_change: int
    own: str  # the build's own transaction, if it had written before it
    built: object  # when

    @classmethod
    def read(cls):
        """The postings as last built, in one snapshot, or None if they never were."""
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if outermost:
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            build = SearchPostingsBuild.objects.first()
            if build is None:
                return None
            # A few words at a time: the driver's buffer for all of them at once would
            # stay in the process, freed but resident, as large as the postings.
            with connection.connection.cursor(name="postings", binary=True) as rows:
                rows.itersize = 32
                rows.execute("SELECT lexeme, packed, cases FROM innovations_searchposting")
                words = {
                    lexeme: np.frombuffer(data, dtype=np.uint8 if packed else "<i4")
                    for lexeme, packed, data in rows
                }
        return cls(
            words, build.width, build.snapshot, build.last_change, build.transaction, build.built
        )

    def changed_since(self):
        """The ids of the cases that may have changed since the build, or None when the
        postings can no longer be brought up to date: a vocabulary term or a country
        was renamed (its name is in the vectors of all of its cases), or the change log
        was pruned of rows the build did not see."""
        with connection.cursor() as cursor:
            cursor.execute(
                UNSEEN,
                {"snapshot": self.snapshot, "last_change": self.last_change, "own": self.own},
            )
            cases, renamed, pruned = cursor.fetchone()
        return None if renamed or pruned else np.array(cases, dtype=np.int64)

    def patched(self, changed):
        """These postings with the cases whose ids are in `changed` read again, or None
        if one of them lies past the postings' width."""
        changed = np.unique(np.asarray(changed, dtype=np.int64))
        if not len(changed):
            return self
        if changed[-1] >= self.width:
            return None
        vectors = SearchDocument.objects.filter(innovation_id__in=among(changed))
        holding = {}  # word -> the changed cases that hold it now
        for case, lexemes in vectors.values_list(
            "innovation_id",
            Func(F("vector"), function="tsvector_to_array", output_field=ArrayField(TextField())),
        ):
            for lexeme in lexemes:
                if lexeme in self.words:
                    holding.setdefault(lexeme, []).append(case)
        words = dict(self.words)
        for lexeme, cases in self.words.items():
            wanted = np.isin(changed, holding.get(lexeme, ()))
            if cases.dtype == np.uint8:
                held = (cases[changed >> 3] >> (7 - (changed & 7)).astype(np.uint8)) & 1
                if np.array_equal(held.astype(bool), wanted):
                    continue
                cases = cases.copy()
                cases[changed >> 3] &= ~(128 >> (changed & 7)).astype(np.uint8)
                chosen = changed[wanted]
                np.bitwise_or.at(cases, chosen >> 3, (128 >> (chosen & 7)).astype(np.uint8))
            else:
                if np.array_equal(np.isin(changed, cases), wanted):
                    continue
                kept = cases[~np.isin(cases, changed)]
                cases = np.union1d(kept, changed[wanted]).astype("<i4")
            cases.flags.writeable = False
            words[lexeme] = cases
        return dataclasses.replace(self, words=words)

    def matching(self, written, elsewhere):
        """The ids, ascending, of the cases that a query finds, given as the text of a
        tsquery (`'open' & !'budget' | 'dat'`), whatever their status, and with a `!`
        ids of no case too: the catalogue index keeps the published cases. The cases of
        the words these postings do not hold come from `elsewhere(words)`, as {word:
        ids}: those words are rare, or new. None if the query has anything but words,
        and, or, not and parentheses (a phrase, a prefix)."""
        try:
            parser = Parser(written)
            tree = parser.query()
        except Unanswerable:
            return None
        if tree is None:
            return np.zeros(0, dtype=np.int64)  # only stop words: nothing matches
        missing = sorted(parser.words - self.words.keys())
        found = elsewhere(missing) if missing else {}
        size = max([self.width, *(int(ids.max()) + 1 for ids in found.values() if len(ids))])
        return np.flatnonzero(self.evaluate(tree, found, size))

    def evaluate(self, tree, found, size):
        """The cases of the query `tree` as a mask over ids below `size`."""
        operator, *operands = tree
        if operator == "word":
            cases = self.words.get(operands[0], found.get(operands[0]))
            if cases.dtype == np.uint8:
                return np.unpackbits(cases, count=size).view(bool)
            having = np.zeros(size, dtype=bool)
            having[cases] = True
            return having
        if operator == "not":
            return ~self.evaluate(operands[0], found, size)
        first, second = (self.evaluate(operand, found, size) for operand in operands)
        return first & second if operator == "and" else first | second


class Unanswerable(Exception):
    """A query that the postings cannot answer."""


# A tsquery's text, as PostgreSQL writes it: quoted words (a quote or a backslash in
# one doubled), operators and parentheses.
TOKEN = re.compile(r"\s*(?:'((?:[^'\\]|''|\\\\)*)'|(\S))")


class Parser:
    """A tsquery's text as a tree of ("word", lexeme), ("not", tree), ("and" or "or",
    tree, tree), and the set of its `words`; `!` binds tighter than `&`, and `&` than
    `|`."""

    def __init__(self, text):
        self.words = set()
        self.tokens = []
        position = 0
        text = text.rstrip()
        while position < len(text):
            match = TOKEN.match(text, position)
            if match is None:
                raise Unanswerable(text)
            word, operator = match.groups()
            if word is not None:
                self.tokens.append(("word", word.replace("''", "'").replace("\\\\", "\\")))
            elif operator in "&|!()":
                self.tokens.append((operator, None))
            else:  # a phrase's <->, or a word's :* or weights
                raise Unanswerable(text)
            position = match.end()
        self.position = 0

    def query(self):
        if not self.tokens:
            return None
        tree = self.either()
        if self.position != len(self.tokens):
            raise Unanswerable("trailing tokens")
        return tree

    def peek(self):
        return self.tokens[self.position][0] if self.position < len(self.tokens) else None

    def take(self, kind):
        if self.peek() != kind:
            raise Unanswerable(f"expected {kind}")
        self.position += 1
        return self.tokens[self.position - 1][1]

    def either(self):
        tree = self.both()
        while self.peek() == "|":
            self.take("|")
            tree = ("or", tree, self.both())
        return tree

    def both(self):
        tree = self.single()
        while self.peek() == "&":
            self.take("&")
            tree = ("and", tree, self.single())
        return tree

    def single(self):
        if self.peek() == "!":
            self.take("!")
            return ("not", self.single())
        if self.peek() == "(":
            self.take("(")
            tree = self.either()
            self.take(")")
            return tree
        word = self.take("word")
        self.words.add(word)
        return ("word", word)
