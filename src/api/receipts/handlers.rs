//! The receipt endpoints. The code is a credential, sent as `Authorization: Receipt <code>`
//! (never in a URL, which proxies log), and every answer is `Cache-Control: no-store`.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpMessage, HttpRequest};

use super::dto::{NewReceiptMessage, Receipt, ReceiptUpdate};
use crate::api::concerns::rows::ConcernRow;
use crate::api::concerns::{store, timeline};
use crate::auth::ReceiptCode;
use crate::domain::{now, receipt};
use crate::error::ApiResult;
use crate::http::export::{self, Listing};
use crate::http::extract::{Json, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::paging::{PageQuery, Paginated};
use crate::http::respond::Answer;
use crate::state::AppState;
use crate::telemetry::Unlogged;

/// Opens the concern a receipt code belongs to. A wrong code counts against the client's
/// address; a right one always opens.
async fn open(
    state: &AppState,
    req: &HttpRequest,
    code: &ReceiptCode,
) -> ApiResult<(String, ConcernRow)> {
    // Nothing tying this request to the raiser reaches the log.
    req.extensions_mut().insert(Unlogged);
    let found = match receipt::hash(&code.0) {
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
    found.ok_or_else(|| state.receipts.wrong_code(state.receipts.client(req)))
}

/// Follow an anonymous concern
///
/// No token: the receipt code is the credential, as `Authorization: Receipt <code>` (dashes,
/// spaces and case are forgiven). Shows the status, the outcome and the deadlines; the thread
/// is at `/v1/receipt/messages`. A wrong code is 404; many wrong codes from one address are 429.
#[utoipa::path(
    tag = "receipts",
    responses(
        (status = 200, description = "The concern as its raiser may see it (`Cache-Control: no-store`)", body = Receipt),
    ),
    security(("receipt" = [])),
)]
#[get("/receipt")]
pub async fn get_receipt(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: ReceiptCode,
) -> ApiResult<Answer> {
    let (_, concern) = open(&state, &req, &code).await?;
    let concern = concern.into_dto(now(), false);
    let receipt = Receipt {
        title: concern.title,
        category: concern.category,
        status: concern.status,
        outcome: concern.outcome,
        raised_at: concern.created_at,
        acknowledge_due_at: concern.acknowledge_due_at,
        feedback_due_at: concern.feedback_due_at,
        updated_at: concern.updated_at,
    };
    Ok(Answer::ok(&receipt)?.no_store())
}

/// Read the thread of an anonymous concern
///
/// The timeline entries shared with the raiser, oldest first, a page at a time: the team's
/// messages and the status changes they chose to share, and the raiser's own messages.
/// Authors are never shown.
#[utoipa::path(
    tag = "receipts",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of the thread (`Cache-Control: no-store`)", body = Paginated<ReceiptUpdate>),
    ),
    security(("receipt" = [])),
)]
#[get("/receipt/messages")]
pub async fn list_receipt_messages(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: ReceiptCode,
    query: Query<PageQuery>,
) -> ApiResult<Listing> {
    let (_, page) = query.parse_paged()?;
    let (_, concern) = open(&state, &req, &code).await?;
    let concern_id = concern.id;
    export::list(&req, &state.db, page, move |conn, page| {
        let updates = timeline::raiser_updates(conn, concern_id, page)?;
        Ok(Paginated {
            items: updates.items.into_iter().map(ReceiptUpdate::from).collect(),
            next_cursor: updates.next_cursor,
        })
    })
    .await
    .map(Listing::no_store)
}

/// Send a message as an anonymous raiser
///
/// No token: the receipt code is the credential (`Authorization: Receipt <code>`). The message
/// reaches the concern's timeline with no identity, dated to the hour. At most 20 messages a
/// day (429 past that). There is no `Location`: the thread is read at `/v1/receipt/messages`.
#[utoipa::path(
    tag = "receipts",
    request_body = NewReceiptMessage,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "The message, as it appears in the thread (`Cache-Control: no-store`)", body = ReceiptUpdate),
    ),
    security(("receipt" = [])),
)]
#[post("/receipt/messages")]
pub async fn add_receipt_message(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: ReceiptCode,
    key: IdempotencyKey,
    body: Json<NewReceiptMessage>,
) -> ApiResult<Answer> {
    let (hash, concern) = open(&state, &req, &code).await?;
    let message = body.parse()?;
    let keyed = key.for_receipt(&concern.organisation_id, &hash, &req, &message)?;
    let answer = idempotency::once(&state.db, keyed, move |conn| {
        let update = timeline::add_raiser_message(conn, &concern, &message.body)?;
        Ok(Answer {
            status: StatusCode::CREATED,
            ..Answer::ok(&ReceiptUpdate::from(update))?
        })
    })
    .await?;
    Ok(answer.no_store())
}
