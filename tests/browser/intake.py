#!/usr/bin/env python3
"""Browser test of the public intake pages (/i/{slug}) against a live careloop in development mode.

    python tests/browser/intake.py http://127.0.0.1:8080

It signs in as a manager (development sign-in) and opens an intake point taking feedback,
compliments and concerns; then, with no token at all, as a visitor would, it opens the page in
headless Chromium (the system one, through Playwright), sends each form empty and checks the
errors come back by their fields (and that nothing was stored), fills in and sends each form and
checks through the API what was stored (and that the concern's receipt code works), checks the
page on a phone and at 200% zoom, and runs axe-core (vendored in tests/browser/vendor) over every
page it sees: any serious or critical violation fails. Screenshots go to target/browser/.
The service must take a form a second after serving it (CARELOOP_INTAKE_MIN_SECONDS=1).
"""

import json
import pathlib
import sys
import time
import urllib.request

from dashboard import OUT, TIMEOUT_MS, Api, expect, expect_equal, launch, main, ok, sign_in

AXE = pathlib.Path(__file__).with_name("vendor") / "axe.min.js"
# The WCAG 2.1 A and AA rules, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
# The service's minimum time between serving a form and taking it, with a margin.
FILL_SECONDS = 1.3


def accessible(page, name):
    """Runs axe-core over the page: fails on any serious or critical violation."""
    # Evaluated through the DevTools protocol, which the page's CSP (no script at all) allows.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    bad = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
    minor = [f"{v['id']} ({v['impact']})" for v in results["violations"] if v not in bad]
    detail = "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in bad
    )
    expect(not bad, f"axe-core: no serious or critical violations on {name}", detail)
    if minor:
        print(f"  note axe-core on {name}, minor: {', '.join(minor)}", flush=True)
    ok(f"axe-core: {len(results['passes'])} rules pass on {name}")


def shot(page, name):
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"intake-{name}.png"), full_page=True)


def counts(api):
    """How many concerns, evidence and recognitions the manager sees."""
    return tuple(
        len(api.get(f"/v1/{path}?limit=200")["items"]) for path in ("concerns", "evidence", "recognitions")
    )


def receipt(base, code):
    request = urllib.request.Request(base.rstrip("/") + "/v1/receipt")
    request.add_header("Authorization", f"Receipt {code}")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def fields_in_error(page):
    return [a.get_attribute("href") for a in page.locator(".error-summary a").all()]


