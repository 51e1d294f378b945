"""Each process's catalogue index, as fresh as the database, for every request.

Writers never wait for one another here: whenever a write changes what the public sees,
a trigger appends a row to the change log in the writer's own transaction (migration
0010). Before it answers, a request asks for the rows its process has not applied yet,
in one small query, and applies them: a few changed cases are patched into the index,
anything larger (a bulk import, a renamed vocabulary term) loads it again. One thread
per process does the work; the others wait for it rather than each doing it again.

Rows become visible in the order their transactions commit, not in the order of their
ids: a long import writes its rows early and commits late. So a process keeps its
horizon, the oldest transaction still running when it last looked: a row written by an
older transaction was visible then or never will be. It asks for the rows from that
horizon on, less those it has applied. A request therefore never answers from data older
than the last write committed before it began.

Snapshots see nested sets of committed rows (what one sees, every later one sees too),
so the number of rows a snapshot sees names the catalogue's state, the same in every
process and on every server: that number is the index's `version`, which pages put in
their ETags. Pruning (`prune()`) deletes old rows and adds them to a count it keeps, so
the version stays what it was; a process that looked last before the rows it deleted
were written loads its index again, as it may have missed one of them.

The common words' search postings (postings.py) follow the index: each patch patches
them, and after a load the refresh thread gives the new index the stored postings,
with the cases changed since they were built read again.
"""

import gc
import logging
import os
import threading
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction

from ..tasks import build_search_postings
from . import postings
from .index import load

logger = logging.getLogger(__name__)

# More changed cases than this at once, and the index is loaded again.
PATCH_LIMIT = 1000
# More cases changed since the search postings were built than this, and they are
# built again.
POSTINGS_PATCH_LIMIT = 10_000

NEW_CHANGES = """
SELECT pg_snapshot_xmin(pg_current_snapshot())::text,
       array_agg(id), array_agg(xid::text), array_agg(innovation_id),
       (SELECT through::text FROM innovations_catalogue_pruned)
FROM innovations_catalogue_change
WHERE xid >= %s::xid8 AND id <> ALL(%s::bigint[])
"""

EVERY_CHANGE = """
SELECT pg_snapshot_xmin(pg_current_snapshot())::text,
       count(*) + (SELECT changes FROM innovations_catalogue_pruned),
       array_agg(id) FILTER (WHERE xid >= pg_snapshot_xmin(pg_current_snapshot())),
       array_agg(xid::text) FILTER (WHERE xid >= pg_snapshot_xmin(pg_current_snapshot()))
FROM innovations_catalogue_change
"""

# The committed rows older than the given age are deleted and counted, in one statement.
PRUNE = """
WITH gone AS (
    DELETE FROM innovations_catalogue_change WHERE recorded < now() - %s
    RETURNING xid
)
UPDATE innovations_catalogue_pruned
SET changes = changes + (SELECT count(*) FROM gone),
    through = greatest(through, (SELECT max(xid) FROM gone))
RETURNING (SELECT count(*) FROM gone)
"""


