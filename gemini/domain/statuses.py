"""The statuses of a tracked run. A run recorded with ``create`` has none (``None``).

A tracked run is ``running`` until it ends ``finished``, ``failed`` or ``killed``; a ``running`` run
whose heartbeat is older than ``GEMINI_HEARTBEAT_TIMEOUT`` seconds is reported as ``lost``, which is
never stored.
"""

RUNNING = "running"
FINISHED = "finished"
FAILED = "failed"
KILLED = "killed"
LOST = "lost"

END_STATUSES = (FINISHED, FAILED, KILLED)
"""What a run may be ended with."""
STORED_STATUSES = (RUNNING, *END_STATUSES)
"""What the database holds (and an export carries)."""
RUN_STATUSES = (RUNNING, *END_STATUSES, LOST)
"""Every status a run can be reported with, and searched by (``status = 'lost'``)."""
