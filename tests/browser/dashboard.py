#!/usr/bin/env python3
"""Browser test of the dashboard (GET /dashboard) against a live careloop in development mode.

    python tests/browser/dashboard.py http://127.0.0.1:8080

It signs in through POST /dashboard/sign-in, seeds records through the public API (a second
location, concerns, a plan with actions, a governance review, evidence with a measure), then
drives the page in headless Chromium (the system one, through Playwright) and checks that it
shows exactly those numbers, that the location filter changes them, that the governance pack
opens with its three sections, and a little keyboard and text-alternative use. Artefacts go to
target/browser/. Any failure exits non-zero with a message; a browser that cannot start is a
failure, never a skip.

The expected numbers are what was there before seeding (read from the API) plus what the test
seeded, so it also runs against a database that already holds records; on a fresh development
database the "before" is zero (for example 4 concerns raised this month, 3 at Demo House and 1 at
Riverside).
"""

import datetime as dt
import json
import os
import pathlib
import shutil
import sys
import time
import urllib.error
import urllib.request

OUT = pathlib.Path("target/browser")
PACK_HEADINGS = ["What went well", "What didn't go well", "What needs to change"]
TIMEOUT_MS = 20_000
# (section, text it must contain, what that is): records seeded below, in the pack's month.
PACK_SEEDED = [
    ("What went well", "Check call-bell logs weekly", "the governance review's lesson"),
    ("What didn't go well", "medication audit score", "the medication audit score, off target"),
    ("What didn't go well", "staffing", "the high-risk staffing concern raised this month"),
    ("What needs to change", "Audit call-bell times weekly", "the plan's open action"),
]


class Failure(Exception):
    pass


def ok(message):
    print(f"  ok  {message}", flush=True)


def expect(condition, message, detail=""):
    if not condition:
        raise Failure(message + (f": {detail}" if detail else ""))
    ok(message)


def expect_equal(actual, expected, message):
    if actual != expected:
        raise Failure(f"{message}: expected {expected!r}, the page shows {actual!r}")
    ok(f"{message}: {actual!r}")


# ---- The HTTP API -----------------------------------------------------------------------------


class Api:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.token = None

    def call(self, method, path, body=None, anonymous=False):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token and not anonymous:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as e:
            raw = e.read().decode(errors="replace")
            try:
                detail = json.loads(raw).get("detail", raw)
            except ValueError:
                detail = raw
            raise Failure(f"{method} {path} answered {e.code}: {detail}") from None
        except urllib.error.URLError as e:
            raise Failure(f"{method} {path}: the service could not be reached ({e.reason})") from None
        return json.loads(raw) if raw else None

    def get(self, path):
        return self.call("GET", path)

    def post(self, path, body):
        return self.call("POST", path, body)


def sign_in(api, role):
    try:
        answer = api.call("POST", "/dashboard/sign-in", {"role": role}, anonymous=True)
    except Failure as e:
        raise Failure(f"development sign-in failed ({e}); is the service in development mode?") from None
    for field in ("access_token", "token_type", "expires_in"):
        if field not in answer:
            raise Failure(f"POST /dashboard/sign-in answered without `{field}`: {answer}")
    if answer["token_type"] != "Bearer":
        raise Failure(f"POST /dashboard/sign-in answered token_type {answer['token_type']!r}, not Bearer")
    return answer["access_token"]


