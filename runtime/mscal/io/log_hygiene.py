"""Log records of the runtime and of the HTTP clients under it, scrubbed: httpx2 logs every
request's URL at INFO (an upload URL carries `authtoken=` in its query), and a retry's reason
quotes what the server sent. A filter on each of those loggers masks every credential the
process knows and every credential parameter of a URL before any handler sees the record."""

from __future__ import annotations

import logging

from mscal.secret import scrub

# The loggers whose records may carry a URL, a header or a server's words: ours, httpx2's and
# httpx's (authlib's token requests), and httpcore's at DEBUG (it logs response headers). A
# filter applies only to its own logger's records, not its children's, so each is named.
_TRANSPORT = ("connection", "http11", "http2", "proxy", "socks")
LOGGERS = (
    "mscal.retry",
    "mscal.auth",
    "httpx2",
    "httpx",
    *(f"{core}.{part}" for core in ("httpcore2", "httpcore") for part in _TRANSPORT),
)


class ScrubFilter(logging.Filter):
    """Rewrites a record's message when scrubbing changes it; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to logging's own report
            return True
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTER = ScrubFilter()


def install() -> None:
    """Attach the filter to each logger once (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
