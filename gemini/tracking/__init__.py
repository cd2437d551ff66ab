"""The client side of run tracking: what ``ModelRun.track``/``start`` (``gemini.api.tracking``) run on.

Modules, each talking to the registry only through ``gemini.registry.registry()``:

- ``buffer``: ``MetricBuffer``, one run's points not yet written, and the thread that writes them as
  batches (every ``FLUSH_POINTS`` points or ``FLUSH_SECONDS`` seconds);
- ``heartbeat``: ``Heartbeat``, a thread of its own per run this process started, every
  ``HEARTBEAT_SECONDS`` (at most a third of ``GEMINI_HEARTBEAT_TIMEOUT``);
- ``system_metrics``: ``SystemMetrics``, a thread of its own per run this process started that logs the
  machine's CPU, memory and GPUs into the run's buffer every ``GEMINI_SYSTEM_METRICS_INTERVAL`` seconds;
- ``starting``: ``DeferredStart``, the start of a run the registry could not be reached for when the
  training began, tried again until it works;
- ``lifecycle``: the table of active runs, the ``atexit`` hook that ends them, SIGTERM as
  ``RunTerminated``, the last writes of an ending run (``END_ATTEMPTS``), the ``error_type`` of an end;
- ``spool``: the offline spool on disk, ``Spool(server, send)`` per server, used by the HTTP transport
  (``gemini.remote``) for what a server could not take.

Retry policy: who repeats what, and for how long
------------------------------------------------

1. The HTTP layer (``gemini.remote.http``, only with ``GEMINI_API_URL``) repeats one request, with
   exponential backoff (0.25 s doubling up to 8 s, with jitter; a ``Retry-After`` up to 30 s),
   ``GEMINI_API_RETRIES`` times at most: a connection that could not be opened always; a lost answer,
   503 or 429 only for requests safe to repeat (metric batches, which carry their id, heartbeats,
   reads), never for starting or ending a run.
2. The HTTP transport (``gemini.remote.tracking``/``artifacts``) cuts a metric batch into parts that
   fit the limits the server states (``gemini.remote.batches``), and does not raise for a server it cannot
   reach once those repeats are spent (``DatabaseUnavailableError``): a metric batch, an artifact, and
   the end of a run this process started go to the ``spool`` instead, as do a run's later entries while
   it has some waiting (so they arrive in order). A heartbeat is not spooled: it is missed.
3. The spool's background sender (one thread per ``Spool``, started by every ``Spool.add`` and by a
   new tracked run that finds entries waiting) sends the entries oldest first, waiting
   ``BACKGROUND_FIRST_WAIT`` (1 s) before its first pass and twice as long after each pass that left
   entries, up to ``BACKGROUND_MAX_WAIT`` (30 s), until none is left; a pass stops at the first entry the
   server cannot take now. An entry the server refuses for good is marked failed and never retried; a
   409 (run already ended) counts as sent. What the process leaves unsent is sent by the next process
   that tracks a run on that server, or by ``gemini sync``.
4. The ``MetricBuffer`` keeps a batch whose write raised (locally: the database cannot be reached;
   remotely: any error the transport does not spool, e.g. a 500) with its id and its points, in order,
   and tries it again at the next flush: the writer thread's next period (``FLUSH_SECONDS``), the next
   ``flush()``, ``get_metric_history``/``get_metrics``. It keeps trying for as long as the run is
   tracked, with one warning while it fails and one when it works again. A batch the registry refuses
   for good (invalid, its run gone) is not retried as it is: an invalid one is halved until the refused
   points are alone, and those are given up with an error; the run's end then says what is missing.
5. When a run ends (``end``, the end of ``track``, interpreter exit), ``lifecycle.write_remaining``
   tries the buffer's last write ``END_ATTEMPTS`` (3) times, pausing 0.5 s then 1 s in between; the
   points still unwritten are then given up with an error. The end itself is one call to the registry
   (its HTTP request repeated only as in 1., spooled as in 2.); if it fails, ``end`` returns ``None``
   with one log line and the run stays ``running`` (``lost`` once its heartbeat is old).
6. The ``Heartbeat`` does not retry: a heartbeat that fails is logged and the next one follows a
   period later; a ``ConflictError`` (the run was ended elsewhere) stops it.
7. A start the registry cannot be reached for (``DatabaseUnavailableError`` once 1. is spent) does not
   stop the training: ``track``/``start`` hand out the run not yet recorded, and its ``DeferredStart``
   tries the start again every ``START_RETRY_SECONDS`` (5 s) from the heartbeat thread, before each
   batch the buffer writes, and at the run's end; until then its points wait in the buffer as in 4. A run
   the registry never answered for is not stored at all (one error when it ends).

Nothing is imported here, so that the HTTP transport can import ``gemini.tracking.spool`` without the
rest.
"""
