"""apscheduler's per-run log lines ("Running job ...", "... executed successfully") at DEBUG instead of INFO.

Part of the service room. With a poll every few seconds these lines were nine in ten of
the service's INFO log; they say nothing an operator acts on.
"""

from __future__ import annotations

import logging

CHATTY_LOGGERS = ("apscheduler.executors.default",)


class DemoteToDebug(logging.Filter):
    """Turns a logger's INFO records into DEBUG records, and drops them unless DEBUG is enabled.

    A logger filter runs after the logger's own level check (done for INFO), so the record
    must be dropped here when its new level would not have passed.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Demote an INFO record; keep it only where DEBUG is enabled. Other levels pass unchanged."""
        if record.levelno != logging.INFO:
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def quiet_scheduler_logs() -> None:
    """Put DemoteToDebug on apscheduler's per-run loggers (once, however often it is called)."""
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, DemoteToDebug) for f in logger.filters):
            logger.addFilter(DemoteToDebug())
