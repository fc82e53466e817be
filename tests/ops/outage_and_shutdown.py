#!/usr/bin/env python3
"""Operational checks of the careloop binary, end to end.

Scenario 1, a database outage under load (PostgreSQL): six writers keep raising concerns while
PostgreSQL is stopped for three seconds and started again. careloop must answer every write with
201 or a fast 503 `database_unavailable` (problem+json, Retry-After), never 500 and never slower
than 2 s; `/health/live` stays 200, `/health/ready` answers 503 within 1.5 s while the database is
down and 200 again once it is back; writes succeed again without restarting careloop, and every
acknowledged concern can be read back.

Scenario 2, a graceful shutdown on SIGTERM (SQLite, then PostgreSQL): eight writers, each opening a
new connection per request, raise concerns while careloop gets SIGTERM. Every request is either
acknowledged (201) or refused at connect (the listener is closed); a reset, a timeout or any other
status is a failure. careloop exits with status 0 within the drain time plus 5 s, and after a
restart every acknowledged concern is still there.

    python3 tests/ops/outage_and_shutdown.py --binary target/debug/careloop \
        [--pg-bin /usr/lib/postgresql/15/bin] [--keep-logs]

Scenario 3, metrics and logs (SQLite): with `CARELOOP_METRICS_BIND` and `CARELOOP_LOG_FORMAT=json`,
`/metrics` answers on its own port only, counts requests by route pattern (never an id, never the
anonymous raise), and every log line is one JSON object with the request's fields.

Standard library only. Exit status 0 when every check passed, 1 otherwise. PostgreSQL server
binaries that are missing are a failure, never a skip. The script owns its PostgreSQL cluster and
its careloop processes: it stops them and deletes their folders whatever happens.
"""

import argparse
import base64
import glob
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

DRAIN_SECONDS = 10
CLIENT_TIMEOUT = 15.0
WRITE_LIMIT = 2.0  # seconds: the slowest write answer allowed during the outage scenario
READY_LIMIT = 1.5  # seconds: the slowest /health/ready answer allowed
FIRST_503_LIMIT = 2.0  # seconds after the database stopped
RECOVERY_LIMIT = 30.0  # seconds after the database started again
PROBLEM_JSON = "application/problem+json"

# ---------------------------------------------------------------------------------------------
# Checks and reporting
# ---------------------------------------------------------------------------------------------

FAILURES = []  # (scenario, message)
PASSES = []
_scenario = ["setup"]
SECTIONS = []  # scenario titles in the order they ran


def check(condition, message):
    """Records one assertion: prints PASS or FAIL and keeps the failures for the summary."""
    if condition:
        PASSES.append((_scenario[0], message))
        print(f"  PASS  {message}", flush=True)
    else:
        FAILURES.append((_scenario[0], message))
        print(f"  FAIL  {message}", flush=True)
    return bool(condition)


def section(title):
    _scenario[0] = title
    if title not in SECTIONS:
        SECTIONS.append(title)
    print(f"\n=== {title}", flush=True)


def info(message):
    print(f"        {message}", flush=True)


def scenario_failed(title):
    return any(scenario == title for scenario, _ in FAILURES)


def log_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()
    except OSError as e:
        return [f"(cannot read {path}: {e})"]


def tail(path, lines=40):
    return "\n".join(log_lines(path)[-lines:])


ROUTINE = re.compile(r"careloop::telemetry\] \S+ \S+ [23]\d\d ")


def print_tail(label, path, lines=40):
    """The end of a log, leaving out the request lines of successful answers."""
    text = log_lines(path)
    kept = [line for line in text if not ROUTINE.search(line)]
    print(f"\n--- last {lines} lines of {label} ({path}; "
          f"{len(text) - len(kept)} lines of 2xx/3xx requests left out)")
    print("\n".join(kept[-lines:]))
    print("--- end", flush=True)


def seconds(value):
    return "n/a" if value is None else f"{value:.3f} s"


# ---------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------


class Answer:
    """One HTTP exchange: what was sent when, how long it took and what came back (or why not)."""

    def __init__(self, started):
        self.started = started  # time.monotonic()
        self.elapsed = None
        self.status = None
        self.retry_after = None
        self.content_type = None
        self.body = None
        self.refused = False  # ConnectionRefusedError before anything was sent
        self.error = None  # any other transport failure, as "Type: message"
        self.phase = None  # where the transport failure happened: connect or exchange

    @property
    def ended(self):
        return self.started + self.elapsed

    @property
    def code(self):
        return self.body.get("code") if isinstance(self.body, dict) else None

    @property
    def id(self):
        return self.body.get("id") if isinstance(self.body, dict) else None

    def is_problem(self):
        media = (self.content_type or "").split(";")[0].strip().lower()
        return media == PROBLEM_JSON

    def retry_after_ok(self):
        value = (self.retry_after or "").strip()
        return value.isdigit() and int(value) > 0

    def describe(self):
        if self.refused:
            return "connection refused"
        if self.error:
            return f"{self.phase}: {self.error}"
        return f"{self.status} {self.content_type or '-'} code={self.code}"


