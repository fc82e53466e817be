#!/usr/bin/env python3
"""Usage: bench/insights_seed.py DATABASE ORGANISATION_ID [SCALE]

Seeds one organisation of a migrated careloop SQLite database with two years of records for
bench/insights.sh, by direct INSERTs in one transaction: 3 locations, 100,000 concerns, 50,000
evidence items (each tagged to 1-2 quality statements; two statements have none in the last
12 months), 2,000 improvement plans with 10 actions each and their reviews, and ~5,000 learning
events (a governance review per location per month, some months missed). SCALE (default 1)
multiplies the counts, for a quick try. Rows mimic what the server writes (read back from rows
made through the API): UUIDv7 ids, UTC timestamps as diesel's `%F %T%.f`, booleans 0/1, JSON
lists as compact JSON text. Prints the counts.
"""
import datetime as dt
import json
import os
import random
import sqlite3
import sys
from bisect import bisect_left

db_path, org = sys.argv[1], sys.argv[2]
scale = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
random.seed(20261127)  # the same data every run (relative to today)

NOW = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
TODAY = NOW.date()
START = NOW - dt.timedelta(days=730)  # the last 24 months
EPOCH = dt.datetime(1970, 1, 1)
H, D = dt.timedelta(hours=1), dt.timedelta(days=1)


def uid(at):
    """A UUIDv7: 48 bits of Unix milliseconds, then version 7, variant 10 and random bits."""
    ms = (at - EPOCH) // dt.timedelta(milliseconds=1)
    n = (ms << 80) | (0x7 << 76) | (random.getrandbits(12) << 64) | (0b10 << 62) | random.getrandbits(62)
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def ts(at):
    """diesel's SQLite NaiveDateTime text, chrono `%Y-%m-%d %H:%M:%S%.f`: the fraction has 0, 3
    or 6 digits, as few as show it exactly."""
    if at is None:
        return None
    s, us = at.strftime("%Y-%m-%d %H:%M:%S"), at.microsecond
    return s if us == 0 else f"{s}.{us // 1000:03d}" if us % 1000 == 0 else f"{s}.{us:06d}"


def day(d):
    return None if d is None else d.isoformat()


def between(a, b):
    """A random moment in [a, b)."""
    return a + (b - a) * random.random()


def capped(at):
    return min(at, NOW - dt.timedelta(seconds=random.randint(1, 3600)))


def add_months(d, n):
    """Month ends clamp, as domain::improvement::next_review_due does."""
    y, m = divmod(d.month - 1 + n, 12)
    y, m = d.year + y, m + 1
    last = (dt.date(y + (m == 12), m % 12 + 1, 1) - D).day
    return dt.date(y, m, min(d.day, last))


def pick(weights):
    """random.choices over a {value: weight} dict, one value."""
    return random.choices(list(weights), weights=list(weights.values()))[0]


def js(value):
    return json.dumps(value, separators=(",", ":"))


STAFF = [f"staff-{i:02d}" for i in range(1, 61)]
MANAGERS = ["manager-1", "manager-2", "manager-3"]
NAMES = {"manager-1": "Alex Manager", "manager-2": "Sam Deputy", "manager-3": "Jo Lead"}
ROLES = ["staff", "manager", "person_using_service", "relative", "professional"]

con = sqlite3.connect(db_path)
con.execute("BEGIN")
rows = {}


def insert(table, columns, values):
    con.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", values
    )
    rows[table] = rows.get(table, 0) + len(values)


tags, links = [], []  # quality_statement_tags, record_links

# ---- locations (created two years and a day ago, so every record is after them)
locations = []
for i, name in enumerate(["Oak House", "Willow Court", "Home Care North"]):
    at = START - D + i * H
    locations.append((uid(at), org, name, ["care_home", "nursing_home", "home_care"][i], None,
                      None, None, 1, ts(at), ts(at)))
insert("locations", ["id", "organisation_id", "name", "kind", "cqc_location_id", "external_system",
                     "external_id", "version", "created_at", "updated_at"], locations)
LOCS = [l[0] for l in locations]

# ---- concerns
CATEGORY = {"safeguarding": 12, "care_practice": 25, "medication": 15, "staffing": 14,
            "environment": 8, "culture": 6, "whistleblowing": 2, "complaint": 14, "other": 4}
