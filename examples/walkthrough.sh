#!/usr/bin/env bash
# The README's walk-through round the whole loop, against a running careloop in development mode:
#   bash examples/walkthrough.sh            (BASE defaults to http://127.0.0.1:8080)
# Run it where the service runs (or with its DATABASE_URL): `careloop token` signs with the
# development secret kept in that database. Every step stops the script loudly if it fails.
set -euo pipefail

BASE=${BASE:-http://127.0.0.1:8080}
CARELOOP=${CARELOOP:-cargo run --release -q --}
careloop() { $CARELOOP "$@"; }

# One step: a request that must succeed. `curl --fail-with-body` shows the problem it got.
call() {
  local name=$1; shift
  local answer
  if ! answer=$(curl -sS --fail-with-body "$@"); then
    echo "step '$name' failed: $answer" >&2
    exit 1
  fi
  printf '%s' "$answer"
}
# A field of a JSON answer; an empty one stops the script at the step that failed.
field() {
  local value
  value=$(python3 -c '
import json, sys
value = json.load(sys.stdin).get(sys.argv[1])
print(value if isinstance(value, str) else json.dumps(value) if value is not None else "")' "$1")
  if [ -z "$value" ]; then
    echo "the answer had no $1" >&2
    exit 1
  fi
  printf '%s' "$value"
}
json=(-H 'Content-Type: application/json')

# An organisation of your own (the demo one works too), and tokens for its people.
ORG=$(careloop org create --name "Meadowbank Care Ltd" | field id)
ADMIN=$(careloop token --org "$ORG" --role admin --sub admin-1)
MANAGER=$(careloop token --org "$ORG" --role manager --sub manager-1 --name "Alex Manager")
STAFF=$(careloop token --org "$ORG" --role staff --sub carer-7 --name "Sam Carer")
as() { printf 'Authorization: Bearer %s' "$1"; }

# A location for the concerns (admins manage locations).
LOCATION=$(call "create a location" "$BASE/v1/locations" -H "$(as "$ADMIN")" "${json[@]}" \
  -d '{"name": "Meadowbank House", "kind": "care_home"}' | field id)

# Staff raise a concern.
CONCERN=$(call "raise a concern" "$BASE/v1/concerns" -H "$(as "$STAFF")" "${json[@]}" \
  -H 'Idempotency-Key: raise-001' \
  -d "{\"title\": \"Call bells unanswered at night\",
       \"description\": \"Residents on the first floor waited over 20 minutes.\",
       \"category\": \"care_practice\", \"risk\": \"high\", \"location_id\": \"$LOCATION\"}" | field id)

# The manager acknowledges it, investigates, and resolves it with what changed.
for step in '{"to": "acknowledged", "note": "Thank you, we are on it", "visibility": "raiser"}' \
            '{"to": "investigating"}' \
            '{"to": "resolved", "outcome": "Second night carer on the first floor from 1 December", "visibility": "raiser"}'; do
  call "move the concern" "$BASE/v1/concerns/$CONCERN/transitions" -H "$(as "$MANAGER")" \
    "${json[@]}" -d "$step" | field status; echo
done

# The raiser follows it: status, outcome and the timeline entries shared with them.
call "read the concern" "$BASE/v1/concerns/$CONCERN" -H "$(as "$STAFF")"; echo
call "read its timeline" "$BASE/v1/concerns/$CONCERN/updates" -H "$(as "$STAFF")"; echo

# An anonymous concern: careloop keeps no identity and answers once with a receipt code.
RECEIPT=$(call "raise an anonymous concern" "$BASE/v1/concerns" -H "$(as "$STAFF")" "${json[@]}" \
  -d "{\"title\": \"Residents shouted at on nights\", \"description\": \"Two night staff shout at residents.\",
       \"category\": \"whistleblowing\", \"risk\": \"high\", \"location_id\": \"$LOCATION\", \"anonymous\": true}" \
  | field receipt_code)
echo "keep this receipt code: $RECEIPT"

# With the code and no token, the raiser reads the status and writes to the team. The code is
# a credential: it travels in the Authorization header, never in a URL.
call "follow by receipt" "$BASE/v1/receipt" -H "Authorization: Receipt $RECEIPT"; echo
call "write by receipt" "$BASE/v1/receipt/messages" -H "Authorization: Receipt $RECEIPT" "${json[@]}" \
  -d '{"body": "It happened again last night."}'; echo
call "read the thread by receipt" "$BASE/v1/receipt/messages" -H "Authorization: Receipt $RECEIPT"; echo

# The monthly governance review: what went well, what did not, what needs to change.
call "record the governance review" "$BASE/v1/learning-events" -H "$(as "$MANAGER")" "${json[@]}" \
  -d "{\"kind\": \"governance_review\", \"occurred_at\": \"2026-11-20T14:00:00Z\",
       \"title\": \"November governance meeting\", \"location_id\": \"$LOCATION\",
       \"participants\": [{\"role\": \"manager\", \"name\": \"Alex Manager\"}, {\"role\": \"relative\"}],
       \"went_well\": \"Falls down a third since the sensor mats\",
       \"did_not_go_well\": \"Night call-bell response times\",
       \"to_change\": \"Second night carer on the first floor\",
       \"lessons\": [\"Check call-bell logs weekly\"], \"shared_via\": [\"team_meeting\"],
       \"quality_statements\": [\"well_led.governance_management_sustainability\"],
       \"linked_records\": [{\"kind\": \"concern\", \"id\": \"$CONCERN\"}]}" | field id; echo

# Monthly medication audit results with a metric, and the metric's trend per month.
for result in 09:91 10:94 11:97; do
  month=${result%:*} score=${result#*:}
  call "record audit $month" "$BASE/v1/evidence" -H "$(as "$MANAGER")" "${json[@]}" \
    -d "{\"source\": \"audit\", \"evidence_category\": \"processes\",
         \"quality_statements\": [\"safe.medicines_optimisation\"], \"title\": \"Medication audit 2026-$month\",
         \"period_start_at\": \"2026-$month-01T00:00:00Z\", \"period_end_at\": \"2026-$month-20T00:00:00Z\",
         \"location_id\": \"$LOCATION\",
         \"metric\": {\"name\": \"medication_audit_score\", \"value\": $score, \"unit\": \"%\", \"target\": 95}}" \
    | field id >/dev/null
done
call "read the metric's series" \
  "$BASE/v1/evidence/metrics/medication_audit_score/series?interval=month&location_id=$LOCATION" \
  -H "$(as "$MANAGER")"; echo

# Years of audits held in a spreadsheet: a dry run first, then the import (UK dates). Run twice,
# the same file changes nothing: each row's external_ref names its record.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for mode in dry_run commit commit; do
  call "import evidence ($mode)" "$BASE/v1/imports?kind=evidence&mode=$mode&date_format=uk" \
    -H "$(as "$MANAGER")" -H 'Content-Type: text/csv' --data-binary "@$HERE/imports/evidence.csv" \
    | field report; echo
done
call "import learning events" "$BASE/v1/imports?kind=learning_events" -H "$(as "$MANAGER")" \
  -H 'Content-Type: application/x-ndjson' --data-binary "@$HERE/imports/learning_events.ndjson" \
  | field report; echo
call "import a plan with its actions" "$BASE/v1/imports?kind=improvement_plans" -H "$(as "$MANAGER")" \
  -H 'Content-Type: application/json' --data-binary "@$HERE/imports/improvement_plans.json" \
  | field report; echo

# Which quality statements have evidence, and a self-assessment rolled up to key questions.
# Read whole, then shown in part: `head` closing the pipe early would fail the step.
coverage=$(call "read coverage" "$BASE/v1/frameworks/cqc-saf-2024/coverage?from=2026-01-01T00:00:00Z" \
  -H "$(as "$MANAGER")")
echo "${coverage:0:600}"
for statement in safe.learning_culture safe.safeguarding safe.medicines_optimisation; do
  call "self-assess $statement" -X PUT \
    "$BASE/v1/locations/$LOCATION/self-assessments/cqc-saf-2024/quality-statements/$statement" -H "$(as "$MANAGER")" "${json[@]}" \
    -d '{"score": 3, "rationale": "Audits and debriefs show a good standard"}' | field score >/dev/null
done
call "read the self-assessment" "$BASE/v1/locations/$LOCATION/self-assessments/cqc-saf-2024" \
  -H "$(as "$MANAGER")" | field key_questions; echo

# Round the loop: the concern led to learning; the learning leads to a plan with an action.
LEARNING=$(call "record an after-action review" "$BASE/v1/learning-events" -H "$(as "$MANAGER")" "${json[@]}" \
  -d "{\"kind\": \"after_action_review\", \"occurred_at\": \"2026-11-21T10:00:00Z\", \"title\": \"Night call bells\",
       \"location_id\": \"$LOCATION\", \"linked_records\": [{\"kind\": \"concern\", \"id\": \"$CONCERN\"}], \"lessons\": [\"One carer cannot cover two floors\"]}" \
  | field id)
PLAN=$(call "create a plan" "$BASE/v1/improvement-plans" -H "$(as "$MANAGER")" "${json[@]}" \
  -d "{\"title\": \"Answer night call bells within 5 minutes\",
       \"objective\": \"Every night call bell answered within 5 minutes by March\",
       \"location_id\": \"$LOCATION\", \"owner\": {\"sub\": \"manager-1\", \"name\": \"Alex Manager\"},
       \"priority\": \"high\", \"review_cadence\": \"monthly\", \"co_produced\": true,
       \"involved\": [{\"role\": \"relative\"}], \"quality_statements\": [\"safe.safe_and_effective_staffing\"],
       \"sources\": [{\"kind\": \"learning_event\", \"id\": \"$LEARNING\"}]}" | field id)
call "activate the plan" "$BASE/v1/improvement-plans/$PLAN/transitions" -H "$(as "$MANAGER")" \
  "${json[@]}" -d '{"to": "active"}' | field status; echo
ACTION=$(call "add an action" "$BASE/v1/improvement-plans/$PLAN/actions" -H "$(as "$MANAGER")" "${json[@]}" \
  -d '{"description": "Second night carer on the first floor", "owner": {"sub": "carer-7", "name": "Sam Carer"}, "due_on": "2026-12-01"}' \
  | field id)

# The monthly review, and what is due at the next governance meeting.
call "review the plan" "$BASE/v1/improvement-plans/$PLAN/reviews" -H "$(as "$MANAGER")" "${json[@]}" \
  -d '{"reviewed_on": "2026-11-26", "progress": "amber", "notes": "Rota drafted; recruiting"}'; echo
call "read reviews due" "$BASE/v1/reviews/due?within_days=40" -H "$(as "$MANAGER")"; echo

# Sam, who owns the action, sees it on their phone and finishes it (celebrating the milestone).
call "read my actions" "$BASE/v1/actions?owner=me&status=open" -H "$(as "$STAFF")"; echo
call "start the action" "$BASE/v1/improvement-plans/$PLAN/actions/$ACTION/transitions" \
  -H "$(as "$STAFF")" "${json[@]}" -d '{"to": "in_progress"}' | field status; echo
call "finish the action" "$BASE/v1/improvement-plans/$PLAN/actions/$ACTION/transitions" \
  -H "$(as "$STAFF")" "${json[@]}" \
  -d '{"to": "done", "completion_note": "Second carer on nights from 1 December", "celebrate": true}'; echo

# The manager checks the change worked, with evidence from a call-bell audit.
CHECK=$(call "record the check" "$BASE/v1/evidence" -H "$(as "$MANAGER")" "${json[@]}" \
  -d "{\"source\": \"audit\", \"evidence_category\": \"processes\", \"quality_statements\": [\"safe.safe_and_effective_staffing\"],
       \"title\": \"Night call-bell audit\", \"observed_at\": \"2026-11-26T08:00:00Z\", \"location_id\": \"$LOCATION\",
       \"metric\": {\"name\": \"night_call_bell_minutes\", \"value\": 3.5, \"target\": 5, \"direction\": \"at_most\"}}" \
  | field id)
call "record that the change worked" -X PATCH "$BASE/v1/improvement-plans/$PLAN/actions/$ACTION" \
  -H "$(as "$MANAGER")" "${json[@]}" \
  -d "{\"effectiveness\": \"effective\", \"checked_on\": \"2026-11-26\", \"check_evidence\": [{\"kind\": \"evidence\", \"id\": \"$CHECK\"}]}"; echo

# The newsletter's highlights ("you said, we did", lessons, milestones), and the concern's trail.
call "read highlights" "$BASE/v1/highlights" -H "$(as "$STAFF")"; echo
call "read the concern's trail" "$BASE/v1/concerns/$CONCERN/trail" -H "$(as "$MANAGER")"; echo

# Overdue concerns, and the audit trail (admins and viewers).
call "read overdue concerns" "$BASE/v1/concerns?overdue=true" -H "$(as "$MANAGER")"; echo
call "read the audit trail" "$BASE/v1/audit-events?resource_type=concern" -H "$(as "$ADMIN")"; echo
echo "walk-through complete"
