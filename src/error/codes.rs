//! The table of every problem `code` careloop sends.

/// Every problem `code` careloop sends, with its status and meaning: the OpenAPI document lists
/// them, and a debug build refuses to send one missing here.
pub const PROBLEM_CODES: &[(&str, u16, &str)] = &[
    ("unreadable_body", 400, "the body could not be read"),
    (
        "unauthorized",
        401,
        "no bearer token, or one careloop does not accept; `detail` says why",
    ),
    ("forbidden", 403, "the caller's roles do not allow this"),
    (
        "not_found",
        404,
        "no such record in the caller's organisation and locations, no such endpoint, or no open \
         intake point with this slug",
    ),
    (
        "method_not_allowed",
        405,
        "the path exists but not with this method; `Allow` lists its methods",
    ),
    (
        "illegal_transition",
        409,
        "the workflow does not allow this move now; `allowed` lists the moves it does",
    ),
    (
        "duplicate_external_ref",
        409,
        "another record holds this `external_ref`; `existing_id` names it",
    ),
    (
        "conflict",
        409,
        "another request stored the same unique value at the same moment; read and retry",
    ),
    (
        "edit_conflict",
        409,
        "the record changed while the request was applied; read it again and retry",
    ),
    (
        "open_actions",
        409,
        "a plan cannot complete while an action is open",
    ),
    (
        "plan_closed",
        409,
        "the plan is completed or archived, so its actions do not move",
    ),
    (
        "plan_not_reviewable",
        409,
        "the plan is not active, so it cannot be reviewed",
    ),
    ("archived", 409, "the record is archived and cannot change"),
    (
        "already_reviewed",
        409,
        "the month's governance review is already recorded for this location; `detail` names it",
    ),
    ("revoked", 409, "the machine client is revoked"),
    (
        "not_done",
        409,
        "only a done action is published on \"you said, we did\"",
    ),
    (
        "cursor_expired",
        410,
        "the cursor is older than the changes kept; resynchronise with the lists, then read \
         from `GET /v1/changes/cursor`",
    ),
    (
        "conflicts_with_record",
        409,
        "the change is valid in itself but not for the record as stored; `errors` names the fields",
    ),
    (
        "precondition_failed",
        412,
        "`If-Match` does not match the record's current `ETag`",
    ),
    ("payload_too_large", 413, "the body is over the size limit"),
    (
        "unsupported_media_type",
        415,
        "the body is not of a media type the operation takes (`application/json`, and for an \
         intake point's form also `application/x-www-form-urlencoded`)",
    ),
    (
        "validation_failed",
        422,
        "a path id, query parameter, header, the body or a body field breaks the rules (malformed JSON included); `errors` names every one",
    ),
    (
        "idempotency_key_reused",
        422,
        "this `Idempotency-Key` was used with a different request",
    ),
    (
        "too_many_requests",
        429,
        "too many requests (past `RateLimit-Policy`'s quota, too many receipt attempts, or too \
         many submissions through an intake point); wait `Retry-After` seconds",
    ),
    (
        "internal_error",
        500,
        "an unexpected error; the answer says nothing of its cause",
    ),
    (
        "database_unavailable",
        503,
        "careloop cannot reach its database at the moment (stopped, restarting, failing over, or \
         no connection free in time): retry after `Retry-After` seconds, with the same \
         `Idempotency-Key` for a create (the request was not carried out, unless the \
         connection broke during its commit)",
    ),
];
