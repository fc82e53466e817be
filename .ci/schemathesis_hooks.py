"""schemathesis hooks for .ci/contract: valid requests that the server can also accept.

A request schemathesis means to be valid (positive mode) must also keep rules that JSON Schema
cannot state, or careloop refuses it, as it should. This hook makes such requests keep them:

- references name records that exist: the ones .ci/contract seeded (CARELOOP_FUZZ_* ids; a
  `{kind, id}` reference names the seeded record of its kind; a client's `locations` and a
  webhook's `location_ids` the seeded location), a webhook's `url` a public https:// one and its
  `event_types` events careloop sends,
  and quality statements and evidence categories from the assessment framework, which is data;
- dates that must not be in the future are not (reviews, recognitions, learning, checks), and
  a governance pack's review is held after its month (the seeded one) began: now;
- a `from`/`to` or `period_start_at`/`period_end_at` pair is in order;
- the fields the field descriptions make required by another field's value are given: a
  concern moved to `escalated` names `escalated_to`, to `resolved` an `outcome`; an action moved
  to `done` has a `completion_note`, to `cancelled` a `cancel_reason`; a new governance review has its
  three reflections; new evidence has `observed_at` or a whole period, and feedback its
  `respondent`;
- a person using the service or a relative named as a participant agreed to be named
  (`agreed_to_be_named: true`), as the field's description says;
- a well-formed Idempotency-Key is unique, since the same key with another body is 422 by
  design and the generator draws few distinct keys ("0", "A", ...).

Only values the schema already allows are swapped for other values it allows, so a rule the
schema could state but does not still fails positive_data_acceptance. Invalid (negative)
requests go out as drawn, but for the Idempotency-Key suffix.
"""

import datetime as dt
import json
import os
import re
import uuid

import schemathesis

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
WELL_FORMED_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # the server's rule for Idempotency-Key
# The document's pattern for If-Match. schemathesis 4.32 draws header values in positive mode
# without their `pattern` (it sent `If-Match: 0`), so a drawn value outside it is replaced by one
# inside; an invalid If-Match is still sent in negative mode and must be refused.
IF_MATCH = re.compile(r'(\*|(W/)?"[!#-~]*"( *, *(W/)?"[!#-~]*")*)')
SEEDED = {"location_id": "CARELOOP_FUZZ_LOCATION"}
# A `{kind, id}` reference names the seeded record of its kind.
SEEDED_KIND = {
    "concern": "CARELOOP_FUZZ_CONCERN",
    "learning_event": "CARELOOP_FUZZ_LEARNING",
    "evidence": "CARELOOP_FUZZ_EVIDENCE",
    "improvement_plan": "CARELOOP_FUZZ_PLAN",
    "action": "CARELOOP_FUZZ_ACTION",
}
REFERENCES = {"linked_records", "sources", "check_evidence", "evidence"}
# Participants named only with their agreement.
NAMED_BY_CONSENT = {"person_using_service", "relative"}
NOT_FUTURE = {"reviewed_on", "occurred_on", "occurred_at", "checked_on"}
FRAMEWORK_DATA = {"quality_statements": "safe.safeguarding", "evidence_category": "processes"}
# A webhook goes to a public https:// address (careloop refuses others), here one that never
# resolves (RFC 2606), to events careloop sends.
WEBHOOK_URL = "https://hooks.example.invalid/careloop"
EVENT_TYPES = ["*", "concern.created", "action.completed", "evidence.*"]


def seeded(key):
    return os.environ[SEEDED[key]]


def is_uuid(value):
    return isinstance(value, str) and UUID.fullmatch(value) is not None


def when(value):
    """A date or an offset date-time as the schema's formats allow, else None."""
    try:
        if "T" in value:
            at = dt.datetime.fromisoformat(value)
            return at if at.tzinfo else None
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def not_future(value):
    at = when(value)
    if isinstance(at, dt.datetime):
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        return now.isoformat().replace("+00:00", "Z") if at > now else value
    return min(at, dt.datetime.now(dt.timezone.utc).date()).isoformat() if at else value


