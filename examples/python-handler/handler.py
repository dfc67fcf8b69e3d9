"""An ItemFleet handler in Python: run by `handler: process` (see fleet.yaml beside this file).

    ./fleet worker --config examples/python-handler/fleet.yaml
    python3 examples/python-handler/produce.py          # needs confluent-kafka
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
import itemfleet  # noqa: E402


def handle(task):
    if task.item.startswith("missing-"):
        raise itemfleet.Fail("no source video for " + task.item, error_class="thumb.missing")
    if task.item.startswith("busy-") and task.attempt == 1:
        raise itemfleet.Retry("renderer busy", error_class="thumb.busy", after=1)
    time.sleep(0.02)  # your work here
    print("rendered", task.item)  # goes to the worker's log, with this child's pid
    return {"thumbnail": task.item + ".jpg"}


if __name__ == "__main__":
    itemfleet.serve(handle)