RISK = {"low": 35, "medium": 40, "high": 20, "critical": 5}
concerns, concern_times = [], []
n_concerns = int(100_000 * scale)
for created in sorted(between(START, NOW) for _ in range(n_concerns)):
    category, risk = pick(CATEGORY), pick(RISK)
    anonymous = random.random() < 0.05
    if anonymous:  # the server rounds an anonymous raiser's time down to the hour
        created = created.replace(minute=0, second=0, microsecond=0)
    # Safeguarding and whistleblowing are confidential unless the raiser says otherwise.
    confidential = random.random() < (0.9 if category in ("safeguarding", "whistleblowing") else 0.05)
    raiser = None if anonymous else random.choice(STAFF)
    ack_by, feedback_by = created + 72 * H, created + 90 * D
    # Most are acknowledged within the 72 hours and resolved within the 90 days; some not.
    acked = created + (random.uniform(0.2, 70) if random.random() < 0.85 else random.uniform(72, 240)) * H
    resolved = created + (random.uniform(2, 88) if random.random() < 0.75 else random.uniform(90, 200)) * D
    stuck = random.random() < 0.03  # open for good: the overdue list
    escalated_to = outcome = acknowledged_at = resolved_at = None
    if acked > NOW or random.random() < 0.005:
        status, updated = "raised", created
    elif resolved > NOW or acked + H > NOW or stuck:
        status = pick({"acknowledged": 3, "investigating": 5, "escalated": 2})
        acknowledged_at, updated = acked, max(acked, capped(between(acked, NOW)))
    else:
        status = pick({"resolved": 4, "closed": 6})
        acknowledged_at, resolved_at = acked, max(resolved, acked + H)
        outcome = "Practice changed and the raiser told what was done."
        updated = max(resolved_at, capped(resolved_at + random.uniform(0, 14) * D)) if status == "closed" else resolved_at
    if status == "escalated" or (status in ("resolved", "closed") and random.random() < 0.1):
        escalated_to = "Local authority safeguarding team"
    concerns.append((
        uid(created), org, random.choice(LOCS), f"{category.replace('_', ' ').capitalize()} concern",
        "What was seen, when, and who was involved.", category, risk, status, int(confidential),
        int(anonymous), raiser, None if raiser is None or random.random() < 0.5 else f"Carer {raiser[-2:]}",
        f"{random.getrandbits(256):064x}" if anonymous else None, None, None, escalated_to, outcome,
        ts(ack_by), ts(feedback_by), ts(acknowledged_at), ts(resolved_at), 1, ts(created), ts(updated)))
    concern_times.append(created)
insert("concerns", ["id", "organisation_id", "location_id", "title", "description", "category", "risk",
                    "status", "confidential", "anonymous", "raised_by_sub", "raised_by_name",
                    "receipt_hash", "external_system", "external_id", "escalated_to", "outcome",
                    "acknowledge_by", "feedback_by", "acknowledged_at", "resolved_at", "version",
                    "created_at", "updated_at"], concerns)


def concern_before(at):
    """A random concern raised before `at` (for links to the concern a record came from)."""
    i = bisect_left(concern_times, at)
    return concerns[random.randrange(i)][0] if i else None


# ---- evidence: half carry a metric, each metric with its own source, category and statement
# name: (source, category, unit, target, direction, statement, base value, spread)
METRICS = {
    "medication_audit_score": ("audit", "processes", "%", 95, "at_least", "safe.medicines_optimisation", 90, 5),
    "falls_per_month": ("outcome_measure", "outcomes", "falls", 4, "at_most", "safe.involving_people_to_manage_risks", 5, 2),
    "training_compliance": ("training_compliance", "processes", "%", 90, "at_least", "safe.safe_and_effective_staffing", 86, 5),
    "ffr_score": ("feedback", "peoples_experience", "%", 90, "at_least", "caring.kindness_compassion_dignity", 88, 6),
    "infection_control_audit_score": ("audit", "processes", "%", 95, "at_least", "safe.infection_prevention_and_control", 93, 4),
    "pressure_ulcers": ("outcome_measure", "outcomes", "cases", 0, "at_most", "effective.monitoring_improving_outcomes", 1, 1),
    "call_bell_response_minutes": ("observation", "observation", "min", 5, "at_most", "responsive.person_centred_care", 5, 2),
    "staff_turnover_percent": ("outcome_measure", "outcomes", "%", 10, "at_most", "well_led.workforce_edi", 12, 3),
}
SOURCE_CATEGORY = {
    "audit": "processes", "incident_analysis": "processes", "complaint_analysis": "peoples_experience",
    "outcome_measure": "outcomes", "feedback": "peoples_experience", "training_compliance": "processes",
    "environmental_check": "observation", "compliment": "peoples_experience", "observation": "observation",
}
# The quality statements of the shipped CQC catalogue, as the server validates tags against it.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "frameworks", "cqc-saf-2024.json")) as f:
    STATEMENTS = [s["id"] for q in json.load(f)["key_questions"] for s in q["quality_statements"]]
