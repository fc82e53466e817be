"""Integrating with careloop, as a care record vendor would: register a machine client, get a
token, read the change feed from the start, subscribe a webhook, and verify its signature.

Python 3 standard library only. Run against a careloop that allows webhooks to this machine
(CARELOOP_WEBHOOK_ALLOW_PRIVATE=true, local testing only), with an admin's token:

    CARELOOP_BASE_URL=http://127.0.0.1:8080 CARELOOP_ADMIN_TOKEN=... python3 examples/integrating.py

.ci/contract runs it against the service it starts.
"""

import base64
import hashlib
import hmac
import http.server
import json
import os
import queue
import threading
import time
import urllib.parse
import urllib.request

BASE = os.environ["CARELOOP_BASE_URL"]
ADMIN = os.environ["CARELOOP_ADMIN_TOKEN"]


def call(method, path, token=None, body=None, form=None, basic=None):
    """One request: the answer's status and JSON body (an error answer too)."""
    headers, data = {}, None
    if body is not None:
        headers["Content-Type"], data = "application/json", json.dumps(body).encode()
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        data = urllib.parse.urlencode(form).encode()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if basic:
        pair = f"{urllib.parse.quote(basic[0])}:{urllib.parse.quote(basic[1])}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    request = urllib.request.Request(BASE + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=40) as answer:
            text = answer.read()
            return answer.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def step(what, status, expected):
    if status != expected:
        raise SystemExit(f"FAIL {what}: {status}, expected {expected}")
    print(f"ok   {what}: {status}")


def verify(secret, headers, body, tolerance=300):
    """Standard Webhooks verification: any `v1,` signature in `webhook-signature` must be the
    base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}", keyed with the secret's
    bytes (base64 after `whsec_`); and the timestamp must be recent, so a replay is refused."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(expected, sig.split(",", 1)[1])
        for sig in headers["webhook-signature"].split(" ")
        if sig.startswith("v1,")
    )


# 1. Register a machine client (an admin does this once) and keep its secret.
status, client = call("POST", "/v1/api-clients", ADMIN,
                      {"name": "Acme care records", "roles": ["integration"]})
step("register a machine client", status, 201)
client_id, client_secret = client["client_id"], client["client_secret"]

# 2. Get a token: OAuth 2.0 client credentials, valid for 15 minutes.
status, issued = call("POST", "/oauth/token", form={"grant_type": "client_credentials"},
                      basic=(client_id, client_secret))
step("get a token", status, 200)
token = issued["access_token"]

# 3. Read the feed from the start; keep the cursor.
cursor, changes = None, 0
while True:
    path = "/v1/changes?limit=200" + (f"&cursor={cursor}" if cursor else "")
    status, page = call("GET", path, token)
    step("read a page of the change feed", status, 200)
    changes += len(page["items"])
    if not page["items"] and page["next_cursor"] == cursor:
        break
    cursor = page["next_cursor"]
print(f"     {changes} changes so far; resume from {cursor}")

# 4. Subscribe a webhook to a receiver on this machine.
received = queue.Queue()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        received.put(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
status, webhook = call("POST", "/v1/webhooks", ADMIN, {
    "url": f"http://127.0.0.1:{server.server_port}/hook",
    "event_types": ["concern.created"], "scope": ["integration"]})
step("subscribe a webhook", status, 201)
secret = webhook["secret"]

# 5. Something happens: the vendor's system raises a concern with its token.
status, location = call("GET", "/v1/locations", token)
step("list locations", status, 200)
status, concern = call("POST", "/v1/concerns", token, {
    "title": "Call bell out of reach", "description": "Room 12's call bell was behind the bed.",
    "category": "care_practice", "risk": "medium", "location_id": location["items"][0]["id"]})
step("raise a concern", status, 201)

# 6. The webhook arrives, signed; verify it before trusting it.
headers, body = received.get(timeout=30)
if not verify(secret, headers, body):
    raise SystemExit("FAIL the webhook's signature does not verify")
event = json.loads(body)
if event["type"] != "concern.created" or event["data"]["id"] != concern["id"]:
    raise SystemExit(f"FAIL unexpected event {event}")
print(f"ok   webhook {event['type']} verified ({headers['webhook-id']})")
if verify(secret.replace(secret[-6:], "AAAAA="), headers, body):
    raise SystemExit("FAIL a wrong secret verified")

# 7. The feed has it too, from the cursor kept in step 3 (long polling while it waits).
status, page = call("GET", f"/v1/changes?cursor={cursor}&wait=10&types=concern", token)
step("read the feed from the kept cursor", status, 200)
if concern["id"] not in [item["id"] for item in page["items"]]:
    raise SystemExit(f"FAIL the feed does not show the concern: {page}")
print("integrating walk-through complete")
