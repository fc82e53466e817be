"""Seeds concerns through the API, for bench/api.sh on PostgreSQL (whose records cannot be
written straight into a file as SQLite's are): COUNT concerns spread over the organisation's
locations, categories and risks, a third of them then acknowledged and a sixth of those moved
on to investigating, so that filters select as they do in a real organisation.

Usage: python3 bench/api_seed.py BASE_URL TOKEN COUNT"""
import http.client
import json
import sys
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

base, token, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
url = urllib.parse.urlsplit(base)
CATEGORIES = ["safeguarding", "care_practice", "medication", "staffing", "environment", "culture", "complaint", "other"]
RISKS = ["low", "medium", "high"]
THREADS = 16


def client():
    return http.client.HTTPConnection(url.hostname, url.port, timeout=60)


def call(conn, method, path, body=None):
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    answer = conn.getresponse()
    data = answer.read()
    if answer.status >= 300:
        raise RuntimeError(f"{method} {path}: {answer.status} {data[:300]!r}")
    return json.loads(data) if data else None


locations = [item["id"] for item in call(client(), "GET", "/v1/locations")["items"]]


def seed(worker):
    conn = client()
    for n in range(worker, count, THREADS):
        concern = call(conn, "POST", "/v1/concerns", {
            "title": f"Concern {n}", "description": "What was seen, when, and who was involved.",
            "category": CATEGORIES[n % len(CATEGORIES)], "risk": RISKS[n % len(RISKS)],
            "location_id": locations[n % len(locations)], "quality_statements": ["safe.safeguarding"],
        })
        if n % 3 == 0:
            moves = ["acknowledged"] + (["investigating"] if n % 18 == 0 else [])
            for to in moves:
                call(conn, "POST", f"/v1/concerns/{concern['id']}/transitions", {"to": to})


# Any refused call fails the seeding (and the benchmark), never leaves it short unnoticed.
with ThreadPoolExecutor(THREADS) as pool:
    for done in [pool.submit(seed, worker) for worker in range(THREADS)]:
        done.result()
print(f"concerns={count}")