# Two statements get no evidence in the last 12 months, so the evidence insights have gaps.
GAPS = {"responsive.equity_in_access", "well_led.environmental_sustainability"}
RECENT = [s for s in STATEMENTS if s not in GAPS]
evidence = []
n_evidence = int(50_000 * scale)
for observed in sorted(between(START, NOW) for _ in range(n_evidence)):
    location = random.choice(LOCS)
    created = capped(observed + random.uniform(0, 72) * H)
    metric = random.choice(list(METRICS)) if random.random() < 0.5 else None
    if metric:
        source, category, unit, target, direction, statement, base, spread = METRICS[metric]
        # Each location drifts its own way over the two years, so trends differ.
        drift = (LOCS.index(location) - 1) * spread * (observed - START) / (NOW - START)
        value = round(max(0.0, min(100.0, random.gauss(base + drift, spread))), 1)
        statements = [statement] + ([random.choice(RECENT)] if random.random() < 0.3 else [])
        title = f"{metric.replace('_', ' ').capitalize()}"
    else:
        source = random.choice(list(SOURCE_CATEGORY))
        category = SOURCE_CATEGORY[source] if random.random() < 0.8 else random.choice(
            ["peoples_experience", "feedback_staff_leaders", "feedback_partners", "observation", "processes", "outcomes"])
        value = unit = target = direction = None
        statements = random.sample(STATEMENTS if NOW - observed > 365 * D else RECENT, random.choice([1, 1, 2]))
        title = f"{source.replace('_', ' ').capitalize()} record"
    # A respondent is required for feedback (and given for compliments).
    respondent = random.choice(ROLES) if source in ("feedback", "compliment") else None
    archived = capped(created + random.uniform(1, 60) * D) if random.random() < 0.02 else None
    eid = uid(created)
    evidence.append((eid, org, location, source, category, title, None, ts(observed), None, None,
                     ts(observed), respondent, metric, value, unit, None if metric is None else float(target),
                     direction, "[]", None, None, random.choice(STAFF + MANAGERS), ts(archived), 1,
                     ts(created), ts(archived or created)))
    tags.extend((org, "evidence", eid, s) for s in dict.fromkeys(statements))
insert("evidence", ["id", "organisation_id", "location_id", "source", "evidence_category", "title",
                    "summary", "observed_at", "period_start", "period_end", "dated_at", "respondent",
                    "metric_name", "metric_value", "metric_unit", "metric_target", "metric_direction",
                    "links", "external_system", "external_id", "recorded_by", "archived_at", "version",
                    "created_at", "updated_at"], evidence)

