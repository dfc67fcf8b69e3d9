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

import datetime
import json
import os
import re
import signal
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor

__all__ = ["serve", "Task", "Retry", "Fail"]


class Retry(Exception):
    """The attempt failed and another may succeed (after ``after`` seconds or a
    ``datetime.timedelta``, if given)."""

    def __init__(self, message="", error_class="handler.retry", after=None):
        super().__init__(message)
        self.error_class = str(error_class)
        self.after = after.total_seconds() if isinstance(after, datetime.timedelta) else after


class Fail(Exception):
    """The item can never succeed: no retry."""

    def __init__(self, message="", error_class="handler.failed"):
        super().__init__(message)
        self.error_class = str(error_class)


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
    except BaseException as e:  # pylint: disable=broad-except
        # A bug in the handler, and also sys.exit() (a click or argparse main() ends with it) or a
        # KeyboardInterrupt: retried, with the traceback's end as message. Every request gets its
        # reply; before, these escaped, no reply was sent and the attempt waited for its time-out.
        tb = traceback.format_exc()
        reply = {"id": request_id, "outcome": "retry",
                 "error": {"class": type(e).__name__, "message": (str(e) + "\n" + tb)[-4000:]}}
    try:
        write(reply)
    except (TypeError, ValueError) as e:
        # The answer is not JSON (a retryAfter of another type, NaN, an error class that is not
        # text): retried, saying why, instead of never answering.
        write({"id": request_id, "outcome": "retry",
               "error": {"class": "itemfleet.bad_reply",
                         "message": "the handler's answer could not be sent as JSON: %s" % e}})


_protocol = None

# The worker writes a request's id as its last field.
_LAST_ID = re.compile(r'"id"\s*:\s*(\d+)\s*}\s*$')


def _undecodable(line, error, write):
    """Answers a request that could not be decoded: failed, when its id can be read."""
    found = _LAST_ID.search(line)
    what = "%s: %s" % (type(error).__name__, str(error)[:200])
    if found is None:
        print("itemfleet: a request with no id could not be decoded (%s); ignored" % what,
              file=sys.stderr)
        return
    write({"id": int(found.group(1)), "outcome": "failed",
           "error": {"class": "itemfleet.bad_request",
                     "message": "the handler's Python could not decode this request: " + what}})


def serve(handle, inflight=None):
    """Answers the worker's requests with ``handle(task)`` until stdin closes.

    ``inflight`` threads run attempts at once (default: the worker's ``inflight`` setting, passed
    in FLEET_PROCESS_INFLIGHT). Returns when the worker closes stdin (it stopped). When the worker
    asks (FLEET_PROCESS_READY=1: the type sets startTimeout), it first says it is ready: load your
    models before calling serve()."""
    n = inflight or int(os.environ.get("FLEET_PROCESS_INFLIGHT", "1"))
    # Everything the handler prints goes to stderr, where the worker logs it; stdout is the protocol.
    # Not only Python's sys.stdout: file descriptor 1 itself is moved to stderr, and the protocol
    # keeps a copy of it, so that a tool the handler runs (subprocess.run(["ffmpeg", ...])), a C
    # extension or os.write(1, ...) cannot write into the protocol and get the child killed.
    # The same for the requests: descriptor 0 is read through a copy and replaced by /dev/null, so
    # that a tool that reads its stdin (ssh, ffmpeg without -nostdin) cannot take request bytes.
    # Both streams are UTF-8, as the worker writes and reads them, whatever the locale.
    try:
        sys.stdout.flush()
        out = os.fdopen(os.dup(1), "w", encoding="utf-8")
        os.dup2(2, 1)
    except (OSError, ValueError, AttributeError):  # no real descriptor 1 (an embedding host)
        out = sys.stdout
    sys.stdout = sys.stderr
    requests = None
    try:
        requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        sys.stdin = open(os.devnull, "r", encoding="utf-8")
    except (OSError, ValueError, AttributeError):  # no real descriptor 0 (an embedding host)
        if requests is None:
            requests = sys.stdin
    # The worker decides when its children stop (it closes their stdin): a Ctrl-C in the terminal
    # of a foreground worker reaches the children too, and must not break an item half-way. A
    # handler that does nothing, not SIG_IGN: an ignored signal stays ignored in the tools the
    # handler runs (exec keeps it), which could then not be stopped with SIGINT.
    try:
        signal.signal(signal.SIGINT, lambda signum, frame: None)
    except ValueError:  # not the main thread
        pass
    global _protocol
    _protocol = out  # private: lets the worker's tests break the protocol on purpose
    lock = threading.Lock()

    def write(obj):
        line = json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n"
        with lock:
            out.write(line)
            out.flush()

    # A type with startTimeout asks its children to say when they are ready: the handler module
    # has been imported by now (its models loaded), so serve() says it at once. Until then the
    # worker sends nothing, and the start-up does not count against the attempts' time-out.
    if os.environ.get("FLEET_PROCESS_READY") == "1":
        write({"ready": True})
    with ThreadPoolExecutor(max_workers=max(1, n)) as pool:
        for line in requests:
            if not line.strip():
                continue
            try:
                request = json.loads(line)
                request["id"]
            except (ValueError, RecursionError, KeyError, TypeError) as e:
                # A request this Python cannot decode (a payload nested deeper than its recursion
                # limit, which the worker's parser allows): that item fails alone, for good, as the
                # same payload would fail every retry. Before, the error ended serve(): the child
                # exited and every attempt in flight on it spent a retry.
                _undecodable(line, e, write)
                continue
            if n == 1:
                _reply(request["id"], handle, request, write)
            else:
                pool.submit(_reply, request["id"], handle, request, write)


