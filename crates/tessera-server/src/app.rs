//! Composition: which routes a process serves ([`Services`]), the route tables merged into
//! one router ([`build_app`]) and the fallbacks and layers around them.

use std::sync::Arc;

use axum::Router;
use tessera_core::Clock;
use tessera_store::Store;

use crate::http::ApiError;
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::state::AuthState;
use crate::{
    accounts, auth, email_sign_in, http, openapi, passkeys, probes, sessions, social, tasks,
    tokens, two_factor, ui,
};

/// What one process serves: the auth server, the tasks API, or both (see [`crate::Role`]).
#[derive(Debug, Clone)]
pub struct Services {
    /// The auth server's state, when this process issues tokens.
    pub auth: Option<AuthState>,
    /// The tasks API's state, when this process serves it.
    pub tasks: Option<tasks::TasksState>,
    /// The database (for readiness).
    pub store: Arc<dyn Store>,
    /// Settings shared by both.
    pub settings: Settings,
    /// Counters served at `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

/// The whole HTTP surface of these services, with its layers.
///
/// Every route except the web UI's HTML pages comes from an `openapi::Routes` table, so
/// the OpenAPI document served at `/api/openapi.json` lists exactly what is served.
pub fn build_app(services: &Services) -> Router {
    let mut router = Router::new();
    if let Some(auth) = &services.auth {
        let mailer = auth.mailer();
        let (auth_routes, _) =
            mounted_auth_routes(mailer.magic_links(), mailer.email_codes()).into_parts(AUTH_PREFIX);
        router = router.nest(
            AUTH_PREFIX,
            auth_routes
                .with_state(auth.clone())
                .layer(http::layers::no_store_layer()),
        );
    }
    if let Some(tasks) = &services.tasks {
        let (tasks_routes, _) = tasks::router(tasks.clone());
        router = router.merge(tasks_routes);
    }
    if let Some(auth) = &services.auth {
        // The UI offers verification, reset and change of address only when mail goes out.
        let options = ui::UiOptions {
            email: auth.mailer().enabled(),
            magic_links: auth.mailer().magic_links(),
            email_codes: auth.mailer().email_codes(),
        };
        router = router.merge(ui::router(options));
    }
    let (probe_router, _) = probes::routes(
        services.store.clone(),
        services.metrics.clone(),
        services.clock.clone(),
        services.auth.as_ref().map(|a| a.passwords().stats()),
        probes::Sharing {
            rate_limits: services.auth.as_ref().map(|a| a.limiter().kind()),
            several_instances: services
                .settings
                .database
                .database_url
                .shared_by_instances(),
        },
    );
    router = router.merge(probe_router);
    // The same route tables again, when the document is first asked for.
    let parts = Parts {
        auth: services.auth.as_ref().map(|a| {
            let mailer = a.mailer();
            (mailer.magic_links(), mailer.email_codes())
        }),
        tasks: services.tasks.is_some(),
    };
    router = router.merge(openapi::serve(openapi::routes(), move || operations(parts)));
    let router = router
        .fallback(not_found)
        .method_not_allowed_fallback(http::error::method_not_allowed);
    http::layers::apply(
        router,
        &services.settings.all_trusted_origins(),
        services.settings.http.request_timeout,
        services.settings.http.http2,
        services.metrics.clone(),
    )
}

pub(crate) use crate::http::AUTH_PREFIX;

/// The auth server's routes (relative to [`AUTH_PREFIX`]).
fn auth_routes() -> openapi::Routes<AuthState> {
    auth::routes()
        .merge(accounts::routes())
        .merge(tokens::routes())
        .merge(sessions::routes())
        .merge(social::routes())
        .merge(two_factor::routes())
        .merge(passkeys::routes())
}

/// The auth routes a process mounts: [`auth_routes`] and the ways in by mail it has on.
fn mounted_auth_routes(magic_links: bool, email_codes: bool) -> openapi::Routes<AuthState> {
    auth_routes().merge(email_sign_in::routes(magic_links, email_codes))
}

/// The optional parts a process serves, which decide its routes and its document.
#[derive(Debug, Clone, Copy)]
struct Parts {
    /// The auth server, with magic links and email codes as given.
    auth: Option<(bool, bool)>,
    /// The tasks API.
    tasks: bool,
}

/// The documented (method, path) pairs a process with these parts serves (without mail:
/// no magic links or email codes), from the same route tables [`build_app`] mounts (used by
/// tests; the served document is the reference).
pub fn documented_operations(auth: bool, tasks: bool) -> Vec<openapi::Operation> {
    operations(Parts {
        auth: auth.then_some((false, false)),
        tasks,
    })
}

/// The operations a process with these parts serves: what `/api/openapi.json` documents.
fn operations(parts: Parts) -> Vec<openapi::Operation> {
    let mut ops = Vec::new();
    if let Some((magic_links, email_codes)) = parts.auth {
        ops.extend(
            mounted_auth_routes(magic_links, email_codes)
                .into_parts(AUTH_PREFIX)
                .1,
        );
    }
    if parts.tasks {
        ops.extend(tasks::routes().into_parts("").1);
    }
    ops.extend(probes::operations());
    ops.extend(openapi::routes().into_parts("").1);
    ops
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}
