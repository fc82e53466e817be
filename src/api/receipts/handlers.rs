use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpMessage, HttpRequest};

use super::dto::{NewReceiptMessage, Receipt, ReceiptUpdate};
use crate::api::concerns::rows::ConcernRow;
use crate::api::concerns::{store, timeline};
use crate::api::docs::ReceiptErrors;
use crate::domain::{now, receipt};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::respond::Answer;
use crate::state::AppState;
use crate::telemetry::Unlogged;

/// Opens the concern a receipt code belongs to, counting wrong codes against the client.
async fn open(state: &AppState, req: &HttpRequest, code: &str) -> ApiResult<(String, ConcernRow)> {
    // Neither the code nor anything tying this request to the raiser reaches the log.
    req.extensions_mut().insert(Unlogged);
    let client = req.peer_addr().map(|address| address.ip());
    state.receipts.check(client)?;
    let found = match receipt::hash(code) {
        Some(hash) => {
            let lookup = hash.clone();
            state
                .db
                .run(move |conn| store::find_by_receipt(conn, &lookup))
                .await?
                .map(|row| (hash, row))
        }
        None => None,
    };
    found.ok_or_else(|| {
        state.receipts.record_failure(client);
        ApiError::NotFound("receipt")
    })
}

/// Follow an anonymous concern
///
/// No token: the receipt code is the key. Shows the status, the outcome and the timeline
/// entries shared with the raiser. A wrong code is 404; repeated wrong codes are 429.
#[utoipa::path(
    tag = "receipts",
    params(("code" = String, Path, description = "The receipt code given when the concern was raised")),
    responses(
        (status = 200, description = "The concern as its raiser may see it", body = Receipt),
        ReceiptErrors,
    ),
    security(()),
)]
#[get("/receipts/{code}")]
pub async fn get_receipt(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
) -> ApiResult<Answer> {
    let (_, concern) = open(&state, &req, &code).await?;
    let concern_id = concern.id;
    let updates = state
        .db
        .run(move |conn| timeline::raiser_updates(conn, concern_id))
        .await?;
    let concern = concern.into_dto(now(), Vec::new());
    let receipt = Receipt {
        title: concern.title,
        category: concern.category,
        status: concern.status,
        outcome: concern.outcome,
        raised_at: concern.created_at,
        acknowledge_by: concern.acknowledge_by,
        feedback_by: concern.feedback_by,
        updated_at: concern.updated_at,
        updates: updates.into_iter().map(ReceiptUpdate::from).collect(),
    };
    Answer::ok(&receipt)
}

/// Send a message as an anonymous raiser
///
/// No token: the receipt code is the key. The message reaches the concern's timeline with no
/// identity. There is no `Location`: the thread is read at `/v1/receipts/{code}`.
#[utoipa::path(
    tag = "receipts",
    request_body = NewReceiptMessage,
    params(
        ("code" = String, Path, description = "The receipt code given when the concern was raised"),
        IdempotencyKey,
    ),
    responses(
        (status = 201, description = "The message, as it appears on the timeline", body = ReceiptUpdate),
        ReceiptErrors,
    ),
    security(()),
)]
#[post("/receipts/{code}/messages")]
pub async fn add_receipt_message(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
    key: IdempotencyKey,
    body: Json<NewReceiptMessage>,
) -> ApiResult<Answer> {
    let (hash, concern) = open(&state, &req, &code).await?;
    let message = body.parse()?;
    let keyed = key.for_receipt(&concern.organisation_id, &hash, &req, &message)?;
    idempotency::once(&state.db, keyed, move |conn| {
        let update = timeline::add_raiser_message(conn, &concern, &message.body)?;
        Ok(Answer {
            status: StatusCode::CREATED,
            ..Answer::ok(&ReceiptUpdate::from(update))?
        })
    })
    .await
}
