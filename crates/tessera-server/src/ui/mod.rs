//! The web UI: static HTML, CSS and JavaScript modules embedded in the binary, served at `/`.
//! (Being built; see issue 5.)

use axum::Router;

/// Routes of the web UI.
pub fn router() -> Router {
    Router::new()
}
