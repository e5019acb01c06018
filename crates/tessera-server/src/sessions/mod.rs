//! Session lifecycle beyond sign-in: what happens when sessions end.

use crate::state::AppState;

/// Called whenever sessions end (sign-out, revocation, password change), so access tokens
/// of those sessions stop working.
pub(crate) fn ended(state: &AppState, session_ids: &[String]) {
    state.note_sessions_ended(session_ids);
}