def figures(api, location_id=None):
    """The numbers the page should show, read from the API: current period and tiles."""
    q = "?interval=month" + (f"&location_id={location_id}" if location_id else "")
    concerns = api.get("/v1/insights/concerns" + q)
    actions = api.get("/v1/insights/actions" + q)
    learning = api.get("/v1/insights/learning" + q)
    evidence = api.get("/v1/insights/evidence" + q)
    return {
        "period": concerns["periods"][-1]["period_start_on"],
        "raised": concerns["periods"][-1]["raised"],
        "raised_total": sum(p["raised"] for p in concerns["periods"]),
        "open_now": concerns["open_now"],
        "overdue_now": concerns["overdue_now"],
        "opened": actions["periods"][-1]["opened"],
        "done": actions["periods"][-1]["done"],
        "actions_open_now": actions["open_now"],
        "amber": actions["active_plans_by_rag"]["amber"],
        "events": learning["periods"][-1]["events"],
        "metrics": len(evidence["metrics"]),
        "metric_names": {m["metric"] for m in evidence["metrics"]},
        "gaps": len(evidence["gaps"]),
        "gap_ids": set(evidence["gaps"]),
    }


def seed(api):
    """Records for the page to count. Answers the ids and what each count should grow by."""
    locations = api.get("/v1/locations?limit=200")["items"]
    demo = next((loc for loc in locations if loc["name"] == "Demo House"), None)
    if demo is None:
        raise Failure(f"no location named Demo House (the demo organisation's); found {[l['name'] for l in locations]}")
    before_all = figures(api)
    before_demo = figures(api, demo["id"])
    riverside = api.post("/v1/locations", {"name": "Riverside", "kind": "care_home"})
    ok(f"created the location Riverside ({riverside['id']})")

    concerns = [
        (demo, "Night shift short of a carer", "staffing", "high"),
        (demo, "Medicines round started late", "medication", "medium"),
        (demo, "Call bell answered slowly", "care_practice", "low"),
        (riverside, "Broken handrail on the stairs", "environment", "medium"),
    ]
    for location, title, category, risk in concerns:
        api.post("/v1/concerns", {
            "title": title, "description": f"{title}: seeded by the browser test.",
            "category": category, "risk": risk, "location_id": location["id"],
        })
    ok("raised 3 concerns at Demo House and 1 at Riverside")

    today = dt.datetime.now(dt.timezone.utc)
    plan = api.post("/v1/improvement-plans", {
        "title": "Answer call bells within 5 minutes", "objective": "Every call bell answered within 5 minutes.",
        "owner": {"sub": "dev-admin", "name": "Dashboard Test"}, "priority": "high",
        "review_cadence": "monthly", "location_id": demo["id"],
    })
    api.post(f"/v1/improvement-plans/{plan['id']}/transitions", {"to": "active"})
    due = (today + dt.timedelta(days=30)).date().isoformat()
    first = api.post(f"/v1/improvement-plans/{plan['id']}/actions", {
        "description": "Add a second night carer", "owner": {"sub": "dev-admin"}, "due_on": due})
    api.post(f"/v1/improvement-plans/{plan['id']}/actions", {
        "description": "Audit call-bell times weekly", "owner": {"sub": "dev-admin"}, "due_on": due})
    api.post(f"/v1/improvement-plans/{plan['id']}/actions/{first['id']}/transitions", {"to": "in_progress"})
    api.post(f"/v1/improvement-plans/{plan['id']}/actions/{first['id']}/transitions",
             {"to": "done", "completion_note": "Rota changed."})
    api.post(f"/v1/improvement-plans/{plan['id']}/reviews", {
        "reviewed_on": today.date().isoformat(), "progress": "amber", "notes": "Rota changed; times not yet measured."})
    ok("created an active plan at Demo House with 2 actions (1 done) and an amber review")

    occurred = (today - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    api.post("/v1/learning-events", {
        "kind": "governance_review", "occurred_at": occurred, "title": "Monthly governance meeting",
        "location_id": demo["id"],
        "went_well": "Falls down a third since the sensor mats.",
        "did_not_go_well": "Night call-bell response times.",
        "to_change": "Second night carer on the first floor.",
        "lessons": ["Check call-bell logs weekly"],
    })
    ok("recorded a governance review at Demo House")

    statement = "safe.medicines_optimisation"
    api.post("/v1/evidence", {
        "source": "audit", "evidence_category": "processes", "quality_statements": [statement],
        "title": "Medication audit", "observed_at": occurred, "location_id": demo["id"],
        "metric": {"name": "medication_audit_score", "value": 92.5, "unit": "%", "target": 95.0,
                   "direction": "at_least"},
    })
    ok("recorded a medication audit at Demo House with a score of 92.5% against a target of 95%")

    expected_all = dict(before_all)
    expected_all.update({
        "raised": before_all["raised"] + 4, "raised_total": before_all["raised_total"] + 4,
        "open_now": before_all["open_now"] + 4, "opened": before_all["opened"] + 2,
        "done": before_all["done"] + 1, "actions_open_now": before_all["actions_open_now"] + 1,
        "amber": before_all["amber"] + 1, "events": before_all["events"] + 1,
        "gaps": len(before_all["gap_ids"] - {statement}),
        "metrics": len(before_all["metric_names"] | {"medication_audit_score"}),
    })
    expected_demo = dict(before_demo)
    expected_demo.update({"raised": before_demo["raised"] + 3, "open_now": before_demo["open_now"] + 3})
    expected_riverside = {"raised": 1, "raised_total": 1, "open_now": 1, "overdue_now": 0, "opened": 0,
                          "done": 0, "actions_open_now": 0, "amber": 0, "events": 0, "metrics": 0}

    # The service's own answers must agree with what was seeded, or the page is not to blame.
    after_all = figures(api)
    after_riverside = figures(api, riverside["id"])
    for key in ("raised", "raised_total", "open_now", "opened", "done", "actions_open_now", "amber", "events", "gaps",
                "metrics"):
        if after_all[key] != expected_all[key]:
            raise Failure(f"the API counts {key} = {after_all[key]} for all locations after seeding, "
                          f"expected {expected_all[key]}")
    for key, value in expected_riverside.items():
        if after_riverside[key] != value:
            raise Failure(f"the API counts {key} = {after_riverside[key]} at Riverside, expected {value}")
    expected_all["period"] = after_all["period"]
    expected_riverside["period"] = after_riverside["period"]
    ok(f"the API's insights agree with the seeded records (period from {after_all['period']}: "
       f"{expected_all['raised']} raised in all, 1 at Riverside)")
    return demo, riverside, expected_all, expected_demo, expected_riverside


# ---- The page ---------------------------------------------------------------------------------

READ_FIGURES = """() => {
  const text = (id) => { const e = document.getElementById(id); return e ? e.textContent.trim() : null; };
  const rows = (id) => Array.from(document.querySelectorAll('#' + id + ' tbody tr:not(.empty)')).map((tr) => {
    const row = { periodStart: tr.getAttribute('data-period') };
    tr.querySelectorAll('[data-field]').forEach((td) => { row[td.getAttribute('data-field')] = td.textContent.trim(); });
    return row;
  });
  const foot = (id, field) => { const td = document.querySelector('#' + id + ' tfoot td[data-field="' + field + '"]'); return td ? td.textContent.trim() : null; };
  return {
    concerns: rows('concerns-table'), actions: rows('actions-table'), learning: rows('learning-table'),
    metrics: rows('metrics-table'),
    raisedTotal: foot('concerns-table', 'raised'),
    tiles: Object.fromEntries(['open-now', 'overdue-now', 'high-risk-overdue', 'actions-open-now',
      'actions-overdue-now', 'reviews-due', 'reviews-overdue', 'rag-red', 'rag-amber', 'rag-green',
      'rag-not-reviewed', 'gaps-count'].map((id) => [id, text(id)])),
    chartValues: Array.from(document.querySelectorAll('#concerns-chart .bar-value')).map((t) => t.textContent.trim()),
    governance: Array.from(document.querySelectorAll('#governance-table tbody tr')).map((tr) => ({
      location: tr.getAttribute('data-location-id'),
      cells: Array.from(tr.querySelectorAll('td[data-month]')).map((td) => ({
        month: td.getAttribute('data-month'), missed: td.getAttribute('data-missed'), text: td.textContent.trim() })) })),
    error: text('error'),
    status: text('status'),
  };
}"""


def wait_for_figures(page, location_id):
    selector = f'#figures[aria-busy="false"][data-location-id="{location_id}"]'
    try:
        page.wait_for_selector(selector, state="attached", timeout=TIMEOUT_MS)
    except Exception:
        error = page.text_content("#error") or ""
        raise Failure(f"the figures did not load for location {location_id or 'all'!r} within "
                      f"{TIMEOUT_MS // 1000} s; the page says: {error.strip() or '(nothing)'}") from None
    return page.evaluate(READ_FIGURES)


def check_figures(shown, expected, where):
    if shown["error"]:
        raise Failure(f"the page shows an error ({where}): {shown['error']}")
    last = shown["concerns"][-1] if shown["concerns"] else {}
    expect_equal(last.get("periodStart"), expected["period"], f"{where}: the concerns table's last row is the current month")
    expect_equal(last.get("raised"), str(expected["raised"]), f"{where}: concerns raised this month")
    expect_equal(shown["tiles"]["open-now"], str(expected["open_now"]), f"{where}: tile open-now")
    expect_equal(shown["tiles"]["overdue-now"], str(expected["overdue_now"]), f"{where}: tile overdue-now")
    if "raised_total" in expected:
        expect_equal(shown["raisedTotal"], str(expected["raised_total"]), f"{where}: concerns raised over the span (table total)")
    expect_equal(shown["chartValues"], [row["raised"] for row in shown["concerns"]],
                 f"{where}: the concerns chart's bar labels match its table")
    expect_equal(shown["actions"][-1].get("opened"), str(expected["opened"]), f"{where}: actions opened this month")
    expect_equal(shown["actions"][-1].get("done"), str(expected["done"]), f"{where}: actions done this month")
    expect_equal(shown["tiles"]["actions-open-now"], str(expected["actions_open_now"]), f"{where}: tile actions-open-now")
    expect_equal(shown["tiles"]["rag-amber"], str(expected["amber"]), f"{where}: active plans rated amber")
    expect_equal(shown["learning"][-1].get("events"), str(expected["events"]), f"{where}: learning events this month")
    expect_equal(len(shown["metrics"]), expected["metrics"], f"{where}: measures listed in the evidence table")


def launch(p):
    executable = shutil.which("chromium")
    if not executable:
        raise Failure("no `chromium` on PATH (install Debian's chromium package)")
    args = ["--disable-dev-shm-usage"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to sandbox as root
    try:
        return p.chromium.launch(executable_path=executable, args=args, headless=True)
    except Exception as e:
        raise Failure(f"Chromium ({executable}) could not start: {e}") from None


def run(base):
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    api = Api(base)
    print(f"== seeding {base} through the API")
    api.token = sign_in(api, "admin")
    ok("POST /dashboard/sign-in {\"role\": \"admin\"} answered a Bearer token")
    demo, riverside, expected_all, expected_demo, expected_riverside = seed(api)

    print("== the dashboard in headless Chromium")
    with sync_playwright() as p:
        browser = launch(p)
        ok(f"Chromium {browser.version} started")
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="UTC")
        page.set_default_timeout(TIMEOUT_MS)
        problems = []
        page.on("pageerror", lambda e: problems.append(f"uncaught error: {e}"))
        page.on("console", lambda m: problems.append(f"console: {m.text}")
                if m.type == "error" and ("Content Security Policy" in m.text or "Uncaught" in m.text) else None)

        answer = page.goto(base.rstrip("/") + "/dashboard")
        expect(answer is not None and answer.status == 200, "GET /dashboard answers 200",
               f"it answered {answer.status if answer else 'nothing'}")
        csp = answer.headers.get("content-security-policy")
        expect(bool(csp), "GET /dashboard sends a Content-Security-Policy", "none sent")
        print(f"      ({csp})")
        expect_equal(page.evaluate("document.documentElement.lang"), "en-GB", "the page's language")
        expect(page.get_by_label("Access token").get_attribute("type") == "password",
               "the token input is labelled and of type password")

        page.get_by_role("button", name="Development sign-in").click()
        shown = wait_for_figures(page, "")
        ok(f"signed in with \"Development sign-in\"; status line: {shown['status']!r}")
        expect(shown["status"].startswith("Updated at"), "the status line says when the figures were updated", shown["status"])
        options = page.eval_on_selector_all("#location option", "os => os.map(o => [o.value, o.textContent])")
        expect(options[0] == ["", "All locations"], "the first location option is \"All locations\"", str(options[0]))
        expect(any(v == riverside["id"] for v, _ in options), "Riverside is offered in the location select")
        expect_equal(page.input_value("#interval"), "month", "the interval defaults to month")
        check_figures(shown, expected_all, "all locations")
        demo_row = next((r for r in shown["governance"] if r["location"] == demo["id"]), None)
        expect(demo_row is not None, "the governance table has a row for Demo House")
        current = next((c for c in demo_row["cells"] if c["month"] == expected_all["period"]), None)
        expect(current is not None and current["missed"] == "false" and "review" in current["text"],
               "the governance table shows this month's review at Demo House", str(current))
        missed = [c for c in demo_row["cells"] if c["missed"] == "true"]
        expect(all("Missed" in c["text"] for c in missed),
               f"missed months say \"Missed\" in words ({len(missed)} at Demo House)")
        expect_equal(shown["tiles"]["gaps-count"], str(expected_all["gaps"]), "quality statements without evidence")
        metric = next((m for m in shown["metrics"] if m.get("metric") == "Medication audit score"), None)
        expect(metric is not None and metric.get("on_target") == "No" and metric.get("latest", "").startswith("92.5%"),
               "the medication audit score is listed at 92.5%, not on target", str(metric))

        page.screenshot(path=str(OUT / "dashboard.png"), full_page=True)
        ok(f"screenshot {OUT / 'dashboard.png'}")

        page.select_option("#location", riverside["id"])
        shown = wait_for_figures(page, riverside["id"])
        check_figures(shown, expected_riverside, "Riverside")
        page.screenshot(path=str(OUT / "dashboard-riverside.png"), full_page=True)
        ok(f"screenshot {OUT / 'dashboard-riverside.png'}")

        page.select_option("#location", demo["id"])
        shown = wait_for_figures(page, demo["id"])
        expect_equal(shown["concerns"][-1].get("raised"), str(expected_demo["raised"]), "Demo House: concerns raised this month")
        expect_equal(shown["tiles"]["open-now"], str(expected_demo["open_now"]), "Demo House: tile open-now")
        page.select_option("#location", "")
        wait_for_figures(page, "")

        print("== keyboard and text alternatives")
        page.click("h1")  # start sequential focus navigation from the top of the page
        presses = 0
        while page.evaluate("document.activeElement && document.activeElement.id") != "location" and presses < 30:
            page.keyboard.press("Tab")
            presses += 1
        expect(page.evaluate("document.activeElement.id") == "location",
               f"the location select is reached with the Tab key ({presses} presses)")
        focus = page.evaluate("""() => { const e = document.activeElement; const s = getComputedStyle(e);
            return { visible: e.matches(':focus-visible'), style: s.outlineStyle, width: parseFloat(s.outlineWidth) }; }""")
        expect(focus["visible"] and focus["style"] != "none" and focus["width"] >= 2,
               "the focused select shows a focus outline", str(focus))
        charts = page.evaluate("""() => Array.from(document.querySelectorAll('svg')).map((s) => {
            const ids = (s.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
            const name = ids.map((id) => { const e = document.getElementById(id); return e ? e.textContent.trim() : ''; }).join(' ').trim()
              || (s.getAttribute('aria-label') || '').trim();
            const next = s.nextElementSibling, prev = s.previousElementSibling;
            const table = [next, prev].find((e) => e && e.tagName === 'TABLE');
            return { id: s.id, role: s.getAttribute('role'), name: name, table: table ? table.id : null,
                     rows: table ? table.tBodies[0].rows.length : 0 }; })""")
        expect(len(charts) >= 3, f"{len(charts)} SVG charts on the page")
        for c in charts:
            expect(c["role"] == "img" and c["name"] and c["table"] and c["rows"] > 0,
                   f"chart {c['id']} is named {c['name'][:60]!r}… with the table {c['table']} beside it", str(c))

        page.set_viewport_size({"width": 390, "height": 844})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        expect(overflow <= 1, "nothing overflows the page sideways at a phone's width (390 px)", f"{overflow} px too wide")
        page.screenshot(path=str(OUT / "dashboard-phone.png"), full_page=True)
        ok(f"screenshot {OUT / 'dashboard-phone.png'}")
        page.set_viewport_size({"width": 1280, "height": 900})

        print("== the governance pack")
        month = expected_all["period"][:7]
        page.fill("#month", month)
        popups = []
        page.context.on("page", lambda new: popups.append(new))
        page.get_by_role("button", name="Open the governance pack").click()
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while not popups and time.monotonic() < deadline:
            error = (page.text_content("#error") or "").strip()
            if error:
                raise Failure(f"the governance pack for {month} did not open; the page says: {error}")
            page.wait_for_timeout(100)
        expect(bool(popups), f"the governance pack for {month} opened in a new tab")
        pack = popups[0]
        pack.wait_for_load_state("load")
        link = page.get_attribute("#pack-link", "href") or ""
        expect(link.startswith("blob:") and page.is_visible("#pack-link"), "the fallback link #pack-link shows the blob: URL")
        expect(pack.url.startswith("blob:"), "the pack's tab shows the blob: URL", pack.url)
        headings = pack.eval_on_selector_all("h1, h2, h3, h4, h5, h6", "hs => hs.map(h => h.textContent.trim())")
        normalised = [" ".join(h.replace("\u2019", "'").split()).lower() for h in headings]
        for wanted in PACK_HEADINGS:
            expect(any(h.startswith(wanted.lower()) for h in normalised),
                   f"the pack has the heading \"{wanted}\"", f"its headings are {headings}")
        # Each section carries something the test seeded this month.
        sections = pack.evaluate("""() => Object.fromEntries(Array.from(document.querySelectorAll('h2')).map((h) => [
            h.textContent.replace(/\u2019/g, "'").trim().toLowerCase(),
            ((h.closest('section') || document.body).textContent || '').replace(/\s+/g, ' ').toLowerCase()]))""")
        for heading, seeded, what in PACK_SEEDED:
            text = next((t for h, t in sections.items() if h.startswith(heading.lower())), "")
            expect(seeded.lower() in text, f"\"{heading}\" lists {what}", f"no {seeded!r} in: {text[:400]}")
        pack.pdf(path=str(OUT / "governance-pack.pdf"), format="A4", print_background=True)
        expect((OUT / "governance-pack.pdf").stat().st_size > 1000, f"saved {OUT / 'governance-pack.pdf'}")
        pack.screenshot(path=str(OUT / "governance-pack.png"), full_page=True)
        ok(f"screenshot {OUT / 'governance-pack.png'}")

        expect(not problems, "no script errors or Content-Security-Policy violations", "; ".join(problems))
        browser.close()


def main(run, passed):
    """A browser test's command line: `run` against BASE_URL; `passed` said when it passes."""
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} BASE_URL", file=sys.stderr)
        return 2
    try:
        run(sys.argv[1])
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    print(passed)
    return 0


if __name__ == "__main__":
    sys.exit(main(run, "dashboard browser test passed; artefacts in target/browser/"))