# ---- improvement plans, 10 actions each, and their reviews
CADENCE_MONTHS = {"monthly": 1, "quarterly": 3, "annually": 12}
plans, actions, reviews = [], [], []
for created in sorted(between(START, NOW) for _ in range(int(2_000 * scale))):
    pid = uid(created)
    cadence = pick({"monthly": 5, "quarterly": 4, "annually": 1})
    status = (pick({"draft": 6, "active": 4}) if NOW - created < 14 * D
              else pick({"draft": 5, "active": 45, "completed": 38, "archived": 12}))
    activated = completed = None
    if status != "draft" and not (status == "archived" and random.random() < 0.2):
        activated = capped(created + random.uniform(0, 14) * D)
    if status == "completed" or (status == "archived" and activated and random.random() < 0.5):
        completed = activated + random.uniform(30, 300) * D
        if completed > NOW:  # not done yet: still active
            status, completed = "active", None
    # Reviews happen while the plan is active: until it completed, or was archived.
    end = completed or (between(activated, NOW) if status == "archived" and activated else NOW)
    # Reviews about once a cadence from activation, a few days either side; the latest six kept.
    dates, k = [], 1
    while activated:
        on = add_months(activated.date(), k * CADENCE_MONTHS[cadence]) + random.randint(-5, 10) * D
        if on > end.date() or on > TODAY:
            break
        dates.append(on)
        k += 1
    dates = dates[-6:]
    if status == "active" and dates and random.random() < 0.25:
        dates.pop()  # a missed review: more plans overdue
    for on in dates:
        at = capped(dt.datetime.combine(on, dt.time(10)) + random.uniform(0, 8) * H)
        reviews.append((uid(at), org, pid, day(on), pick({"green": 45, "amber": 40, "red": 15}),
                        "Progress discussed at the governance meeting.", None, None,
                        random.choice(MANAGERS), ts(at)))
    last_review = dates[-1] if dates else None
    next_due = None
    if status == "active":  # plans::rows::review_due: only an active plan has one
        next_due = add_months(last_review or activated.date(), CADENCE_MONTHS[cadence])
    co_produced = random.random() < 0.3
    involved = [{"role": r, "name": None} for r in random.sample(ROLES[2:], random.randint(1, 2))] if co_produced else []
    owner = random.choice(MANAGERS)
    updated = max([created] + [t for t in (activated, completed) if t] + ([end] if status == "archived" else []))
    plans.append((pid, org, random.choice(LOCS), "Improve " + random.choice(["falls", "medication", "staffing", "dining", "call bells", "activities"]),
                  "What should be better, and how we will know.", owner, NAMES[owner],
                  pick({"low": 2, "medium": 5, "high": 3, "urgent": 1}), status, cadence, int(co_produced),
                  js(involved), day(activated and activated.date()), ts(activated), day(last_review),
                  day(next_due), ts(completed), None, None, owner, 1, ts(created), ts(updated)))
    source = concern_before(created) if random.random() < 0.4 else None
    if source:  # the concern it came from
        links.append((org, "improvement_plan", pid, "concern", source))
    if random.random() < 0.7:
        tags.append((org, "improvement_plan", pid, random.choice(STATEMENTS)))
    for _ in range(10):
        a_created = capped((activated or created) + random.uniform(0, 7) * D)
        due = None if random.random() < 0.05 else (a_created + random.randint(14, 120) * D).date()
        late = due is not None and due < TODAY
        if status == "draft":
            a_status = pick({"open": 9, "in_progress": 1})
        elif status == "completed" or (status == "archived" and completed):
            a_status = pick({"done": 9, "cancelled": 1})  # a plan completes with none open
        else:
            a_status = pick({"done": 6, "in_progress": 2, "open": 1, "cancelled": 1} if late
                            else {"done": 25, "in_progress": 35, "open": 35, "cancelled": 5})
        done_at = checked_on = None
        effectiveness = "not_checked"
        a_updated = a_created
        if a_status == "done" and NOW - a_created < D:
            a_status = "in_progress"  # too new to be done
        if a_status == "done":
            done_at = capped(between(a_created + D, completed or NOW))
            a_updated = done_at
            # Effectiveness is checked some weeks after, on a day that has passed.
            check = done_at.date() + random.randint(7, 60) * D
            if check <= TODAY and random.random() < 0.55:
                effectiveness, checked_on = pick({"effective": 8, "not_effective": 2}), check
        elif a_status != "open":
            a_updated = capped(between(a_created, completed or NOW))
        aid = uid(a_created)
        actions.append((aid, org, pid, "Change the rota and check it weekly", random.choice(STAFF + MANAGERS),
                        None, day(due), a_status, "Done and recorded." if a_status == "done" else None,
                        "No longer needed." if a_status == "cancelled" else None, effectiveness,
                        day(checked_on), ts(done_at), None, None, 1, ts(a_created), ts(a_updated)))
        links.append((org, "improvement_plan", pid, "action", aid))  # as the server links each action
insert("improvement_plans", ["id", "organisation_id", "location_id", "title", "objective", "owner_sub",
                             "owner_name", "priority", "status", "review_cadence", "co_produced",
                             "involved", "activated_on", "activated_at", "last_reviewed_on",
                             "next_review_due", "completed_at", "external_system", "external_id",
                             "created_by", "version", "created_at", "updated_at"], plans)