def in_order(data, first, last):
    a, b = when(data.get(first)), when(data.get(last))
    if a and b and type(a) is type(b) and a > b:
        data[first], data[last] = data[last], data[first]


# Fields another field's value makes required (documented on the fields), by the operation's
# path: {path suffix: (field, {value: {field needed: filler}})}.
NEEDED = {
    "/v1/concerns/{concern_id}/transitions": ("to", {
        "escalated": {"escalated_to": "Area safeguarding lead"},
        "resolved": {"outcome": "Second night carer from 1 December"},
    }),
    "/v1/improvement-plans/{plan_id}/actions/{action_id}/transitions": ("to", {
        "done": {"completion_note": "Rota changed"},
        "cancelled": {"cancel_reason": "Superseded by the new rota"},
    }),
    "/v1/learning-events": ("kind", {
        "governance_review": {"went_well": "Falls down", "did_not_go_well": "Call bells",
                              "to_change": "Second night carer"},
    }),
    "/v1/evidence": ("source", {"feedback": {"respondent": "relative"}}),
}


def give_needed(path, data):
    if isinstance(data, dict) and path == "/v1/governance-packs/{month}/review" and "occurred_at" in data:
        data["occurred_at"] = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    if not isinstance(data, dict) or path not in NEEDED:
        return
    field, needs = NEEDED[path]
    for name, filler in needs.get(data.get(field), {}).items():
        if not isinstance(data.get(name), str) or not data[name].strip():
            data[name] = filler
    if path == "/v1/evidence":
        # `observed_at`, or both ends of a period, and not both.
        if data.get("observed_at") is not None:
            data.pop("period_start_at", None)
            data.pop("period_end_at", None)
        elif data.get("period_start_at") is None or data.get("period_end_at") is None:
            data.pop("period_start_at", None)
            data.pop("period_end_at", None)
            data["observed_at"] = "2026-01-15T10:00:00Z"


def keep_rules(data):
    if isinstance(data, list):
        for item in data:
            keep_rules(item)
        return
    if not isinstance(data, dict):
        return
    for key, value in list(data.items()):
        if key == "location_id" and is_uuid(value):
            data[key] = seeded(key)
        elif key in ("locations", "location_ids") and isinstance(value, list) and all(is_uuid(v) for v in value):
            data[key] = [seeded("location_id") for _ in value]
        elif key == "url" and isinstance(value, str):
            data[key] = WEBHOOK_URL
            # The fuzzer's endpoints stay disabled, or every change it makes would be queued
            # to each of them while it runs.
            data["enabled"] = False
        elif key == "enabled" and value is True:
            data[key] = False
        elif key == "event_types" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            data[key] = [EVENT_TYPES[i % len(EVENT_TYPES)] for i in range(len(value))]
        elif key in REFERENCES and isinstance(value, list):
            for record in value:
                if isinstance(record, dict) and is_uuid(record.get("id")) and record.get("kind") in SEEDED_KIND:
                    record["id"] = os.environ[SEEDED_KIND[record["kind"]]]
        elif key == "quality_statements" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            data[key] = [FRAMEWORK_DATA[key] for _ in value]
        elif key == "evidence_category" and isinstance(value, str):
            data[key] = FRAMEWORK_DATA[key]
        elif key in NOT_FUTURE and isinstance(value, str):
            data[key] = not_future(value)
        elif key == "name" and isinstance(value, str) and data.get("role") in NAMED_BY_CONSENT:
            data["agreed_to_be_named"] = True
        else:
            keep_rules(value)
    in_order(data, "period_start_at", "period_end_at")


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    """An import's NDJSON file goes on the wire as it was drawn (a string or bytes)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value).encode("utf-8")


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and WELL_FORMED_KEY.fullmatch(key):
        headers["Idempotency-Key"] = key[:200] + uuid.uuid4().hex
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    if_match = headers.get("If-Match")
    if isinstance(if_match, str) and not IF_MATCH.fullmatch(if_match):
        headers["If-Match"] = '"1"'
    if case.query:
        in_order(case.query, "from", "to")
    keep_rules(case.body)
    give_needed(case.operation.path, case.body)
