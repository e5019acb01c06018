//! The protected per-user tasks API: `GET/POST /api/{user_id}/tasks`,
//! `GET/PUT/DELETE /api/{user_id}/tasks/{id}`, `PATCH /api/{user_id}/tasks/{id}/complete`,
//! and `DELETE /api/{user_id}/tasks` (every task at once), which also requires a second
//! factor ([`MfaUser`]: the token's `amr` has `mfa`) — the demonstration of what a backend
//! does with Tessera's two-factor claims.
//!
//! It authorises only through `tessera-verify` ([`OwnerOf`]: a valid access token whose
//! `sub` is the route's `{user_id}`), exactly as any other backend would, and never imports
//! the auth module. The owner of every task is the token's subject; a `user_id` or owner
//! field in a body or query is never read. Another user's task id is 404.

use std::sync::Arc;

use axum::extract::{FromRef, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use tessera_core::Clock;
use tessera_core::id::{looks_like_id, new_id};
use tessera_core::task::{
    DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, Task, TaskFieldError, parse_description, parse_title,
};
use tessera_core::timefmt::iso_millis;
use tessera_store::{TaskChange, TaskId, TaskRow, TaskStore, UserId};
use tessera_verify::{MfaUser, OwnerOf, Verifier};

use crate::http::ErrorCode;
use crate::http::{ApiError, ApiResult, JsonBody};
use crate::openapi::{Auth, Operation, Routes, schemas};

/// What the tasks API needs: storage, the verifier, a clock. The store handle reaches
/// tasks only: this API cannot read or end sessions, whatever it is asked.
#[derive(Clone, Debug)]
pub struct TasksState {
    store: Arc<dyn TaskStore>,
    verifier: Verifier,
    clock: Arc<dyn Clock>,
    /// Keeps the revocation feed polling while the API runs (stand-alone API only).
    _feed: Option<Arc<tessera_verify::RevocationFeed>>,
}

impl TasksState {
    /// Assembles the state.
    pub fn new(
        store: Arc<dyn TaskStore>,
        verifier: Verifier,
        clock: Arc<dyn Clock>,
        feed: Option<Arc<tessera_verify::RevocationFeed>>,
    ) -> Self {
        Self {
            store,
            verifier,
            clock,
            _feed: feed,
        }
    }
}

impl TasksState {
    /// Installs a new key set in the in-process verifier (after a key rotation).
    pub fn install_jwks(&self, jwks_json: &str) {
        if let (Some(handle), Ok(set)) = (
            self.verifier.key_set_handle(),
            tessera_verify::JwkSet::from_json(jwks_json),
        ) {
            handle.replace(&set);
        }
    }
}

impl FromRef<TasksState> for Verifier {
    fn from_ref(state: &TasksState) -> Self {
        state.verifier.clone()
    }
}

/// The routes with their state and the `no-store` layer, and their documentation.
pub(crate) fn router(state: TasksState) -> (Router, Vec<crate::openapi::Operation>) {
    let (router, ops) = routes().into_parts("");
    (
        router
            .with_state(state)
            .layer(crate::http::layers::no_store_layer()),
        ops,
    )
}

/// The routes, with their documentation.
pub(crate) fn routes() -> Routes<TasksState> {
    const TAG: &str = "tasks";
    let common = |op: Operation| op.tag(TAG).auth(Auth::AccessToken).uses_database();
    let task_ok = |op: Operation, what: &str| op.ok(200, "Task", what);
    Routes::new()
        .add(
            common(Operation::get(
                "/api/{user_id}/tasks",
                "listTasks",
                "List tasks",
            ))
            .describe("Newest first, paged with `limit` and `offset`.")
            .query("limit", schemas::limit(), "Page size")
            .query("offset", schemas::offset(), "Tasks to skip")
            .error(&[ErrorCode::ValidationError])
            .ok(200, "TaskList", "A page of tasks"),
            list,
        )
        .add(
            common(Operation::post(
                "/api/{user_id}/tasks",
                "createTask",
                "Create a task",
            ))
            .json_body("CreateTaskRequest", true)
            .ok(201, "Task", "Created"),
            create,
        )
        .add(
            task_ok(
                common(Operation::get(
                    "/api/{user_id}/tasks/{id}",
                    "getTask",
                    "Read a task",
                )),
                "The task",
            )
            .error(&[ErrorCode::NotFound]),
            read,
        )
        .add(
            task_ok(
                common(Operation::put(
                    "/api/{user_id}/tasks/{id}",
                    "updateTask",
                    "Update a task",
                )),
                "The updated task",
            )
            .json_body("UpdateTaskRequest", true)
            .error(&[ErrorCode::NotFound]),
            update,
        )
        .add(
            common(Operation::delete(
                "/api/{user_id}/tasks",
                "deleteAllTasks",
                "Delete every task (needs a second factor)",
            ))
            .describe(
                "Only with an access token from a two-factor sign-in (`amr` contains `mfa`); \
                 otherwise 401 `MFA_REQUIRED` with `WWW-Authenticate: Bearer \
                 error=\"insufficient_user_authentication\"` (RFC 9470).",
            )
            .ok(200, "DeletedTasks", "How many were deleted"),
            remove_all,
        )
        .add(
            common(Operation::delete(
                "/api/{user_id}/tasks/{id}",
                "deleteTask",
                "Delete a task",
            ))
            .no_content(204, "Deleted")
            .error(&[ErrorCode::NotFound]),
            remove,
        )
        .add(
            task_ok(
                common(Operation::patch(
                    "/api/{user_id}/tasks/{id}/complete",
                    "toggleTask",
                    "Toggle a task's completion",
                )),
                "The updated task",
            )
            .error(&[ErrorCode::NotFound]),
            toggle,
        )
}

fn to_dto(t: TaskRow) -> Task {
    Task {
        id: t.id,
        user_id: t.user_id,
        title: t.title,
        description: t.description,
        completed: t.completed,
        created_at: iso_millis(t.created_at),
        updated_at: iso_millis(t.updated_at),
    }
}

fn field_error(field: &str, e: TaskFieldError) -> ApiError {
    ApiError::validation(format!("[body.{field}] {e}"))
}

/// `limit` and `offset` from the query string; anything else in it is ignored (notably a
/// `user_id`: the owner comes from the token only).
fn page(query: Option<&str>) -> ApiResult<(u32, u32)> {
    let (mut limit, mut offset) = (None, None);
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "limit" if limit.is_none() => limit = Some(v.into_owned()),
            "offset" if offset.is_none() => offset = Some(v.into_owned()),
            "limit" | "offset" => {
                return Err(ApiError::validation(format!(
                    "[query.{k}] given more than once"
                )));
            }
            _ => {}
        }
    }
    Ok((
        parse_bounded("limit", limit.as_deref(), DEFAULT_LIMIT, 1, MAX_LIMIT)?,
        parse_bounded("offset", offset.as_deref(), 0, 0, MAX_OFFSET)?,
    ))
}

