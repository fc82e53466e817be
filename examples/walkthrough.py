"""The README walk-through, driven only through a client generated from the live /openapi.json.

    openapi-python-client generate --path openapi.json --meta none \
        --output-path CLIENT/careloop_client   # with package_name_override: careloop_client
    CARELOOP_BASE_URL=http://127.0.0.1:8080 CARELOOP_ADMIN_TOKEN=... CARELOOP_MANAGER_TOKEN=... \
        CARELOOP_STAFF_TOKEN=... PYTHONPATH=CLIENT python examples/walkthrough.py

The tokens are an admin's, a manager's (sub manager-1) and a staff member's (sub carer-7) of one
organisation (`.ci/contract` mints them). Every answer must have the documented status and parse
into the generated model, with every declared field and no other; the first that does not stops
the script with the status and body. Dates are relative to today (the service refuses
reviews and recognitions in the future), otherwise the bodies are the README's.
"""

import datetime as dt
import os
import sys
import traceback

import attrs

from careloop_client import AuthenticatedClient, Client
from careloop_client.types import Unset
from careloop_client.api.audit import list_audit_events
from careloop_client.api.concerns import (
    get_concern_trail,
    create_concern,
    get_concern,
    list_concern_updates,
    list_concerns,
    transition_concern,
)
from careloop_client.api.evidence import create_evidence, get_metric_series
from careloop_client.api.frameworks import get_framework_coverage
from careloop_client.api.improvement import (
    create_plan_action,
    create_plan,
    create_review,
    list_actions,
    list_due_reviews,
    transition_plan_action,
    transition_plan,
    update_plan_action,
)
from careloop_client.api.learning import create_learning_event
from careloop_client.api.locations import create_location
from careloop_client.api.receipts import add_receipt_message, get_receipt, list_receipt_messages
from careloop_client.api.recognition import list_highlights
from careloop_client.api.self_assessment import get_self_assessment, set_statement_score
from careloop_client.models import (
    EvidenceReference,
    EvidenceReferenceKind,
    LearningSourceRecord,
    LearningSourceRecordKind,
    AuditResource,
    PersonKind,
    ActionStatus,
    ActionTransition,
    Concern,
    ConcernCategory,
    ConcernStatus,
    Coverage,
    Effectiveness,
    Evidence,
    EvidenceSource,
    ImprovementPlan,
    LearningEvent,
    LearningKind,
    Location,
    LocationKind,
    MetricInput,
    MetricDirection,
    MetricSeries,
    NewConcern,
    NewEvidence,
    NewImprovementPlan,
    NewLearningEvent,
    NewLocation,
    NewPlanAction,
    NewPlanReview,
    NewReceiptMessage,
    NewSelfAssessment,
    PersonInput,
    PaginatedAuditEvent,
    PaginatedConcern,
    PaginatedConcernUpdate,
    PaginatedReceiptUpdate,
    PaginatedDueReview,
    PaginatedHighlight,
    PaginatedPlanAction,
    ParticipantInput,
    PersonRole,
    PlanAction,
    PlanActionPatch,
    PlanReview,
    PlanSourceRecord,
    PlanSourceRecordKind,
    PlanStatus,
    PlanTransition,
    Priority,
    Progress,
    Receipt,
    ReceiptUpdate,
    ReviewCadence,
    RiskLevel,
    SelfAssessment,
    SelfAssessmentSummary,
    SeriesInterval,
    SharedVia,
    Trail,
    TransitionRequest,
    UpdateVisibility,
)

sys.stdout.reconfigure(line_buffering=True)  # "ok" lines before a FAIL, even through a pipe
BASE = os.environ["CARELOOP_BASE_URL"]
last = {}  # the last raw answer, to print when a model cannot parse it


def remember(response):  # an httpx event hook
    last["response"] = response


def client(token=None, prefix="Bearer"):
    hooks = {"event_hooks": {"response": [remember]}}
    if token is None:
        return Client(base_url=BASE, httpx_args=hooks)
    return AuthenticatedClient(base_url=BASE, token=token, prefix=prefix, httpx_args=hooks)