def run(base):
    from playwright.sync_api import sync_playwright

    api = Api(base)
    api.token = sign_in(api, "manager")
    location = api.get("/v1/locations")["items"][0]
    door = api.post(
        "/v1/intake-points",
        {"location_id": location["id"], "kinds": ["feedback", "compliment", "concern"],
         "title": "Tell us how we are doing",
         "welcome": "We read every message. You do not have to give your name."},
    )
    slug = door["slug"]
    page_path = f"{base.rstrip('/')}/i/{slug}"
    ok(f"intake point opened at {page_path}")

    with sync_playwright() as p:
        browser = launch(p)
        ok(f"Chromium {browser.version} started")
        # No token, no cookies: a visitor.
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        problems = []
        page.on("pageerror", lambda e: problems.append(f"uncaught error: {e}"))
        # A 422 page shown again is a "failed" load to the console; the statuses are checked here.
        page.on(
            "console",
            lambda m: problems.append(f"console: {m.text}")
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None,
        )

        page.goto(page_path)
        expect_equal(page.locator("h1").inner_text(), "Tell us how we are doing", "the page's heading")
        expect(location["name"] in page.locator("header").inner_text(), "the page names the location")
        expect_equal(page.locator("form").count(), 3, "a form per kind")
        expect_equal(page.locator("script").count(), 0, "no script on the page")
        trap = page.locator("#concern-website")
        box = trap.bounding_box()
        expect(box is None or box["x"] < 0, "the trap field is off the screen", str(box))
        accessible(page, "the intake page")
        shot(page, "page")

        # Empty forms come back with their errors by their fields, and store nothing.
        before = counts(api)
        page.get_by_role("button", name="Send feedback").click()
        page.wait_for_load_state()
        expect_equal(page.locator(".error-summary h2").inner_text(), "There is a problem", "the error summary")
        expect_equal(
            fields_in_error(page),
            ["#feedback-respondent", "#feedback-experience"],
            "the feedback form's errors, each linking to its field",
        )
        page.locator(".error-summary a").first.click()
        expect_equal(page.evaluate("document.activeElement.id"), "feedback-respondent", "the link moves focus to the field")
        expect(
            page.locator("#feedback-experience-error").is_visible(), "the error shows beside its field"
        )
        expect(page.title().startswith("Error:"), "the page title says there is an error", page.title())
        accessible(page, "the feedback form with errors")
        shot(page, "errors")
        page.get_by_role("button", name="Send concern").click()
        page.wait_for_load_state()
        expect_equal(
            fields_in_error(page),
            ["#concern-title", "#concern-description", "#concern-category"],
            "the concern form's errors",
        )
        page.fill("#concern-title", "Cold rooms")
        page.fill("#concern-contact_details", "07700 900123")
        time.sleep(FILL_SECONDS)
        page.get_by_role("button", name="Send concern").click()
        page.wait_for_load_state()
        expect_equal(page.input_value("#concern-title"), "Cold rooms", "what was typed is kept")
        expect(
            "#concern-consent_to_contact" in fields_in_error(page),
            "contact details without consent are refused",
            str(fields_in_error(page)),
        )
        expect_equal(counts(api), before, "nothing stored from the refused forms (concerns, evidence, recognitions)")

        # Feedback, on a phone.
        phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True)
        mobile = phone.new_page()
        mobile.set_default_timeout(TIMEOUT_MS)
        mobile.goto(page_path)
        wide = mobile.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        expect(not wide, "no sideways scrolling on a phone")
        mobile.get_by_label("A relative or friend").check()
        mobile.get_by_label("Good", exact=True).check()
        mobile.locator("#feedback").scroll_into_view_if_needed()
        mobile.screenshot(path=str(OUT / "intake-phone-feedback.png"))
        mobile.get_by_label("What was good? (optional)").fill("Staff always make time to talk to Mum.")
        mobile.get_by_label("What could be better? (optional)").fill("The lounge is cold in the evenings.")
        shot(mobile, "phone")
        time.sleep(FILL_SECONDS)
        mobile.get_by_role("button", name="Send feedback").click()
        mobile.wait_for_load_state()
        expect_equal(mobile.locator("h1").inner_text(), "Thank you", "feedback is thanked")
        accessible(mobile, "the thanks page")
        unverified = api.get("/v1/evidence?verification=unverified")["items"]
        expect(
            any(e["metric"] and e["metric"]["name"] == "ffr_score" and e["metric"]["value"] == 4.0
                and e["respondent"] == "relative" for e in unverified),
            "the feedback is stored as unverified evidence scoring 4 (ffr_score)",
            json.dumps(unverified)[:400],
        )
        phone.close()

        # At 200% zoom: the page reflows into half the width.
        zoomed = browser.new_context(viewport={"width": 640, "height": 900}, device_scale_factor=2)
        big = zoomed.new_page()
        big.goto(page_path)
        expect(
            not big.evaluate("document.documentElement.scrollWidth > window.innerWidth"),
            "no sideways scrolling at 200% zoom",
        )
        shot(big, "zoom-200")
        zoomed.close()

        # A compliment, by keyboard alone.
        page.goto(page_path)
        page.focus("#compliment-for_whom")
        page.keyboard.type("The night team")
        page.keyboard.press("Tab")
        page.keyboard.type("They made Dad feel safe again.")
        page.keyboard.press("Tab")
        page.keyboard.type("Jo")
        time.sleep(FILL_SECONDS)
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_load_state()
        expect_equal(page.locator("h1").inner_text(), "Thank you", "the compliment is thanked")
        waiting = api.get("/v1/recognitions?approval=awaiting_approval")["items"]
        expect(
            any(r["from_name"] == "Jo" and r["recipients"] == ["The night team"] for r in waiting),
            "the compliment waits for a manager's approval",
        )

        # A concern: its receipt code, shown once, opens it.
        page.goto(page_path)
        page.get_by_label("Your concern in a few words").fill("Call bells at night")
        page.get_by_label("What happened?").fill("Nobody came for twenty minutes on Tuesday night.")
        page.get_by_label("What is it about?").select_option("care_practice")
        time.sleep(FILL_SECONDS)
        page.get_by_role("button", name="Send concern").click()
        page.wait_for_load_state()
        code = page.locator("#receipt-code").inner_text()
        expect("will not be shown again" in page.locator(".receipt").inner_text(), "the page says the code is shown once")
        accessible(page, "the receipt page")
        shot(page, "receipt")
        expect_equal(receipt(base, code)["title"], "Call bells at night", "the receipt code opens the concern")
        raised = [c for c in api.get("/v1/concerns?limit=200")["items"] if c["title"] == "Call bells at night"]
        expect(
            len(raised) == 1 and raised[0]["anonymous"] and raised[0]["raised_by"]["kind"] == "anonymous",
            "the concern is anonymous",
        )

        # "You said, we did": only what a manager published.
        plan = api.post(
            "/v1/improvement-plans",
            {"title": "Warm lounge", "objective": "Warm evenings", "owner": {"sub": "dashboard-manager"},
             "priority": "medium", "review_cadence": "monthly", "location_id": location["id"]},
        )
        action = api.post(f"/v1/improvement-plans/{plan['id']}/actions",
                          {"description": "Work order 118: radiators", "owner": {"sub": "dashboard-manager"}})
        steps = f"/v1/improvement-plans/{plan['id']}/actions/{action['id']}"
        api.post(f"{steps}/transitions", {"to": "in_progress"})
        api.post(f"{steps}/transitions", {"to": "done", "completion_note": "Fitted"})
        api.call("PUT", f"{steps}/publication",
                 {"you_said": "The lounge is cold in the evenings.",
                  "we_did": "We fitted new radiators and check the temperature at 6pm."})
        page.goto(f"{page_path}/you-said-we-did")
        text = page.locator("main").inner_text()
        expect("We fitted new radiators" in text, "the published change is shown")
        expect("Work order 118" not in text, "the action's own words are not")
        accessible(page, "you said, we did")
        shot(page, "you-said-we-did")

        expect(not problems, "no script errors or Content-Security-Policy violations", "; ".join(problems))
        browser.close()


if __name__ == "__main__":
    sys.exit(main(run, "intake pages browser test passed; screenshots in target/browser/"))