fn parse_bounded(
    name: &str,
    raw: Option<&str>,
    default: u32,
    min: u32,
    max: u32,
) -> ApiResult<u32> {
    let Some(raw) = raw else { return Ok(default) };
    match raw.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::new(
            ErrorCode::ValidationError,
            format!("[query.{name}] must be an integer from {min} to {max}"),
        )),
    }
}

async fn list(
    State(s): State<TasksState>,
    owner: OwnerOf,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Vec<Task>>> {
    let (limit, offset) = page(query.as_deref())?;
    let rows = s
        .store
        .list_tasks(UserId(owner.subject()), limit, offset)
        .await?;
    Ok(Json(rows.into_iter().map(to_dto).collect()))
}

async fn create(
    State(s): State<TasksState>,
    owner: OwnerOf,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let title = parse_title(body.string("title")?).map_err(|e| field_error("title", e))?;
    let description = match body.opt_string("description")? {
        Some(d) => parse_description(d).map_err(|e| field_error("description", e))?,
        None => String::new(),
    };
    let now = s.clock.now_ms();
    let row = TaskRow {
        id: new_id(),
        user_id: owner.subject().to_owned(),
        title,
        description,
        completed: false,
        created_at: now,
        updated_at: now,
    };
    s.store.create_task(&row).await?;
    Ok((StatusCode::CREATED, Json(to_dto(row))).into_response())
}

/// Task ids that cannot be ours are answered 404 without a database round trip.
fn task_id(id: &str) -> ApiResult<TaskId<'_>> {
    if looks_like_id(id) {
        Ok(TaskId(id))
    } else {
        Err(ApiError::not_found())
    }
}

async fn read(
    State(s): State<TasksState>,
    owner: OwnerOf,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<Task>> {
    let row = s
        .store
        .get_task(UserId(owner.subject()), task_id(&id)?)
        .await?;
    row.map(|t| Json(to_dto(t))).ok_or_else(ApiError::not_found)
}

async fn update(
    State(s): State<TasksState>,
    owner: OwnerOf,
    Path((_, id)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Task>> {
    let change = TaskChange {
        title: body
            .opt_string("title")?
            .map(|t| parse_title(t).map_err(|e| field_error("title", e)))
            .transpose()?,
        description: body
            .opt_string("description")?
            .map(|d| parse_description(d).map_err(|e| field_error("description", e)))
            .transpose()?,
        completed: body.opt_bool("completed")?,
        toggle_completed: false,
    };
    if change.title.is_none() && change.description.is_none() && change.completed.is_none() {
        return Err(ApiError::validation(
            "[body] Provide at least one of title, description, completed",
        ));
    }
    let row = s
        .store
        .update_task(
            UserId(owner.subject()),
            task_id(&id)?,
            &change,
            s.clock.now_ms(),
        )
        .await?;
    row.map(|t| Json(to_dto(t))).ok_or_else(ApiError::not_found)
}

async fn toggle(
    State(s): State<TasksState>,
    owner: OwnerOf,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<Task>> {
    let change = TaskChange {
        toggle_completed: true,
        ..TaskChange::default()
    };
    let row = s
        .store
        .update_task(
            UserId(owner.subject()),
            task_id(&id)?,
            &change,
            s.clock.now_ms(),
        )
        .await?;
    row.map(|t| Json(to_dto(t))).ok_or_else(ApiError::not_found)
}

async fn remove_all(
    State(s): State<TasksState>,
    owner: OwnerOf,
    _mfa: MfaUser,
) -> ApiResult<Json<serde_json::Value>> {
    let n = s.store.delete_all_tasks(UserId(owner.subject())).await?;
    Ok(Json(serde_json::json!({ "deleted": n })))
}

async fn remove(
    State(s): State<TasksState>,
    owner: OwnerOf,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    if s.store
        .delete_task(UserId(owner.subject()), task_id(&id)?)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}