# ---- producing from Python -------------------------------------------------------------------

MAX_ITEM_BYTES = 1024


def _unpaired_surrogate(text):
    """The index of a lone UTF-16 surrogate (which UTF-8 cannot encode), or -1."""
    for i, c in enumerate(text):
        if 0xD800 <= ord(c) <= 0xDFFF:
            return i
    return -1


def _utf16_len(text):
    """The length of ``text`` as Java counts it: UTF-16 code units (an emoji is 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _name_problem(value):
    """Why ``value`` cannot be a job or type name (the workers' rule), or None."""
    # Counted as the workers count (UTF-16 code units), not in code points: a job of 200 emoji
    # passed here, and then every item was POISON and the manifest refused.
    if not isinstance(value, str):
        return "must be a string, was %r" % (value,)
    if not value or _utf16_len(value) > 256:
        return ("must be 1 to 256 characters, counted in UTF-16 code units as the workers count"
                " them (an emoji counts 2), was %d" % _utf16_len(value))
    for i, c in enumerate(value):
        o = ord(c)
        if o < 0x20 or 0x7F <= o <= 0x9F or 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069:
            return "contains control character U+%04X at index %d" % (o, i)
        if o == 0xFFFD:
            return "contains U+FFFD, the replacement character, at index %d" % i
    lone = _unpaired_surrogate(value)
    if lone >= 0:
        return "contains an unpaired surrogate U+%04X at index %d" % (ord(value[lone]), lone)
    return None


def _label_problem(value):
    """Why ``value`` cannot be a manifest label's value (the recorder's rule), or None."""
    if not isinstance(value, str) or not 1 <= _utf16_len(value) <= 4096:
        return ("the value must be a string of 1 to 4096 characters, counted in UTF-16 code units"
                " as the recorder counts them (an emoji counts 2)")
    return None


def _item_problem(item):
    """Why ``item`` cannot be an item ID (what the workers would count as POISON), or None."""
    lone = _unpaired_surrogate(item)
    if lone >= 0:
        return "contains an unpaired surrogate U+%04X at index %d" % (ord(item[lone]), lone)
    size = len(item.encode("utf-8"))
    if size > MAX_ITEM_BYTES:
        return "is %d bytes, the limit is %d" % (size, MAX_ITEM_BYTES)
    for i, c in enumerate(item):
        o = ord(c)
        if o < 0x20 or 0x7F <= o <= 0x9F or 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069:
            return "contains control character U+%04X at index %d" % (o, i)
    return None

def manifest(job, type, count, run_id, labels=None, created_at=None):
    """The manifest record of one produce run: (key, value bytes) for <prefix>.jobs.

    The topic is compacted, so the key is required: RS "manifest" US job US run_id (RS and US the
    bytes 0x1E and 0x1F, which no name holds). A job's expected total is the sum of its manifests'
    counts; the same run_id counted twice counts once (the first one)."""
    import datetime
    created = created_at or datetime.datetime.now(datetime.timezone.utc)
    value = {
        "v": 1,
        "kind": "manifest",
        "job": job,
        "type": type,
        "count": int(count),
        "runId": run_id,
        "createdAt": created.isoformat().replace("+00:00", "Z"),
        "labels": dict(labels or {}),
    }
    key = "\x1emanifest\x1f%s\x1f%s" % (job, run_id)
    return key.encode("utf-8"), json.dumps(value).encode("utf-8")


RECORD_FORMS = ("compact", "headers")


def record_form_from_environment():
    """FLEET_RECORD_FORM, as ``fleet produce`` reads it: "compact" (the default) or "headers"."""
    form = os.environ.get("FLEET_RECORD_FORM", "").strip() or "compact"
    if form not in RECORD_FORMS:
        raise ValueError("FLEET_RECORD_FORM must be 'compact' or 'headers', was %r" % form)
    return form


def task_record(job, type, item, record_form="compact"):
    """The (value, headers) of one item's task record on <prefix>.tasks, keyed by the item.

    "compact" (what ``fleet produce`` sends): the value is ``0x1E job 0x1F type 0x1F item``, no
    headers. "headers": the value is the item ID, with fleet-job and fleet-type headers — the form
    workers built before compact items read; keep it until every worker is upgraded."""
    if record_form == "compact":
        return b"\x1e" + job.encode("utf-8") + b"\x1f" + type.encode("utf-8") + b"\x1f" \
            + item.encode("utf-8"), None
    if record_form == "headers":
        headers = [("fleet-job", job.encode("utf-8")), ("fleet-type", type.encode("utf-8"))]
        if item.lstrip(" ").startswith("{"):
            # A value starting with "{" is read as a JSON task: such an ID ("{a}") goes as one,
            # as fleet produce sends it (before, it was POISON: malformed JSON).
            task = {"v": 1, "job": job, "type": type, "item": item}
            return json.dumps(task, separators=(",", ":")).encode("utf-8"), headers
        return item.encode("utf-8"), headers
    raise ValueError("record_form must be 'compact' or 'headers', was %r" % (record_form,))


def produce(job, type, items, bootstrap="localhost:9092", topic_prefix="fleet", run_id=None,
            labels=None, config=None, timeout=120.0, record_form=None):
    """Sends ``items`` (item IDs) to job ``job`` on <prefix>.tasks, waits until each is
    acknowledged, then publishes the job's manifest with the number acknowledged, so the job has
    its total and completes.

    ``record_form``: "compact" (the default, as ``fleet produce`` sends) or "headers" (for a fleet
    whose workers predate compact items); unset, FLEET_RECORD_FORM decides (see ``task_record``).

    Needs confluent-kafka (``pip install confluent-kafka``, or Debian's python3-confluent-kafka).
    ``config`` adds librdkafka settings (SASL, TLS, ...). Returns the number of items acknowledged;
    raises RuntimeError, after publishing nothing, if any item failed to send."""
    record_form = record_form or record_form_from_environment()
    if record_form not in RECORD_FORMS:
        raise ValueError("record_form must be 'compact' or 'headers', was %r" % (record_form,))
    import uuid
    try:
        from confluent_kafka import Producer
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise RuntimeError("itemfleet.produce needs confluent-kafka: pip install confluent-kafka") from e
    for name, value in (("job", job), ("type", type)):
        problem = _name_problem(value)
        if problem:
            raise ValueError("the %s name %s" % (name, problem))
    if run_id is not None:
        # The recorder refuses a manifest whose run ID breaks the name rule (or is over 128
        # characters): checked now, before any item is sent, or the job would never complete.
        problem = _name_problem(run_id) or (
            _utf16_len(run_id) > 128
            and "must be at most 128 characters (UTF-16 code units; an emoji counts 2)")
        if problem:
            raise ValueError("the run_id %s" % problem)
    for key, value in (labels or {}).items():
        # The recorder refuses a manifest with a label value that is not a string of 1 to 4096
        # characters: checked now too, for the same reason.
        problem = _label_problem(value)
        if problem:
            raise ValueError("label %s: %s" % (key, problem))
    # Every item is checked before anything is sent, as fleet produce does: a bad one found half way
    # would leave the items before it sent without a manifest (the job would never complete).
    checked = []
    bad = []
    for index, item in enumerate(items):
        if isinstance(item, (bytes, bytearray)):  # e.g. lines of open(f, "rb") or sys.stdin.buffer
            try:
                item = bytes(item).decode("utf-8")
            except UnicodeDecodeError:
                bad.append("item %d: not valid UTF-8" % index)
                continue
        item = str(item).strip()
        if not item:
            continue
        problem = _item_problem(item)
        if problem:
            bad.append("item %d (%r): %s" % (index, item[:80], problem))
            continue
        checked.append(item)
    if bad:
        raise ValueError("%d bad item ID(s), nothing sent: %s" % (len(bad), "; ".join(bad[:10])))
    conf = {"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
            "linger.ms": 10, "compression.type": "lz4"}
    conf.update(config or {})
    p = Producer(conf)
    acked = [0]
    errors = []

    def delivered(err, msg):
        if err is None:
            acked[0] += 1
        elif len(errors) < 10:
            errors.append(str(err))

    sent = 0
    for item in checked:
        value, headers = task_record(job, type, item, record_form)
        while True:
            try:
                p.produce(topic_prefix + ".tasks", value=value,
                          key=item.encode("utf-8"), headers=headers, on_delivery=delivered)
                break
            except BufferError:
                p.poll(0.1)  # the local queue is full: let deliveries drain
        sent += 1
        p.poll(0)
    if p.flush(timeout) > 0:
        raise RuntimeError("%d items still unacknowledged after %.0f s; no manifest published"
                           % (sent - acked[0], timeout))
    if errors:
        raise RuntimeError("%d of %d items were not acknowledged (%s); no manifest published"
                           % (sent - acked[0], sent, "; ".join(errors)))
    count = acked[0]
    key, value = manifest(job, type, count, run_id or str(uuid.uuid4()), labels)
    manifest_errors = []
    p.produce(topic_prefix + ".jobs", value=value, key=key,
              on_delivery=lambda err, msg: err is not None and manifest_errors.append(str(err)))
    if p.flush(timeout) > 0 or manifest_errors:
        raise RuntimeError("the manifest of job %s was not acknowledged: %s"
                           % (job, "; ".join(manifest_errors) or "timed out"))
    return count
