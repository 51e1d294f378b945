"""Work that can wait: it runs in the task worker (`manage.py db_worker`), never in a request.

A request only stores the task, in the same transaction as the change it is about, so
a case is never stored without its email and a mail server that is slow or down never
holds up a visitor or an editor.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from .catalogue import postings
from .models import Submission

logger = logging.getLogger(__name__)


def retry_delay(attempt):
    """Seconds to wait after failed attempt number `attempt`: doubling each time."""
    return settings.EMAIL_RETRY_SECONDS * 2 ** (attempt - 1)


@task
def email_submitter(submission_id, status, note="", attempt=1):
    """Email the submitter of a case about its new `status`; if the mail server fails,
    try again later, waiting twice as long each time, up to EMAIL_ATTEMPTS times."""
    submission = Submission.objects.select_related("innovation").filter(pk=submission_id).first()
    if submission is None:  # the case was deleted meanwhile: nobody to tell
        return "gone"
    try:
        submission.notify(status, note)
    except OSError as error:  # smtplib's errors are OSErrors too
        if attempt >= settings.EMAIL_ATTEMPTS:
            logger.error(
                "Gave up emailing the submitter of case %s after %d attempts: %s",
                submission.innovation_id,
                attempt,
                error,
            )
            raise
        delay = retry_delay(attempt)
        logger.warning(
            "Could not email the submitter of case %s (%s); trying again in %d s.",
            submission.innovation_id,
            error,
            delay,
        )
        email_submitter.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(
            submission_id, status, note, attempt + 1
        )
        return "retrying"
    return "sent"


@task
def build_search_postings():
    """Build the common words' search postings again: a process queues it when those
    stored are too old to bring up to date."""
    return postings.build()