class Catalogue:
    """One process's index, with its horizon and the changes applied from the horizon on."""

    def __init__(self):
        self.index = None
        # (horizon, {change id: the writer's transaction id}): replaced whole, never
        # changed in place, so that a thread reading it unlocked sees a matching pair.
        self.seen = (0, {})
        self.lock = threading.Lock()
        self.stored = None  # the search postings as last read, before any change
        self.queued = None  # the postings build found wanting, whose rebuild is queued

    def current(self, patch_only=False):
        """The index, brought up to date with every change committed before now. With
        `patch_only`, nothing that needs a full load is done (the index as it is, None
        if none is loaded): a load holds the lock, and every request with it, for as
        long as its queries may take, which for a frozen database is the admin's limit."""
        if self.index is None and patch_only:
            return None
        if self.index is not None:
            horizon, changes, pruned = self.new_changes()
            if not changes and not self.missed(pruned):
                # Every change before the new horizon has been applied: forget them.
                if horizon > self.seen[0]:
                    with self.lock:
                        self.move_horizon(horizon, {})
                return self.index
        with self.lock:
            if self.index is None:
                self.load()
            else:
                self.catch_up(patch_only)
            return self.index

    def new_changes(self):
        horizon, applied = self.seen
        with connection.cursor() as cursor:
            cursor.execute(NEW_CHANGES, [str(horizon), list(applied)])
            horizon, ids, xids, cases, pruned = cursor.fetchone()
        changes = list(zip(ids or [], map(int, xids or []), cases or [], strict=True))
        return int(horizon), changes, int(pruned)

    def missed(self, pruned):
        """Whether rows that this process may not have applied were pruned: those of
        transactions up to `pruned`, if it last looked before them."""
        return pruned >= self.seen[0]

    def catch_up(self, patch_only=False):
        """Bring the index up to date; whether it is (with `patch_only`, it is left as it
        was where it needs a full load)."""
        with snapshot():
            horizon, changes, pruned = self.new_changes()
            cases = {case for _id, _xid, case in changes}
            if None in cases or len(cases) > PATCH_LIMIT or self.missed(pruned):
                if patch_only:
                    return False
                self.load()
                return True
            if changes:
                self.index = self.index.patched(self.index.version + len(changes), cases)
            self.move_horizon(horizon, {change: xid for change, xid, _case in changes})
            return True

    def attach_postings(self):
        """Give the index the common words' search postings, brought up to date with it,
        if it has none (it was just loaded): in the refresh thread, never in a request.
        Where none are stored, or they are too old to bring up to date, a build of them
        is queued, and PostgreSQL answers every search meanwhile."""
        if self.index is None or self.index.postings is not None:
            return
        stamp = postings.built()
        if stamp is None:
            return self.queue_build(stamp)
        if self.stored is None or self.stored.built != stamp:
            with snapshot():  # unlocked: it takes a while
                self.stored = postings.Postings.read()
        with self.lock, snapshot():
            if not self.catch_up(patch_only=True):
                return None  # the next request loads the index again
            changed = self.stored and self.stored.changed_since()
            if changed is None or len(changed) > POSTINGS_PATCH_LIMIT:
                return self.queue_build(stamp)
            fresh = self.stored.patched(changed)
            if fresh is None:  # a case added past their width
                return self.queue_build(stamp)
            self.index = self.index.with_postings(fresh)

    def queue_build(self, stamp):
        """Have the task worker build the postings again, once for each build found
        wanting."""
        if self.queued != (stamp,):
            self.queued = (stamp,)
            build_search_postings.enqueue()

    def load(self):
        # Loading reads the whole catalogue, which takes longer than any query a page
        # makes: it has the admin's limit, on the server's side for this transaction
        # only, and on how long this process waits for each answer.
        limit = settings.DATABASE_ADMIN_TIMEOUT
        waits = limit + settings.ANSWER_GRACE if limit else None
        with snapshot(), connection.cursor() as cursor, connection.answer_within(waits):
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{limit}s"])
            cursor.execute(EVERY_CHANGE)
            horizon, version, ids, xids = cursor.fetchone()
            self.index = load(version)
            self.seen = (0, {})
            self.move_horizon(int(horizon), dict(zip(ids or [], map(int, xids or []), strict=True)))

    def move_horizon(self, horizon, applied):
        """Record the changes just `applied`, and forget those older than the horizon
        (which never moves back)."""
        horizon = max(horizon, self.seen[0])
        applied = self.seen[1] | applied
        self.seen = (horizon, {change: xid for change, xid in applied.items() if xid >= horizon})


@contextmanager
def snapshot():
    """One snapshot for every query inside, so that the changes read and the rows read
    agree. Inside a transaction already (a write, or a test), that transaction's."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def prune(older_than=timedelta(days=1)):
    """Delete the change log's committed rows older than `older_than`, keeping count
    of them, so that the version stays the same. The number of rows deleted."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(PRUNE, [older_than])
        return cursor.fetchone()[0]


_catalogue = Catalogue()


def current_index():
    """This process's index of the published catalogue, current as of now."""
    return _catalogue.current()


# Pages leave reference cycles behind (a template's context is one), and with them the
# masks they made and the index they read: only Python's cycle collector frees them, and
# it runs when enough objects have been made, not when much memory is held. At a million
# cases a worker grew by hundreds of megabytes of such garbage, more while the catalogue
# changed, as each page held on to the index it had read. So the refresh thread runs the
# collector whenever the process has grown by this much since it last did.
GROWTH_BEFORE_COLLECTING = 64 << 20  # bytes


def resident():
    """This process's resident memory in bytes, or None where Linux's /proc is absent."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return None


def keep_current(every):
    """Patch this process's index with the changes committed every `every` seconds, in
    a thread of its own, until the function returned is called. A change is then
    applied between requests: requests still check for themselves, the thread only gets
    there first. Loads (the first, or after a bulk change) are left to requests: a load
    holds the lock for as long as its queries may take, and requests waiting for it
    could not answer in seconds while the database is away. A round that fails (the
    database down, or slow) is logged, and the next one tries again. Each round also
    collects the garbage that pages left, if the process has grown enough to be worth it.
    """
    stop = threading.Event()

    def refresh():
        collected_at = resident()
        while not stop.wait(every):
            try:
                index = _catalogue.current(patch_only=True)
                if index is not None:
                    index.work_out_shared()
                    _catalogue.attach_postings()
            except Exception:
                logger.warning(
                    "The catalogue index could not be brought up to date.", exc_info=True
                )
                connection.close()
            if collected_at is not None and resident() > collected_at + GROWTH_BEFORE_COLLECTING:
                gc.collect()
                collected_at = resident()
        connection.close()

    thread = threading.Thread(target=refresh, name="catalogue-refresh", daemon=True)
    thread.start()

    def stop_refreshing():
        stop.set()
        thread.join()

    return stop_refreshing


def attach_postings():
    """Give this process's index the search postings, if it has none (`keep_current`
    does, every round)."""
    _catalogue.attach_postings()


def forget():
    """Drop this process's index: the next request loads it again. For a database whose
    history was rewritten under the process (a test's rolled-back transaction)."""
    global _catalogue
    _catalogue = Catalogue()
