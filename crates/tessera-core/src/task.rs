//! Tasks: the protected per-user resource.

use serde::Serialize;

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;

/// A task as stored and as returned by the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// 32-character id.
    pub id: String,
    /// Owner: always the subject of the token that created it.
    pub user_id: String,
    /// 1 to 200 characters.
    pub title: String,
    /// Up to 2,000 characters; empty when absent.
    pub description: String,
    /// Whether it is done.
    pub completed: bool,
    /// ISO-8601 with milliseconds.
    pub created_at: String,
    /// ISO-8601 with milliseconds.
    pub updated_at: String,
}

/// Why a task field was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TaskFieldError {
    /// Title empty or only whitespace.
    #[error("title must not be empty")]
    TitleEmpty,
    /// Title made only of invisible or bidirectional-control characters
    /// (see [`crate::text`]).
    #[error("title must contain a visible character")]
    TitleInvisible,
    /// Title longer than 200 characters.
    #[error("title must be at most 200 characters")]
    TitleTooLong,
    /// Description longer than 2,000 characters.
    #[error("description must be at most 2000 characters")]
    DescriptionTooLong,
    /// NUL or another control character other than tab/newline.
    #[error("text must not contain control characters")]
    ControlCharacter,
}

fn has_forbidden_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
}

/// Validates a title: at most 200 characters and no control characters as sent (the
/// published schema's rule, so no input it calls invalid is accepted), not only
/// whitespace; stored trimmed.
pub fn parse_title(raw: &str) -> Result<String, TaskFieldError> {
    if raw.chars().count() > MAX_TITLE_CHARS {
        return Err(TaskFieldError::TitleTooLong);
    }
    if has_forbidden_control(raw) {
        return Err(TaskFieldError::ControlCharacter);
    }
    // JSON Schema's `\S` (ECMAScript) also counts U+FEFF as whitespace; Rust's trim does not.
    let t = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if t.is_empty() {
        return Err(TaskFieldError::TitleEmpty);
    }
    if !crate::text::has_visible(t) {
        return Err(TaskFieldError::TitleInvisible);
    }
    Ok(t.to_owned())
}

/// Validates a description: at most 2,000 characters, no control characters but
/// tab and newlines.
pub fn parse_description(raw: &str) -> Result<String, TaskFieldError> {
    if raw.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(TaskFieldError::DescriptionTooLong);
    }
    if has_forbidden_control(raw) {
        return Err(TaskFieldError::ControlCharacter);
    }
    Ok(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn title_bounds() {
        assert_eq!(parse_title("  "), Err(TaskFieldError::TitleEmpty));
        assert_eq!(parse_title(" Buy milk "), Ok("Buy milk".into()));
        assert!(parse_title(&"é".repeat(200)).is_ok());
        assert_eq!(
            parse_title(&"é".repeat(201)),
            Err(TaskFieldError::TitleTooLong)
        );
        assert_eq!(
            parse_title("a\u{0}b"),
            Err(TaskFieldError::ControlCharacter)
        );
        // Whitespace that is also a control character is refused, not trimmed away, and
        // the length counts what was sent (schemathesis found both accepted once).
        assert_eq!(
            parse_title("\u{b}\u{ad}title"),
            Err(TaskFieldError::ControlCharacter)
        );
        assert_eq!(
            parse_title("title\u{85}"),
            Err(TaskFieldError::ControlCharacter)
        );
        assert_eq!(parse_title("\u{feff} "), Err(TaskFieldError::TitleEmpty));
        assert_eq!(
            parse_title("\u{202e}\u{202e}"),
            Err(TaskFieldError::TitleInvisible)
        );
        assert_eq!(parse_title("\u{202e}abc"), Ok("\u{202e}abc".into()));
        assert_eq!(
            parse_title(&format!(" {}", "x".repeat(200))),
            Err(TaskFieldError::TitleTooLong)
        );
        assert_eq!(
            parse_title("'); DROP TABLE tasks;--"),
            Ok("'); DROP TABLE tasks;--".into())
        );
    }

    #[test]
    fn description_bounds() {
        assert!(parse_description("").is_ok());
        assert!(parse_description("line\nline\ttab").is_ok());
        assert!(parse_description(&"x".repeat(2000)).is_ok());
        assert_eq!(
            parse_description(&"x".repeat(2001)),
            Err(TaskFieldError::DescriptionTooLong)
        );
    }

    proptest! {
        #[test]
        fn accepted_titles_are_trimmed_and_bounded(s in "\\PC{0,300}") {
            if let Ok(t) = parse_title(&s) {
                prop_assert!(!t.is_empty());
                prop_assert!(t.chars().count() <= MAX_TITLE_CHARS);
                prop_assert_eq!(t.trim(), t.as_str());
            }
        }
    }
}