insert("plan_actions", ["id", "organisation_id", "plan_id", "description", "owner_sub", "owner_name",
                        "due_on", "status", "completion_note", "cancel_reason", "effectiveness",
                        "checked_on", "completed_at", "external_system", "external_id", "version",
                        "created_at", "updated_at"], actions)
insert("plan_reviews", ["id", "organisation_id", "plan_id", "reviewed_on", "progress", "notes",
                        "priority_from", "priority_to", "reviewed_by", "created_at"], reviews)

# ---- learning events: a governance review per location per month (about one in eight missed,
# and the last location misses the previous month, so a pack has a gap), then other kinds
events = []


def event(kind, occurred, location, reflection):
    created = capped(occurred + random.uniform(0, 48) * H)
    eid = uid(created)
    participants = [{"role": "manager", "name": NAMES[random.choice(MANAGERS)]}] + [
        {"role": random.choice(ROLES), "name": None} for _ in range(random.randint(0, 4))]
    lessons = [f"Lesson {i + 1}: what we will do differently." for i in range(random.randint(0 if not reflection else 1, 3))]
    shared = random.sample(["team_meeting", "newsletter", "handover", "supervision", "training", "other"],
                           random.randint(1, 2)) if lessons and random.random() < 0.8 else []
    events.append((eid, org, location, kind, ts(occurred), kind.replace("_", " ").capitalize(), None,
                   random.choice(list(NAMES.values())), js(participants),
                   *(("Actions from last month done.", "Two audits late.", "Book audits a month ahead.")
                     if reflection else (None, None, None)),
                   js(lessons), js(shared), None, None, random.choice(MANAGERS), 1, ts(created), ts(created)))
    return eid


this_month = TODAY.replace(day=1)
for li, location in enumerate(LOCS):
    for back in range(1, 25):  # the 24 finished months
        month = add_months(this_month, -back)
        if (back == 1 and li == len(LOCS) - 1) or (back > 1 and random.random() < 0.12):
            continue
        occurred = dt.datetime.combine(month + random.randint(14, 26) * D, dt.time(14))
        if occurred < START:
            continue
        eid = event("governance_review", occurred, location, True)
        tags.append((org, "learning_event", eid, "well_led.governance_management_sustainability"))
KINDS = {"post_incident_debrief": 20, "after_action_review": 10, "reflective_discussion": 15,
         "peer_observation": 10, "lessons_shared": 15, "audit_review": 10, "supervision": 15,
         "joint_review_with_people": 5}
for occurred in sorted(between(START, NOW) for _ in range(int(5_000 * scale) - len(events))):
    kind = pick(KINDS)
    debrief = kind in ("post_incident_debrief", "after_action_review")
    eid = event(kind, occurred, random.choice(LOCS) if random.random() < 0.95 else None,
                debrief and random.random() < 0.5)
    source = concern_before(occurred) if debrief and random.random() < 0.4 else None
    if source:  # learning from a concern
        links.append((org, "learning_event", eid, "concern", source))
    if random.random() < 0.6:
        tags.append((org, "learning_event", eid, random.choice(STATEMENTS)))
insert("learning_events", ["id", "organisation_id", "location_id", "kind", "occurred_at", "title",
                           "summary", "facilitator", "participants", "went_well", "did_not_go_well",
                           "to_change", "lessons", "shared_via", "external_system", "external_id",
                           "recorded_by", "version", "created_at", "updated_at"], events)

# Tags and links are keyed by record, so a record never repeats one (dict.fromkeys keeps order).
insert("quality_statement_tags", ["organisation_id", "record_type", "record_id", "quality_statement_id"],
       list(dict.fromkeys(tags)))
insert("record_links", ["organisation_id", "from_type", "from_id", "to_type", "to_id"], list(dict.fromkeys(links)))
# Each record keeps its tags in its own row too, as the server writes them: a sorted JSON list.
kept = {}
for _, kind, record_id, statement in dict.fromkeys(tags):
    kept.setdefault((kind, record_id), set()).add(statement)
TABLES = {"concern": "concerns", "learning_event": "learning_events", "evidence": "evidence",
          "improvement_plan": "improvement_plans"}
for (kind, record_id), statements in kept.items():
    con.execute(f"UPDATE {TABLES[kind]} SET tags = ? WHERE id = ?",
                (json.dumps(sorted(statements), separators=(",", ":")), record_id))
con.commit()
con.execute("ANALYZE")
con.commit()
for table, n in rows.items():
    print(f"{table}={n}")