admin = client(os.environ["CARELOOP_ADMIN_TOKEN"])
manager = client(os.environ["CARELOOP_MANAGER_TOKEN"])
staff = client(os.environ["CARELOOP_STAFF_TOKEN"])


def mismatches(value, path):
    """Where an answer and its schema disagree beyond what parsing catches: a field the schema
    does not declare (it lands in `additional_properties`; free-form objects, whose only field
    that is, aside), or a declared field the answer left out (careloop sends every field)."""
    if attrs.has(type(value)):
        names = [f.name for f in attrs.fields(type(value))]
        extra = getattr(value, "additional_properties", None)
        if extra and names != ["additional_properties"]:
            yield f"{path} has undeclared {', '.join(sorted(extra))}"
        for name in names:
            field = getattr(value, name)
            if isinstance(field, Unset):
                yield f"{path}.{name} is missing"
            elif name != "additional_properties":
                yield from mismatches(field, f"{path}.{name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from mismatches(item, f"{path}[{i}]")


def fail(name, message):
    print(f"FAIL {name}: {message}", file=sys.stderr)
    response = last.get("response")
    if response is not None:
        response.read()
        print(f"  {response.request.method} {response.request.url} -> {response.status_code}", file=sys.stderr)
        print(f"  {response.text}", file=sys.stderr)
    sys.exit(1)


def step(name, call, status, model, detail=lambda parsed: ""):
    """Run one request; its answer must be `status` and parse into `model`."""
    last.clear()
    try:
        response = call()
    except Exception:  # a model that cannot parse the answer, or a transport error
        fail(name, "the answer did not parse into the generated models:\n" + traceback.format_exc())
    if response.status_code != status:
        fail(name, f"expected {status}, got {int(response.status_code)}")
    parsed = response.parsed
    if not isinstance(parsed, model):
        fail(name, f"expected a {model.__name__}, the client made {type(parsed).__name__}")
    wrong = list(mismatches(parsed, model.__name__))
    if wrong:
        fail(name, "the answer and the document disagree: " + "; ".join(wrong))
    print(f"ok   {name}: {status} {model.__name__} {detail(parsed)}".rstrip())
    return parsed


def check(name, condition, message):
    if not condition:
        fail(name, message)


now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
today = now.date()

# A location for the concerns (admins manage locations).
location = step(
    "create location (admin)",
    lambda: create_location.sync_detailed(
        client=admin, body=NewLocation(name="Meadowbank House", kind=LocationKind.CARE_HOME)
    ),
    201,
    Location,
    lambda p: p.id,
)

# Staff raise a concern.
concern = step(
    "raise a concern (staff)",
    lambda: create_concern.sync_detailed(
        client=staff,
        idempotency_key="raise-001",
        body=NewConcern(
            title="Call bells unanswered at night",
            description="Residents on the first floor waited over 20 minutes.",
            category=ConcernCategory.CARE_PRACTICE,
            risk=RiskLevel.HIGH,
            location_id=location.id,
        ),
    ),
    201,
    Concern,
    lambda p: f"{p.id} {p.status}",
)
check("raise a concern (staff)", concern.status == ConcernStatus.RAISED, f"status is {concern.status}")

# The manager acknowledges it, investigates, and resolves it with what changed.
for body in (
    TransitionRequest(
        to=ConcernStatus.ACKNOWLEDGED, note="Thank you, we are on it", visibility=UpdateVisibility.RAISER
    ),
    TransitionRequest(to=ConcernStatus.INVESTIGATING),
    TransitionRequest(
        to=ConcernStatus.RESOLVED,
        outcome="Second night carer on the first floor from 1 December",
        visibility=UpdateVisibility.RAISER,
    ),
):
    name = f"triage to {body.to} (manager)"
    moved = step(
        name,
        lambda: transition_concern.sync_detailed(concern.id, client=manager, body=body),
        200,
        Concern,
        lambda p: p.status,
    )
    check(name, moved.status == body.to, f"status is {moved.status}")

# The raiser follows it: status, outcome and the timeline entries shared with them.
followed = step(
    "read it back (raiser)",
    lambda: get_concern.sync_detailed(concern.id, client=staff),
    200,
    Concern,
    lambda p: f"{p.status}: {p.outcome}",
)
check(
    "read it back (raiser)",
    followed.status == ConcernStatus.RESOLVED and followed.outcome,
    "not resolved with an outcome",
)
step(
    "timeline shared with the raiser (raiser)",
    lambda: list_concern_updates.sync_detailed(concern.id, client=staff),
    200,
    PaginatedConcernUpdate,
    lambda p: f"{len(p.items)} entries",
)

# An anonymous concern: careloop keeps no identity and answers once with a receipt code.
anonymous_concern = step(
    "raise an anonymous concern (staff)",
    lambda: create_concern.sync_detailed(
        client=staff,
        body=NewConcern(
            title="Residents shouted at on nights",
            description="Two night staff shout at residents.",
            category=ConcernCategory.WHISTLEBLOWING,
            risk=RiskLevel.HIGH,
            location_id=location.id,
            anonymous=True,
        ),
    ),
    201,
    Concern,
)
receipt_code = anonymous_concern.receipt_code
check("raise an anonymous concern (staff)", isinstance(receipt_code, str) and receipt_code, "no receipt_code")
check(
    "raise an anonymous concern (staff)",
    anonymous_concern.raised_by.kind == PersonKind.ANONYMOUS and anonymous_concern.raised_by.sub is None,
    "raised_by is kept",
)

# With the code and no token, the raiser reads the status and writes to the team. The code is
# a credential: it travels as `Authorization: Receipt <code>`, never in a URL.
raiser = client(receipt_code, prefix="Receipt")
step(
    "follow it by its receipt (no token)",
    lambda: get_receipt.sync_detailed(client=raiser),
    200,
    Receipt,
    lambda p: p.status,
)
step(
    "write to the team by the receipt (no token)",
    lambda: add_receipt_message.sync_detailed(
        client=raiser, body=NewReceiptMessage(body="It happened again last night.")
    ),
    201,
    ReceiptUpdate,
)
step(
    "read the thread by the receipt (no token)",
    lambda: list_receipt_messages.sync_detailed(client=raiser),
    200,
    PaginatedReceiptUpdate,
    lambda p: f"{len(p.items)} entries",
)

# The monthly governance review: what went well, what did not, what needs to change.
step(
    "record a governance review (manager)",
    lambda: create_learning_event.sync_detailed(
        client=manager,
        body=NewLearningEvent(
            kind=LearningKind.GOVERNANCE_REVIEW,
            occurred_at=now - dt.timedelta(days=6),
            title="November governance meeting",
            location_id=location.id,
            participants=[
                ParticipantInput(role=PersonRole.MANAGER, name="Alex Manager"),
                ParticipantInput(role=PersonRole.RELATIVE),
            ],
            went_well="Falls down a third since the sensor mats",
            did_not_go_well="Night call-bell response times",
            to_change="Second night carer on the first floor",
            lessons=["Check call-bell logs weekly"],
            shared_via=[SharedVia.TEAM_MEETING],
            quality_statements=["well_led.governance_management_sustainability"],
            linked_records=[LearningSourceRecord(kind=LearningSourceRecordKind.CONCERN, id=concern.id)],
        ),
    ),
    201,
    LearningEvent,
    lambda p: p.id,
)

# Monthly medication audit results with a metric (the three months before this one), and the
# metric's trend per month.
first_of_month = today.replace(day=1)
for months_back, score in ((3, 91), (2, 94), (1, 97)):
    start = first_of_month
    for _ in range(months_back):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    start = dt.datetime.combine(start, dt.time(), dt.timezone.utc)
    step(
        f"record the medication audit of {start:%Y-%m} (manager)",
        lambda: create_evidence.sync_detailed(
            client=manager,
            body=NewEvidence(
                source=EvidenceSource.AUDIT,
                evidence_category="processes",
                quality_statements=["safe.medicines_optimisation"],
                title=f"Medication audit {start:%Y-%m}",
                period_start_at=start,
                period_end_at=start + dt.timedelta(days=19),
                location_id=location.id,
                metric=MetricInput(name="medication_audit_score", value=score, unit="%", target=95),
            ),
        ),
        201,
        Evidence,
    )
series = step(
    "the metric's monthly series (manager)",
    lambda: get_metric_series.sync_detailed(
        "medication_audit_score", client=manager, interval=SeriesInterval.MONTH, location_id=location.id
    ),
    200,
    MetricSeries,
    lambda p: " ".join(f"{pt.period_start_on:%Y-%m}={pt.mean:g}" for pt in p.points),
)
check("the metric's monthly series (manager)", len(series.points) == 3, f"{len(series.points)} points, not 3")

# Which quality statements have evidence, and a self-assessment rolled up to key questions.
step(
    "framework coverage (manager)",
    lambda: get_framework_coverage.sync_detailed(
        "cqc-saf-2024", client=manager, from_=dt.datetime(today.year, 1, 1, tzinfo=dt.timezone.utc)
    ),
    200,
    Coverage,
    lambda p: f"{len(p.statements)} statements",
)
for statement in ("safe.learning_culture", "safe.safeguarding", "safe.medicines_optimisation"):
    step(
        f"self-assess {statement} (manager)",
        lambda: set_statement_score.sync_detailed(
            location.id,
            "cqc-saf-2024",
            statement,
            client=manager,
            body=NewSelfAssessment(score=3, rationale="Audits and debriefs show a good standard"),
        ),
        201,
        SelfAssessment,
    )
step(
    "self-assessment roll-up (manager)",
    lambda: get_self_assessment.sync_detailed(location.id, "cqc-saf-2024", client=manager),
    200,
    SelfAssessmentSummary,
    lambda p: " ".join(f"{k.key_question_id}={k.rating}" for k in p.key_questions),
)

# Round the loop: the concern led to learning; the learning leads to a plan with an action.
learning = step(
    "record an after-action review of the concern (manager)",
    lambda: create_learning_event.sync_detailed(
        client=manager,
        body=NewLearningEvent(
            kind=LearningKind.AFTER_ACTION_REVIEW,
            occurred_at=now - dt.timedelta(days=5),
            title="Night call bells",
            location_id=location.id,
            linked_records=[LearningSourceRecord(kind=LearningSourceRecordKind.CONCERN, id=concern.id)],
            lessons=["One carer cannot cover two floors"],
        ),
    ),
    201,
    LearningEvent,
    lambda p: p.id,
)
plan = step(
    "create an improvement plan from the learning (manager)",
    lambda: create_plan.sync_detailed(
        client=manager,
        body=NewImprovementPlan(
            title="Answer night call bells within 5 minutes",
            objective="Every night call bell answered within 5 minutes by March",
            location_id=location.id,
            owner=PersonInput(sub="manager-1", name="Alex Manager"),
            priority=Priority.HIGH,
            review_cadence=ReviewCadence.MONTHLY,
            co_produced=True,
            involved=[ParticipantInput(role=PersonRole.RELATIVE)],
            quality_statements=["safe.safe_and_effective_staffing"],
            sources=[PlanSourceRecord(kind=PlanSourceRecordKind.LEARNING_EVENT, id=learning.id)],
        ),
    ),
    201,
    ImprovementPlan,
    lambda p: f"{p.id} {p.status}",
)
active = step(
    "activate the plan (manager)",
    lambda: transition_plan.sync_detailed(plan.id, client=manager, body=PlanTransition(to=PlanStatus.ACTIVE)),
    200,
    ImprovementPlan,
    lambda p: p.status,
)
check("activate the plan (manager)", active.status == PlanStatus.ACTIVE, f"status is {active.status}")
action = step(
    "add an action owned by Sam (manager)",
    lambda: create_plan_action.sync_detailed(
        plan.id,
        client=manager,
        body=NewPlanAction(
            description="Second night carer on the first floor",
            owner=PersonInput(sub="carer-7", name="Sam Carer"),
            due_on=today + dt.timedelta(days=5),
        ),
    ),
    201,
    PlanAction,
    lambda p: f"{p.id} {p.status}",
)

# The monthly review, and what is due at the next governance meeting.
step(
    "review the plan (manager)",
    lambda: create_review.sync_detailed(
        plan.id,
        client=manager,
        body=NewPlanReview(reviewed_on=today, progress=Progress.AMBER, notes="Rota drafted; recruiting"),
    ),
    201,
    PlanReview,
)
step(
    "reviews due within 40 days (manager)",
    lambda: list_due_reviews.sync_detailed(client=manager, within_days=40),
    200,
    PaginatedDueReview,
    lambda p: f"{len(p.items)} plans",
)

# Sam, who owns the action, sees it on their phone and finishes it (celebrating the milestone).
mine = step(
    "my open actions (staff)",
    lambda: list_actions.sync_detailed(client=staff, owner="me", status=[ActionStatus.OPEN]),
    200,
    PaginatedPlanAction,
    lambda p: f"{len(p.items)} actions",
)
check("my open actions (staff)", [a.id for a in mine.items] == [action.id], "not exactly the new action")
for body in (
    ActionTransition(to=ActionStatus.IN_PROGRESS),
    ActionTransition(
        to=ActionStatus.DONE, completion_note="Second carer on nights from 1 December", celebrate=True
    ),
):
    name = f"move the action to {body.to} (staff owner)"
    moved = step(
        name,
        lambda: transition_plan_action.sync_detailed(plan.id, action.id, client=staff, body=body),
        200,
        PlanAction,
        lambda p: p.status,
    )
    check(name, moved.status == body.to, f"status is {moved.status}")

# The manager checks the change worked, with evidence from a call-bell audit.
check_evidence = step(
    "record the call-bell audit (manager)",
    lambda: create_evidence.sync_detailed(
        client=manager,
        body=NewEvidence(
            source=EvidenceSource.AUDIT,
            evidence_category="processes",
            quality_statements=["safe.safe_and_effective_staffing"],
            title="Night call-bell audit",
            observed_at=now - dt.timedelta(hours=1),
            location_id=location.id,
            metric=MetricInput(
                name="night_call_bell_minutes", value=3.5, target=5, direction=MetricDirection.AT_MOST
            ),
        ),
    ),
    201,
    Evidence,
    lambda p: p.id,
)
checked = step(
    "record that the action worked (manager)",
    lambda: update_plan_action.sync_detailed(
        plan.id,
        action.id,
        client=manager,
        body=PlanActionPatch(
            effectiveness=Effectiveness.EFFECTIVE,
            checked_on=today,
            check_evidence=[EvidenceReference(kind=EvidenceReferenceKind.EVIDENCE, id=check_evidence.id)],
        ),
    ),
    200,
    PlanAction,
    lambda p: p.effectiveness,
)
check(
    "record that the action worked (manager)",
    checked.effectiveness == Effectiveness.EFFECTIVE,
    f"effectiveness is {checked.effectiveness}",
)

# The newsletter's highlights ("you said, we did", lessons, milestones), and the concern's trail.
step(
    "highlights (staff)",
    lambda: list_highlights.sync_detailed(client=staff),
    200,
    PaginatedHighlight,
    lambda p: ", ".join(sorted({str(h.kind) for h in p.items})),
)
step(
    "the concern's trail (manager)",
    lambda: get_concern_trail.sync_detailed(concern.id, client=manager),
    200,
    Trail,
    lambda p: f"{len(p.items)} linked records",
)

# Overdue concerns, and the audit trail (admins and viewers).
step(
    "overdue concerns (manager)",
    lambda: list_concerns.sync_detailed(client=manager, overdue=True),
    200,
    PaginatedConcern,
    lambda p: f"{len(p.items)} concerns",
)
step(
    "the audit trail of concerns (admin)",
    lambda: list_audit_events.sync_detailed(client=admin, resource_type=[AuditResource.CONCERN]),
    200,
    PaginatedAuditEvent,
    lambda p: f"{len(p.items)} events",
)
print("walk-through complete")