def describe_error(error):
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def http_request(port, method, path, token=None, body=None, timeout=CLIENT_TIMEOUT):
    """One request on a new TCP connection (`Connection: close`)."""
    headers = {"Accept": "application/json", "Connection": "close"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    answer = Answer(time.monotonic())
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        try:
            conn.connect()
        except ConnectionRefusedError as e:
            answer.refused, answer.error, answer.phase = True, describe_error(e), "connect"
            return answer
        except OSError as e:
            answer.error, answer.phase = describe_error(e), "connect"
            return answer
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as e:
            answer.error, answer.phase = describe_error(e), "exchange"
            return answer
        answer.status = response.status
        answer.retry_after = response.getheader("Retry-After")
        answer.content_type = response.getheader("Content-Type")
        try:
            answer.body = json.loads(raw) if raw else None
        except ValueError:
            answer.body = raw[:200].decode("utf-8", "replace")
        return answer
    finally:
        answer.elapsed = time.monotonic() - answer.started
        conn.close()


def page_request(port, path):
    """A browser's GET: (status, Content-Type, Retry-After, the page's text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
    try:
        conn.request("GET", path, headers={"Accept": "text/html", "Connection": "close"})
        response = conn.getresponse()
        return (response.status, response.getheader("Content-Type", ""),
                response.getheader("Retry-After"), response.read().decode("utf-8", "replace"))
    except (OSError, http.client.HTTPException) as e:
        return (None, describe_error(e), None, "")
    finally:
        conn.close()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------


def default_pg_bin():
    def version(path):
        match = re.search(r"/postgresql/(\d+(?:\.\d+)*)/bin$", path)
        return tuple(int(p) for p in match.group(1).split(".")) if match else (0,)

    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version)
    return folders[-1] if folders else None


class Cluster:
    """A throwaway PostgreSQL cluster in a temporary folder on a free loopback port."""

    TOOLS = ("initdb", "pg_ctl", "postgres", "psql")

    def __init__(self, pg_bin):
        self.pg_bin = pg_bin
        self.folder = None
        self.port = None
        self.running = False

    def missing_tools(self):
        if not self.pg_bin:
            return list(self.TOOLS)
        return [t for t in self.TOOLS if not os.access(os.path.join(self.pg_bin, t), os.X_OK)]

    @property
    def data(self):
        return os.path.join(self.folder, "db")

    @property
    def log(self):
        return os.path.join(self.folder, "server.log")

    def _as_postgres(self, *command, timeout=120):
        """Runs a server binary, as the postgres user when this script runs as root."""
        argv = [os.path.join(self.pg_bin, command[0]), *command[1:]]
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres", self.folder], check=True)
            argv = ["runuser", "-u", "postgres", "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(
                f"{command[0]} exited {result.returncode}: {result.stderr.strip()[-2000:]}"
            )
        return result.stdout

    def init(self):
        self.folder = tempfile.mkdtemp(prefix="careloop-ops-pg-")
        self.port = free_port()
        self._as_postgres(
            "initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C",
        )

    def start(self):
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} "
            f"-c unix_socket_directories={self.folder} -c fsync=off -c max_connections=200"
        )
        try:
            self._as_postgres(
                "pg_ctl", "-D", self.data, "-w", "-t", "60", "-l", self.log, "-o", options, "start"
            )
        except RuntimeError as e:
            raise RuntimeError(f"PostgreSQL did not start: {e}\n{tail(self.log, 20)}") from None
        self.running = True

    def stop(self, mode="fast"):
        self._as_postgres("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")
        self.running = False

    def psql(self, sql):
        argv = [
            os.path.join(self.pg_bin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
            "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
            "-c", sql,
        ]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"psql {sql!r} exited {result.returncode}: {result.stderr.strip()}")

    def create_database(self, name):
        self.psql(f"CREATE DATABASE {name}")
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def destroy(self):
        if not self.folder:
            return
        if self.running or os.path.exists(os.path.join(self.data, "postmaster.pid")):
            try:
                self._as_postgres("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop",
                                  timeout=60)
            except Exception as e:  # noqa: BLE001 - cleanup goes on whatever happened
                print(f"warning: stopping PostgreSQL: {e}", file=sys.stderr)
        self.running = False
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None


# ---------------------------------------------------------------------------------------------
# careloop
# ---------------------------------------------------------------------------------------------


class Careloop:
    """One careloop service: its environment, its serve process and its log file."""

    instances = []  # every one made, so the script can always stop them

    def __init__(self, binary, database_url, secret, log_path, extra_env=None):
        self.binary = binary
        self.database_url = database_url
        self.secret = secret
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.port = None
        self.proc = None
        Careloop.instances.append(self)

    def env(self):
        env = {
            k: v for k, v in os.environ.items()
            if not (k.startswith("CARELOOP_") or k in ("DATABASE_URL", "RUST_LOG"))
        }
        env.update({
            "DATABASE_URL": self.database_url,
            "CARELOOP_JWT_SECRET": self.secret,
            "CARELOOP_SHUTDOWN_DRAIN_SECONDS": str(DRAIN_SECONDS),
            # Load from one token subject must not meet the per-subject rate limit (429).
            "CARELOOP_RATE_LIMIT_PER_MINUTE": "10000000",
            "RUST_LOG": "info",
        })
        env.update(self.extra_env)
        if self.port:
            env["CARELOOP_BIND"] = f"127.0.0.1:{self.port}"
        return env

    def cli(self, *args):
        result = subprocess.run(
            [self.binary, *args], env=self.env(), capture_output=True, text=True, timeout=180
        )
        with open(self.log_path, "a") as log:
            log.write(f"### careloop {' '.join(args[:2])} exited {result.returncode}\n")
            log.write(result.stderr)
        if result.returncode != 0:
            raise RuntimeError(
                f"careloop {' '.join(args)} exited {result.returncode}: "
                f"{result.stderr.strip()[-1500:]}"
            )
        return result.stdout

    def start(self):
        self.port = free_port()
        with open(self.log_path, "ab") as log:
            log.write(f"### careloop serve on 127.0.0.1:{self.port}\n".encode())
            self.proc = subprocess.Popen(
                [self.binary, "serve"], env=self.env(), stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, start_new_session=True,
            )

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout=180.0):
        """Waits for /health/ready to answer 200; returns how long that took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if not self.running():
                raise RuntimeError(
                    f"careloop serve exited with status {self.proc.returncode} before it was ready"
                )
            if http_request(self.port, "GET", "/health/ready", timeout=5).status == 200:
                return time.monotonic() - started
            time.sleep(0.2)
        raise RuntimeError(f"careloop was not ready within {timeout:.0f} s")

    def url(self, path=""):
        return f"http://127.0.0.1:{self.port}{path}"

    def request(self, method, path, token=None, body=None, timeout=CLIENT_TIMEOUT):
        return http_request(self.port, method, path, token, body, timeout)

    def terminate(self):
        """Sends SIGTERM to the serve process alone."""
        self.proc.send_signal(signal.SIGTERM)

    def stop(self):
        """Stops the serve process if it runs: SIGTERM, then SIGKILL after a grace period."""
        if not self.running():
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=DRAIN_SECONDS + 10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)


