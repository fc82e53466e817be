"""Change feed and webhook throughput against a running careloop (Python standard library).

    CARELOOP_BASE_URL=... CARELOOP_ADMIN_TOKEN=... python3 bench/feed_and_webhooks.py [CHANGES]

Makes CHANGES concerns (default 5000) with 8 writers while a webhook endpoint on this machine
(the service must allow it: CARELOOP_WEBHOOK_ALLOW_PRIVATE=true) is subscribed to them, then
reads the whole feed back. Prints writes/s, deliveries/s (first write to last message received)
and changes/s read, with and without records. bench/feed_and_webhooks.sh runs it on a fresh
release build.
"""

import http.server
import json
import os
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

BASE = os.environ["CARELOOP_BASE_URL"]
ADMIN = os.environ["CARELOOP_ADMIN_TOKEN"]
COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 5000


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, data=data, method=method, headers={
        "Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read() or b"null")


received = []
lock = threading.Lock()
done = threading.Event()


class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        with lock:
            received.append(time.monotonic())
            if len(received) >= COUNT:
                done.set()
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
location = call("GET", "/v1/locations")["items"][0]["id"]
call("POST", "/v1/webhooks", {"url": f"http://127.0.0.1:{server.server_port}/hook",
                              "event_types": ["concern.created"], "scope": ["integration"]})
head = call("GET", "/v1/changes/cursor")["cursor"]
body = {"title": "Bench", "description": "Bench concern", "category": "care_practice",
        "risk": "low", "location_id": location}

started = time.monotonic()
with ThreadPoolExecutor(8) as pool:
    list(pool.map(lambda _: call("POST", "/v1/concerns", body), range(COUNT)))
written = time.monotonic()
if not done.wait(timeout=600):
    raise SystemExit(f"only {len(received)} of {COUNT} messages arrived")
delivered = received[-1]


def read_feed(extra):
    cursor, seen, t0 = head, 0, time.monotonic()
    while True:
        page = call("GET", f"/v1/changes?limit=200&cursor={cursor}{extra}")
        seen += len(page["items"])
        if not page["items"]:
            return seen, time.monotonic() - t0
        cursor = page["next_cursor"]


with_records, t_records = read_feed("")
ids_only, t_ids = read_feed("&include=ids")
assert with_records == ids_only == COUNT, (with_records, ids_only)
print(f"writes (create concern, 8 writers)  {COUNT / (written - started):8.0f} /s")
print(f"webhook deliveries (one endpoint)   {COUNT / (delivered - started):8.0f} /s "
      f"({COUNT} messages, last {delivered - written:.1f} s after the last write)")
print(f"feed read, records included         {with_records / t_records:8.0f} changes/s")
print(f"feed read, include=ids              {ids_only / t_ids:8.0f} changes/s")
