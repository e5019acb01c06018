//! Timestamps on the wire: ISO-8601 UTC with milliseconds and a `Z`, as Better Auth's
//! client revives them into `Date`s (`2026-11-24T02:38:59.158Z`).

use crate::clock::from_unix_ms;

/// Formats unix milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn iso_millis(ms: i64) -> String {
    let t = from_unix_ms(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_milliseconds_and_z() {
        // 2026-11-24T02:38:59.158Z, the instant in the protocol reference's capture
        assert_eq!(iso_millis(1_795_487_939_158), "2026-11-24T02:38:59.158Z");
        assert_eq!(iso_millis(0), "1970-01-01T00:00:00.000Z");
    }
}
