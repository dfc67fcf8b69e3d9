"""Sends a job of 1,000 items from Python, then its manifest, so that it completes with a total."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
import itemfleet  # noqa: E402

bootstrap = os.environ.get("FLEET_KAFKA_BOOTSTRAP", "localhost:9092")
prefix = os.environ.get("FLEET_TOPIC_PREFIX", "fleet")
items = ["video-%d" % i for i in range(990)] + ["missing-%d" % i for i in range(10)]
n = itemfleet.produce("py-demo", "thumbnail-py", items, bootstrap=bootstrap, topic_prefix=prefix)
print("sent %d items to job py-demo; watch with: ./fleet watch py-demo" % n)
