"""ItemFleet for Python handlers: one file, standard library only, Python 3.9 or newer.

A ``process`` task type runs your script as a long-lived child of the worker::

    # fleet.yaml
    types:
      thumbnail:
        handler: process
        command: [python3, handler.py]
        processes: 2      # children per worker
        inflight: 8       # attempts each child takes at once (threads here)

    # handler.py
    import itemfleet

    def handle(task):
        if not task.payload.get("url"):
            raise itemfleet.Fail("no url in the payload", error_class="input.no_url")
        ...                                   # your code; raise Retry to try again later
        task.save_checkpoint("frame 120")     # optional progress, read back by a retry
        return {"frames": 240}                # kept only where the type persists results

    itemfleet.serve(handle)

The worker writes one JSON request per line on stdin and reads one JSON reply per line on stdout
(schemas/json/process-request.schema.json and process-reply.schema.json in the ItemFleet
repository). Print your own output to stderr: the worker logs it with the child's pid. Anything
else written to stdout breaks the protocol, and the worker restarts the child.
"""

import json
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
import os

__all__ = ["serve", "Task", "Retry", "Fail"]


class Retry(Exception):
    """The attempt failed and another may succeed (after ``after`` seconds, if given)."""

    def __init__(self, message="", error_class="handler.retry", after=None):
        super().__init__(message)
        self.error_class = error_class
        self.after = after


class Fail(Exception):
    """The item can never succeed: no retry."""

    def __init__(self, message="", error_class="handler.failed"):
        super().__init__(message)
        self.error_class = error_class


class Task:
    """One attempt at one item, as the handler sees it."""

    def __init__(self, request, write):
        self._id = request["id"]
        self._write = write
        self.job = request["job"]
        self.type = request["type"]
        self.item = request["item"]
        self.attempt = request["attempt"]  # 1 for the first attempt
        self.payload = request.get("payload")
        self.checkpoint = request.get("checkpoint")  # what an earlier attempt saved, or None

    def save_checkpoint(self, progress):
        """Saves progress (a string, at most 64 KiB) that a retry of this item can read."""
        self._write({"id": self._id, "checkpoint": str(progress)})
        self.checkpoint = str(progress)

    def __repr__(self):
        return "Task(job=%r, type=%r, item=%r, attempt=%r)" % (
            self.job, self.type, self.item, self.attempt)


def _reply(request_id, handle, request, write):
    try:
        result = handle(Task(request, write))
        reply = {"id": request_id, "outcome": "succeeded"}
        if result is not None:
            reply["result"] = result if isinstance(result, str) else json.dumps(result)
    except Retry as e:
        reply = {"id": request_id, "outcome": "retry",
                 "error": {"class": e.error_class, "message": str(e)}}
        if e.after is not None:
            reply["retryAfter"] = e.after
    except Fail as e:
        reply = {"id": request_id, "outcome": "failed",
                 "error": {"class": e.error_class, "message": str(e)}}
    except Exception as e:  # a bug in the handler: retried, with the traceback's end as message
        tb = traceback.format_exc()
        reply = {"id": request_id, "outcome": "retry",
                 "error": {"class": type(e).__name__, "message": (str(e) + "\n" + tb)[-4000:]}}
    write(reply)


def serve(handle, inflight=None):
    """Answers the worker's requests with ``handle(task)`` until stdin closes.

    ``inflight`` threads run attempts at once (default: the worker's ``inflight`` setting, passed
    in FLEET_PROCESS_INFLIGHT). Returns when the worker closes stdin (it stopped)."""
    n = inflight or int(os.environ.get("FLEET_PROCESS_INFLIGHT", "1"))
    out = sys.stdout
    # Everything the handler prints goes to stderr, where the worker logs it; stdout is the protocol.
    sys.stdout = sys.stderr
    lock = threading.Lock()

    def write(obj):
        line = json.dumps(obj, separators=(",", ":")) + "\n"
        with lock:
            out.write(line)
            out.flush()

    with ThreadPoolExecutor(max_workers=max(1, n)) as pool:
        for line in sys.stdin:
            if not line.strip():
                continue
            request = json.loads(line)
            if n == 1:
                _reply(request["id"], handle, request, write)
            else:
                pool.submit(_reply, request["id"], handle, request, write)