def seed(app):
    """An organisation (before serving), the service started and ready, tokens and a location."""
    organisation = json.loads(app.cli("org", "create", "--name", "Ops Test Care"))["id"]
    app.start()
    took = app.wait_ready()
    admin = app.cli("token", "--org", organisation, "--role", "admin", "--sub", "ops-admin").strip()
    manager = app.cli(
        "token", "--org", organisation, "--role", "manager", "--sub", "ops-manager"
    ).strip()
    created = app.request(
        "POST", "/v1/locations", admin, {"name": "Ops Test House", "kind": "care_home"}
    )
    if created.status != 201 or not created.id:
        raise RuntimeError(f"creating a location answered {created.describe()}: {created.body}")
    info(f"careloop ready in {took:.1f} s on {app.url()}; organisation {organisation}, "
         f"location {created.id}")
    return {"org": organisation, "admin": admin, "manager": manager, "location": created.id}


def concern_body(location, writer, n):
    return {
        "title": f"Ops test concern {writer}-{n}",
        "description": "Raised by the outage and shutdown test.",
        "category": "staffing",
        "risk": "low",
        "location_id": location,
    }


# ---------------------------------------------------------------------------------------------
# Load
# ---------------------------------------------------------------------------------------------


class Writers:
    """Threads each looping POST /v1/concerns on a new connection per request."""

    def __init__(self, port, token, location, count, stop_on_refused=False):
        self.port, self.token, self.location = port, token, location
        self.count = count
        self.stop_on_refused = stop_on_refused
        self.stop_event = threading.Event()
        self.answers = []
        self.lock = threading.Lock()
        self.threads = []
        self.ended_by_refusal = 0

    def start(self):
        for writer in range(self.count):
            thread = threading.Thread(target=self._run, args=(writer,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _run(self, writer):
        n = 0
        while not self.stop_event.is_set():
            n += 1
            answer = http_request(
                self.port, "POST", "/v1/concerns", self.token,
                concern_body(self.location, writer, n),
            )
            with self.lock:
                self.answers.append(answer)
            if answer.refused and self.stop_on_refused:
                with self.lock:
                    self.ended_by_refusal += 1
                return
            if answer.error:
                time.sleep(0.05)  # no busy loop on a dead socket

    def snapshot(self):
        with self.lock:
            return list(self.answers)

    def all_done(self):
        return not any(t.is_alive() for t in self.threads)

    def stop(self, timeout=CLIENT_TIMEOUT + 5):
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return self.snapshot()


class Prober:
    """A thread calling GET path every interval, recording each answer."""

    def __init__(self, port, path, interval=0.1):
        self.port, self.path, self.interval = port, path, interval
        self.stop_event = threading.Event()
        self.answers = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def _run(self):
        while not self.stop_event.is_set():
            answer = http_request(self.port, "GET", self.path)
            self.answers.append(answer)
            self.stop_event.wait(max(0.0, self.interval - answer.elapsed))

    def stop(self):
        self.stop_event.set()
        self.thread.join(CLIENT_TIMEOUT + 5)
        return list(self.answers)


def read_back(app, token, ids):
    """GET /v1/concerns/{id} for every id; returns the ones that did not answer 200."""
    def read(concern_id):
        return concern_id, app.request("GET", f"/v1/concerns/{concern_id}", token)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(read, ids))
    return [(cid, answer) for cid, answer in results if answer.status != 200]


def examples(answers, t0, limit=3):
    """A few answers: when each was sent (seconds from t0), how long it took and what it was."""
    return "; ".join(
        f"sent at {a.started - t0:+.2f} s, after {a.elapsed:.2f} s: {a.describe()}"
        for a in answers[:limit]
    )


def slowest(answers):
    return max((a.elapsed for a in answers), default=None)


def outcome_counts(answers):
    return dict(Counter(
        a.status if a.status is not None else ("refused" if a.refused else a.error.split(":")[0])
        for a in answers
    ))


# ---------------------------------------------------------------------------------------------
# Scenario 1: database outage under load
# ---------------------------------------------------------------------------------------------


def scenario_outage(ctx, cluster):
    database_url = cluster.create_database("outage_test")
    app = ctx.careloop("outage", database_url)
    seeded = seed(app)
    door = app.request("POST", "/v1/intake-points", seeded["manager"], {
        "location_id": seeded["location"], "kinds": ["feedback"], "title": "Tell us",
        "welcome": "We read every message."})
    check(door.status == 201, f"an intake point is made ({door.describe()})")
    writers = Writers(app.port, seeded["manager"], seeded["location"], 6)
    ready = Prober(app.port, "/health/ready")
    live = Prober(app.port, "/health/live")
    t0 = time.monotonic()
    writers.start()
    ready.start()
    live.start()
    marks = {}
    first_ok = None
    try:
        time.sleep(3)
        marks["stop_issued"] = time.monotonic()
        cluster.stop("fast")
        marks["stop_done"] = time.monotonic()
        info(f"PostgreSQL stopped (pg_ctl stop -m fast) after "
             f"{marks['stop_issued'] - t0:.2f} s of load, "
             f"took {marks['stop_done'] - marks['stop_issued']:.2f} s")
        time.sleep(1)
        # A person at the door meets a page saying to try again, not a problem in JSON.
        page = page_request(app.port, f"/i/{door.body['slug']}") if door.status == 201 else None
        time.sleep(2)
        marks["start_issued"] = time.monotonic()
        cluster.start()
        marks["start_done"] = time.monotonic()
        info(f"PostgreSQL started again after {marks['start_issued'] - t0:.2f} s of load, "
             f"took {marks['start_done'] - marks['start_issued']:.2f} s")
        deadline = marks["start_done"] + RECOVERY_LIMIT
        while time.monotonic() < deadline:
            first_ok = next(
                (a for a in writers.snapshot()
                 if a.status == 201 and a.started >= marks["start_done"]),
                None,
            )
            if first_ok:
                break
            time.sleep(0.1)
        if first_ok:
            time.sleep(2)
    finally:
        write_answers = writers.stop()
        ready_answers = ready.stop()
        live_answers = live.stop()
    alive = app.running()

    stop_at, down_at, up_at = marks["stop_issued"], marks["stop_done"], marks["start_done"]
    created = [a for a in write_answers if a.status == 201]
    unavailable = [a for a in write_answers if a.status == 503]
    during_outage = [a for a in write_answers if a.started <= up_at and a.ended >= stop_at]
    started_while_down = [a for a in write_answers
                          if down_at <= a.started <= marks["start_issued"]]
    info(f"(times below are seconds from issuing pg_ctl stop; it returned after "
         f"{down_at - stop_at:.2f} s; pg_ctl start returned at {up_at - stop_at:+.2f} s)")
    info(f"writes: {len(write_answers)} ({outcome_counts(write_answers)}), "
         f"{len(started_while_down)} started while the database was down")
    info(f"acknowledged (201): {len(created)}; 503s: {len(unavailable)} (Retry-After values: "
         f"{sorted(set(a.retry_after for a in unavailable), key=str) or '-'})")
    info(f"max write latency: overall {seconds(slowest(write_answers))}, "
         f"during the outage {seconds(slowest(during_outage))}")

    check(page and page[0] == 503 and page[1].startswith("text/html") and page[2]
          and "try again" in page[3],
          "the door's page answers 503 as a page with Retry-After while the database is down "
          f"({page[:3] if page else 'not asked'})")

    everything = write_answers + ready_answers + live_answers
    five_hundreds = [a for a in everything if a.status == 500]
    check(not five_hundreds,
          f"no answer is 500 (saw {len(five_hundreds)}"
          + (f": {examples(five_hundreds, stop_at)})" if five_hundreds else ")"))

    wrong = [a for a in write_answers if a.status not in (201, 503)]
    check(not wrong, f"every write answer is 201 or 503 ({len(wrong)} were not"
          + (f": {examples(wrong, stop_at)})" if wrong else ")"))
    check(started_while_down, "the writers kept sending while the database was down "
          f"({len(started_while_down)} writes started in the outage; none means each writer "
          "was stuck in one request through it)")

    bad_503 = [a for a in unavailable
               if not (a.is_problem() and a.code == "database_unavailable" and a.retry_after_ok())]
    check(not bad_503,
          f"each write 503 is {PROBLEM_JSON}, code database_unavailable, with a positive integer "
          f"Retry-After ({len(bad_503)} of {len(unavailable)} were not"
          + (f", e.g. Content-Type={bad_503[0].content_type!r} code={bad_503[0].code!r} "
             f"Retry-After={bad_503[0].retry_after!r})" if bad_503 else ")"))

    slow = [a for a in write_answers if a.elapsed > WRITE_LIMIT]
    check(not slow, f"no write took longer than {WRITE_LIMIT} s ({len(slow)} did, slowest "
          f"{seconds(slowest(write_answers))})")

    # Liveness.
    live_bad = [a for a in live_answers if a.status != 200]
    info(f"/health/live: {len(live_answers)} probes, max latency "
         f"{seconds(slowest(live_answers))}")
    check(live_answers and not live_bad, f"/health/live is 200 throughout ({len(live_bad)} of "
          f"{len(live_answers)} were not"
          + (f": {examples(live_bad, stop_at)})" if live_bad else ")"))

    # Readiness.
    ready_started_down = [a for a in ready_answers
                          if down_at <= a.started <= marks["start_issued"]]
    ready_down = [a for a in ready_started_down if a.ended <= marks["start_issued"]]
    ready_503 = [a for a in ready_answers if a.status == 503]
    latencies_503 = [a.elapsed for a in ready_503]
    info(f"/health/ready: {len(ready_answers)} probes ({outcome_counts(ready_answers)}), "
         f"{len(ready_down)} wholly while the database was down; max latency "
         f"{seconds(slowest(ready_answers))}; 503 latency max "
         f"{seconds(max(latencies_503, default=None))}, median "
         f"{seconds(statistics.median(latencies_503) if latencies_503 else None)}")
    slow_ready = [a for a in ready_answers if a.elapsed > READY_LIMIT]
    check(not slow_ready, f"every /health/ready probe answered within {READY_LIMIT} s "
          f"({len(slow_ready)} did not"
          + (f": {examples(slow_ready, stop_at)})" if slow_ready else ")"))
    ready_down_bad = [a for a in ready_down if not (
        a.status == 503 and a.is_problem() and a.code == "database_unavailable")]
    check(ready_down and not ready_down_bad,
          f"/health/ready answers 503 {PROBLEM_JSON} database_unavailable while the database is "
          f"down ({len(ready_down) - len(ready_down_bad)} of the {len(ready_down)} probes "
          f"answered within the outage did; {len(ready_started_down)} started in it"
          + (f"; others: {examples(ready_down_bad, stop_at)}" if ready_down_bad else "")
          + (f"; started in it: {examples(ready_started_down, stop_at)}"
             if not ready_down and ready_started_down else "") + ")")
    first_503 = next((a for a in ready_answers if a.status == 503 and a.ended >= stop_at), None)
    first_503_after = first_503.ended - down_at if first_503 else None
    check(first_503_after is not None and first_503_after <= FIRST_503_LIMIT,
          f"the first /health/ready 503 came within {FIRST_503_LIMIT} s of the stop (after "
          f"{seconds(first_503_after)} from the stop completing, "
          f"{seconds(first_503.ended - stop_at if first_503 else None)} from issuing it)")

    # Recovery without a restart of careloop.
    ready_back = next((a for a in ready_answers if a.status == 200 and a.started >= up_at), None)
    ready_recovery = ready_back.ended - up_at if ready_back else None
    ready_last = ready_answers[-1] if ready_answers else None
    check(ready_back is not None and ready_last is not None and ready_last.status == 200,
          f"/health/ready returned to 200 after the restart ({seconds(ready_recovery)} after "
          f"PostgreSQL was up; last probe {ready_last.describe() if ready_last else 'none'})")
    write_recovery = first_ok.ended - up_at if first_ok else None
    check(first_ok is not None,
          f"writes get 201 again after the restart, within {RECOVERY_LIMIT:.0f} s (first after "
          f"{seconds(write_recovery)})")
    check(alive, "careloop kept running through the outage (not restarted, not exited)")

    # Nothing acknowledged lost.
    ids = [a.id for a in created]
    check(all(ids), f"every 201 carries the concern id ({ids.count(None)} did not)")
    if first_ok and alive:
        missing = read_back(app, seeded["manager"], [i for i in ids if i])
        check(not missing, "every acknowledged concern reads back 200 "
              f"({len(ids) - len(missing)} of {len(ids)}"
              + (f"; e.g. {missing[0][0]}: {missing[0][1].describe()})" if missing else ")"))
    else:
        check(False, f"every acknowledged concern reads back 200 (not checked: careloop "
              f"{'did not recover' if alive else 'exited'}; {len(ids)} acknowledged)")
    app.stop()


# ---------------------------------------------------------------------------------------------
# Scenario 2: graceful shutdown on SIGTERM
# ---------------------------------------------------------------------------------------------


def scenario_shutdown(ctx, label, database_url):
    app = ctx.careloop(f"shutdown-{label}", database_url)
    seeded = seed(app)
    writers = Writers(app.port, seeded["manager"], seeded["location"], 8, stop_on_refused=True)
    writers.start()
    time.sleep(1.5)
    term_at = time.monotonic()
    app.terminate()
    limit = DRAIN_SECONDS + 5
    try:
        exit_status = app.proc.wait(timeout=limit)
        exit_after = time.monotonic() - term_at
    except subprocess.TimeoutExpired:
        exit_status, exit_after = None, None
    # Writers end on their first refused connection; give them time to see it, then stop them.
    deadline = time.monotonic() + CLIENT_TIMEOUT + 3
    while not writers.all_done() and time.monotonic() < deadline:
        time.sleep(0.05)
    answers = writers.stop()
    if exit_status is None:
        app.proc.kill()
        app.proc.wait(timeout=30)

    acknowledged = [a for a in answers if a.status == 201 and a.id]
    refused = [a for a in answers if a.refused]
    failures = [a for a in answers if not (a.refused or (a.status == 201 and a.id))]
    after_term = [a for a in acknowledged if a.started >= term_at]
    info(f"requests: {len(answers)}; acknowledged {len(acknowledged)} "
         f"({len(after_term)} sent after SIGTERM); refused {len(refused)}; failures "
         f"{len(failures)}; writers that ended on a refusal: {writers.ended_by_refusal} of 8")
    if failures:
        info("failures by kind: " + ", ".join(
            f"{kind} x{n}" for kind, n in Counter(a.describe() for a in failures).items()))
    check(acknowledged, f"concerns were acknowledged before the shutdown ({len(acknowledged)})")
    check(not failures,
          "no request failed: every one was 201 or refused at connect "
          f"({len(failures)} failed" + (f"; times from SIGTERM: {examples(failures, term_at)})"
                                        if failures else ")"))
    check(exit_status is not None,
          f"careloop exited within {limit} s of SIGTERM (drain {DRAIN_SECONDS} s + 5 s): "
          + (f"after {exit_after:.2f} s" if exit_after is not None else "still running, killed"))
    check(exit_status == 0, f"careloop exited with status 0 (status {exit_status})")

    app.start()  # same environment and database, a new port
    took = app.wait_ready()
    info(f"restarted and ready in {took:.1f} s")
    missing = read_back(app, seeded["manager"], [a.id for a in acknowledged])
    check(not missing, f"every acknowledged concern reads back 200 after the restart "
          f"({len(acknowledged) - len(missing)} of {len(acknowledged)}"
          + (f"; e.g. {missing[0][0]}: {missing[0][1].describe()})" if missing else ")"))
    app.stop()


# ---------------------------------------------------------------------------------------------
# Scenario 3: metrics on their own listener, and JSON logs
# ---------------------------------------------------------------------------------------------


def scenario_metrics_and_logs(ctx, database_url):
    metrics_port = free_port()
    app = ctx.careloop("metrics", database_url, {
        "CARELOOP_METRICS_BIND": f"127.0.0.1:{metrics_port}",
        "CARELOOP_LOG_FORMAT": "json",
    })
    seeded = seed(app)
    body = concern_body(seeded["location"], "named", 1)
    named = app.request("POST", "/v1/concerns", seeded["manager"], body)
    check(named.status == 201, f"a named concern is raised ({named.describe()})")
    staff = app.cli("token", "--org", seeded["org"], "--role", "staff", "--sub", "ops-staff").strip()
    body = dict(concern_body(seeded["location"], "anonymous", 1), anonymous=True)
    anonymous = app.request("POST", "/v1/concerns", staff, body)
    check(anonymous.status == 201, f"an anonymous concern is raised ({anonymous.describe()})")
    read = app.request("GET", f"/v1/concerns/{named.id}", seeded["manager"])
    check(read.status == 200, f"the named concern reads back ({read.describe()})")

    public = app.request("GET", "/metrics")
    check(public.status == 404, f"/metrics is not on the API's listener ({public.status})")
    conn = http.client.HTTPConnection("127.0.0.1", metrics_port, timeout=10)
    conn.request("GET", "/metrics")
    response = conn.getresponse()
    exposition = response.read().decode()
    conn.close()
    check(response.status == 200 and response.getheader("Content-Type", "").startswith("text/plain"),
          f"/metrics answers on its own port in the text format ({response.status})")
    created = re.search(
        r'careloop_http_requests_total\{method="POST",route="/v1/concerns",status="201"\} (\d+)',
        exposition)
    check(created and created.group(1) == "1",
          "the named raise is counted by route pattern, the anonymous one not at all "
          f"({created.group(0) if created else 'no such line'})")
    check(f'route="/v1/concerns/{{concern_id}}"' in exposition and named.id not in exposition,
          "a read is counted by its route pattern, never its id")
    for name in ("careloop_http_request_duration_seconds_bucket", "careloop_db_pool_connections",
                 "careloop_database_reachable 1", "careloop_change_feed_head",
                 "careloop_webhook_queue_depth"):
        check(name in exposition, f"the exposition has {name}")

    app.stop()
    # The service's lines: not this script's markers, nor what the commands say to a person.
    lines = [line for line in log_lines(app.log_path)
             if line and not line.startswith(("###", "careloop: "))]
    objects = []
    for line in lines:
        try:
            objects.append(json.loads(line))
        except ValueError:
            check(False, f"every log line is one JSON object (not: {line[:120]})")
            break
    requests = [o for o in objects if "route" in o]
    fields = {"time", "level", "target", "message", "request_id", "method", "route", "status",
              "duration_ms"}
    check(requests and all(fields <= set(o) for o in requests),
          f"each request's line has {', '.join(sorted(fields))} ({len(requests)} lines)")
    raises = [o for o in requests if o["route"] == "/v1/concerns" and o["method"] == "POST"]
    check(len(raises) == 1, f"the anonymous raise left no line ({len(raises)} raise lines)")
    check(all(named.id not in json.dumps(o) for o in objects), "no line names a concern's id")


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------


class Context:
    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        self.secret = base64.b64encode(os.urandom(48)).decode()
        self.logs = {}  # name -> path

    def careloop(self, name, database_url, extra_env=None):
        path = os.path.join(self.workdir, f"careloop-{name}.log")
        self.logs[name] = path
        return Careloop(self.binary, database_url, self.secret, path, extra_env)


def run_scenario(title, function, *args, logs=lambda: []):
    section(title)
    started = time.monotonic()
    try:
        function(*args)
    except Exception as e:  # noqa: BLE001 - a scenario that cannot run is a failure
        check(False, f"the scenario ran to its end ({describe_error(e)})")
    finally:
        for app in Careloop.instances:
            app.stop()
    info(f"scenario took {time.monotonic() - started:.1f} s")
    if scenario_failed(title):
        for label, path in logs():
            print_tail(label, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True, help="the careloop binary to test")
    parser.add_argument("--pg-bin", default=default_pg_bin(),
                        help="PostgreSQL server binaries (default: the newest "
                             "/usr/lib/postgresql/*/bin)")
    parser.add_argument("--keep-logs", action="store_true",
                        help="keep the folder of careloop logs and SQLite files")
    args = parser.parse_args()

    # SIGTERM to the script runs the cleanup like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    binary = os.path.abspath(args.binary)
    workdir = tempfile.mkdtemp(prefix="careloop-ops-")
    ctx = Context(binary, workdir)
    cluster = Cluster(args.pg_bin)
    print(f"careloop binary: {binary}\nPostgreSQL binaries: {args.pg_bin}\nwork folder: {workdir}")
    try:
        section("setup")
        check(os.access(binary, os.X_OK),
              f"the careloop binary exists and is executable ({binary})")
        missing = cluster.missing_tools()
        pg_ok = check(not missing, "PostgreSQL server binaries are installed"
                      + (f" (missing: {', '.join(missing)} in {args.pg_bin})" if missing else ""))
        if pg_ok:
            try:
                cluster.init()
                cluster.start()
                info(f"PostgreSQL cluster on 127.0.0.1:{cluster.port} in {cluster.folder}")
            except Exception as e:  # noqa: BLE001
                pg_ok = check(False, f"a PostgreSQL cluster starts ({describe_error(e)})")

        def logs(*names, server=False):
            def pick():
                chosen = [(f"careloop {n} log", ctx.logs[n]) for n in names if n in ctx.logs]
                if server and cluster.folder:
                    chosen.append(("PostgreSQL server log", cluster.log))
                return chosen
            return pick

        title = "Scenario 1: database outage under load (PostgreSQL)"
        if pg_ok:
            run_scenario(title, scenario_outage, ctx, cluster, logs=logs("outage", server=True))
        else:
            section(title)
            check(False, "the scenario ran (no PostgreSQL)")

        run_scenario("Scenario 2a: graceful shutdown on SIGTERM (SQLite)", scenario_shutdown,
                     ctx, "sqlite", os.path.join(workdir, "shutdown.db"),
                     logs=logs("shutdown-sqlite"))

        title = "Scenario 2b: graceful shutdown on SIGTERM (PostgreSQL)"
        if pg_ok and not cluster.running:
            try:
                cluster.start()  # scenario 1 may have left it stopped
            except Exception as e:  # noqa: BLE001
                pg_ok = False
                section(title)
                check(False, f"the PostgreSQL cluster runs again ({describe_error(e)})")
        if pg_ok:
            run_scenario(title, lambda: scenario_shutdown(
                ctx, "postgres", cluster.create_database("shutdown_test")),
                logs=logs("shutdown-postgres", server=True))
        elif not scenario_failed(title):
            section(title)
            check(False, "the scenario ran (no PostgreSQL)")

        run_scenario("Scenario 3: metrics on their own listener, and JSON logs (SQLite)",
                     scenario_metrics_and_logs, ctx, os.path.join(workdir, "metrics.db"),
                     logs=logs("metrics"))
    finally:
        for app in Careloop.instances:
            try:
                app.stop()
            except Exception as e:  # noqa: BLE001
                print(f"warning: stopping careloop: {e}", file=sys.stderr)
                if app.proc and app.proc.poll() is None:
                    app.proc.kill()
        cluster.destroy()
        if args.keep_logs:
            print(f"\nlogs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print("\n=== Summary")
    for scenario in SECTIONS:
        passed = sum(1 for s, _ in PASSES if s == scenario)
        failed = [m for s, m in FAILURES if s == scenario]
        print(f"{'FAIL' if failed else 'PASS'}  {scenario}: {passed} passed, {len(failed)} failed")
        for message in failed:
            print(f"        - {message}")
    print(f"\nRESULT: {'FAIL' if FAILURES else 'PASS'} "
          f"({len(PASSES)} checks passed, {len(FAILURES)} failed)")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
