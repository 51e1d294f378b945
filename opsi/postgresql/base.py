"""Django's PostgreSQL backend, with a limit on how long the site waits for an answer.

`statement_timeout` is enforced by the server, so a server that has frozen (stopped,
swapped out, behind a proxy or a network path that holds packets) never enforces it,
and libpq has no read timeout of its own: a request holding an open connection would
wait for as long as the server stays frozen. TCP keepalives and `tcp_user_timeout` do
not notice either, as long as the peer's kernel still acknowledges what is sent.

So the client keeps a deadline of its own: each exchange with the server (a query, a
fetch, a commit, the health check) waits at most the connection's `answer_timeout`
seconds (OPTIONS["answer_timeout"]; None waits for ever). Then the connection, which is
left in the middle of an exchange, is closed and the exchange raises OperationalError,
which the site answers with its 503 page; the next request opens a new connection.
"""

import select
from contextlib import contextmanager

import psycopg
from django.db.backends.postgresql import base


class Connection(psycopg.Connection):
    answer_timeout = None

    def wait(self, gen, *args, timeout=None, **kwargs):
        if timeout is not None or self.answer_timeout is None:
            return super().wait(gen, *args, timeout=timeout, **kwargs)
        try:
            return super().wait(gen, *args, timeout=self.answer_timeout, **kwargs)
        except psycopg.errors._WaitTimeout as silence:
            self.close()
            raise psycopg.OperationalError(
                f"the database did not answer within {self.answer_timeout} s"
            ) from silence


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        params.pop("answer_timeout", None)
        return params

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        connection.__class__ = Connection  # psycopg.connect() takes no connection class
        connection.answer_timeout = self.settings_dict["OPTIONS"].get("answer_timeout")
        return connection

    @property
    def answer_timeout(self):
        return getattr(self.connection, "answer_timeout", None)

    @answer_timeout.setter
    def answer_timeout(self, seconds):
        """How long each exchange may wait, from now on, on the open connection."""
        if self.connection is not None:
            self.connection.answer_timeout = seconds

    @contextmanager
    def answer_within(self, seconds):
        """Each exchange inside the block waits up to `seconds` (None: for ever)."""
        waits = self.answer_timeout
        self.answer_timeout = seconds
        try:
            yield
        finally:
            self.answer_timeout = waits

    def binary_cursor(self):
        """A cursor whose answers come in PostgreSQL's binary format, its values bound by
        the server: Django's cursors bind them on the client, and such cursors take every
        answer as text, in which bytes travel as hex, twice their size. Wrapped as Django
        wraps its own, so that its queries are logged and its errors are Django's."""
        self.ensure_connection()
        cursor = psycopg.Cursor(self.connection)
        cursor.format = psycopg.pq.Format.BINARY
        return self._prepare_cursor(cursor)

    def close_if_health_check_failed(self):
        """Django checks a kept connection before each request's first query by running
        SELECT 1, a round trip on every page. A server that ends a connection (when it
        restarts, or an administrator ends the session) first says so on it, so an idle
        connection with nothing to read is taken as usable; only one with something to
        read is checked with the query."""
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.connection.closed
            and not has_something_to_read(self.connection.fileno())
        ):
            self.health_check_done = True
        super().close_if_health_check_failed()

    def is_usable(self):
        """The health check of a kept connection: a server that is there answers
        SELECT 1 at once, so it is given as long as connecting is, no longer."""
        waits = self.answer_timeout
        if waits is not None:
            self.answer_timeout = min(
                waits, self.settings_dict["OPTIONS"].get("connect_timeout") or waits
            )
        try:
            return super().is_usable()
        finally:
            self.answer_timeout = waits


def has_something_to_read(descriptor):
    """Whether a socket holds data or its end, without waiting."""
    poller = select.poll()
    poller.register(descriptor, select.POLLIN)
    return bool(poller.poll(0))
