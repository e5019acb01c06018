//! Arbitrary text through `Email::parse`, `Password::new` and `Password::candidate`. The
//! checks are in `harness/email_password.rs`.
#![no_main]

#[path = "../harness/email_password.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::check_email_password(data));
