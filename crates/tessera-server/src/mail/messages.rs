//! The messages Tessera sends, as text and HTML: built in, and replaceable file by file from
//! a directory (`--email-templates`): `<kind>.subject`, `<kind>.txt`, `<kind>.html`.
//!
//! Templates name values as `{{app}}`, `{{name}}`, `{{email}}`, `{{new_email}}`, `{{link}}`,
//! `{{code}}` and `{{valid_for}}`. In HTML every value is escaped; a subject is one line of text.

use std::collections::HashMap;
use std::path::Path;

/// Which message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// A link that verifies the user's address.
    VerifyEmail,
    /// A link to choose a new password.
    ResetPassword,
    /// To the current address: confirm the change to a new one.
    ConfirmEmailChange,
    /// To the new address: verify it, which completes the change.
    VerifyNewEmail,
    /// To an address someone asked to move an account to, which already has an account.
    EmailInUse,
    /// The password was changed (by a reset).
    PasswordChanged,
    /// A sign-in link (`magicLink`).
    MagicLink,
    /// A 6-digit sign-in code (`emailOTP`, type `sign-in`).
    SignInCode,
    /// A 6-digit code that verifies the address (`emailOTP`, type `email-verification`).
    VerifyEmailCode,
    /// A 6-digit code for a sign-in that owes its second factor (`twoFactor.sendOtp`).
    TwoFactorCode,
    /// A 6-digit code to choose a new password (`emailOTP`, type `forget-password`).
    ResetPasswordCode,
}

impl Kind {
    /// Every kind.
    pub(crate) const ALL: [Kind; 11] = [
        Kind::VerifyEmail,
        Kind::ResetPassword,
        Kind::ConfirmEmailChange,
        Kind::VerifyNewEmail,
        Kind::EmailInUse,
        Kind::PasswordChanged,
        Kind::MagicLink,
        Kind::SignInCode,
        Kind::VerifyEmailCode,
        Kind::TwoFactorCode,
        Kind::ResetPasswordCode,
    ];

    /// The stored name, and the template file stem.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::VerifyEmail => "verify-email",
            Kind::ResetPassword => "reset-password",
            Kind::ConfirmEmailChange => "confirm-email-change",
            Kind::VerifyNewEmail => "verify-new-email",
            Kind::EmailInUse => "email-in-use",
            Kind::PasswordChanged => "password-changed",
            Kind::MagicLink => "magic-link",
            Kind::SignInCode => "sign-in-code",
            Kind::VerifyEmailCode => "verify-email-code",
            Kind::TwoFactorCode => "two-factor-code",
            Kind::ResetPasswordCode => "reset-password-code",
        }
    }

    /// The kind a stored name stands for.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn built_in(self) -> Template {
        let (subject, text, html) = match self {
            Kind::VerifyEmail => (
                "Verify your email address for {{app}}",
                "Hello {{name}},\n\nPlease confirm that {{email}} is your address by opening this link:\n\n{{link}}\n\nThe link works once and for {{valid_for}}. If you did not sign up for {{app}}, ignore this message.\n",
                "<p>Hello {{name}},</p><p>Please confirm that <strong>{{email}}</strong> is your address.</p><p><a class=\"button\" href=\"{{link}}\">Verify my address</a></p><p>The link works once and for {{valid_for}}. If you did not sign up for {{app}}, ignore this message.</p>",
            ),
            Kind::ResetPassword => (
                "Reset your {{app}} password",
                "Hello {{name}},\n\nSomeone (hopefully you) asked to reset the password of the {{app}} account for {{email}}. Choose a new password here:\n\n{{link}}\n\nThe link works once and for {{valid_for}}. If you did not ask for this, ignore this message: your password stays as it is.\n",
                "<p>Hello {{name}},</p><p>Someone (hopefully you) asked to reset the password of the {{app}} account for <strong>{{email}}</strong>.</p><p><a class=\"button\" href=\"{{link}}\">Choose a new password</a></p><p>The link works once and for {{valid_for}}. If you did not ask for this, ignore this message: your password stays as it is.</p>",
            ),
            Kind::ConfirmEmailChange => (
                "Confirm the change of your {{app}} address",
                "Hello {{name}},\n\nYou asked to change the address of your {{app}} account from {{email}} to {{new_email}}. Confirm it here; we will then send a link to the new address:\n\n{{link}}\n\nThe link works once and for {{valid_for}}. If you did not ask for this, ignore this message and change your password.\n",
                "<p>Hello {{name}},</p><p>You asked to change the address of your {{app}} account from <strong>{{email}}</strong> to <strong>{{new_email}}</strong>. Confirm it, and we will then send a link to the new address.</p><p><a class=\"button\" href=\"{{link}}\">Confirm the change</a></p><p>The link works once and for {{valid_for}}. If you did not ask for this, ignore this message and change your password.</p>",
            ),
            Kind::VerifyNewEmail => (
                "Verify your new address for {{app}}",
                "Hello {{name}},\n\nOpen this link to make {{new_email}} the address of your {{app}} account:\n\n{{link}}\n\nThe link works once and for {{valid_for}}. If you did not ask for this, ignore this message.\n",
                "<p>Hello {{name}},</p><p>Open this link to make <strong>{{new_email}}</strong> the address of your {{app}} account.</p><p><a class=\"button\" href=\"{{link}}\">Use this address</a></p><p>The link works once and for {{valid_for}}. If you did not ask for this, ignore this message.</p>",
            ),
            Kind::EmailInUse => (
                "Your {{app}} address",
                "Hello,\n\nSomeone asked to move a {{app}} account to {{new_email}}, but that address already has an account, so nothing changed. If it was you, sign in to that account instead. If not, ignore this message.\n",
                "<p>Hello,</p><p>Someone asked to move a {{app}} account to <strong>{{new_email}}</strong>, but that address already has an account, so nothing changed. If it was you, sign in to that account instead. If not, ignore this message.</p>",
            ),
            Kind::PasswordChanged => (
                "Your {{app}} password was changed",
                "Hello {{name}},\n\nThe password of your {{app}} account ({{email}}) was just changed, and the sessions signed in with the old password were ended. If this was not you, reset your password at once and tell us.\n",
                "<p>Hello {{name}},</p><p>The password of your {{app}} account (<strong>{{email}}</strong>) was just changed, and the sessions signed in with the old password were ended. If this was not you, reset your password at once and tell us.</p>",
            ),
            Kind::MagicLink => (
                "Sign in to {{app}}",
                "Hello {{name}},\n\nOpen this link to sign in to {{app}} as {{email}}:\n\n{{link}}\n\nThe link works once and for {{valid_for}}. If you did not ask for it, ignore this message: nobody can sign in without it.\n",
                "<p>Hello {{name}},</p><p>Open this link to sign in to {{app}} as <strong>{{email}}</strong>.</p><p><a class=\"button\" href=\"{{link}}\">Sign in</a></p><p>The link works once and for {{valid_for}}. If you did not ask for it, ignore this message: nobody can sign in without it.</p>",
            ),
            Kind::SignInCode => (
                "Your {{app}} sign-in code: {{code}}",
                "Hello {{name}},\n\nYour code to sign in to {{app}} as {{email}} is:\n\n    {{code}}\n\nIt works once and for {{valid_for}}. Never tell it to anyone. If you did not ask for it, ignore this message.\n",
                "<p>Hello {{name}},</p><p>Your code to sign in to {{app}} as <strong>{{email}}</strong> is:</p><p style=\"font-size:28px;letter-spacing:6px;font-weight:600\">{{code}}</p><p>It works once and for {{valid_for}}. Never tell it to anyone. If you did not ask for it, ignore this message.</p>",
            ),
            Kind::VerifyEmailCode => (
                "Your {{app}} verification code: {{code}}",
                "Hello {{name}},\n\nYour code to confirm that {{email}} is your address is:\n\n    {{code}}\n\nIt works once and for {{valid_for}}. If you did not ask for it, ignore this message.\n",
                "<p>Hello {{name}},</p><p>Your code to confirm that <strong>{{email}}</strong> is your address is:</p><p style=\"font-size:28px;letter-spacing:6px;font-weight:600\">{{code}}</p><p>It works once and for {{valid_for}}. If you did not ask for it, ignore this message.</p>",
            ),
            Kind::TwoFactorCode => (
                "Your {{app}} security code: {{code}}",
                "Hello {{name}},\n\nSomeone signed in to your {{app}} account ({{email}}) with your first factor. To finish signing in, enter this code:\n\n    {{code}}\n\nIt works once and for {{valid_for}}. If this was not you, change your password now.\n",
                "<p>Hello {{name}},</p><p>Someone signed in to your {{app}} account (<strong>{{email}}</strong>) with your first factor. To finish signing in, enter this code:</p><p style=\"font-size:28px;letter-spacing:6px;font-weight:600\">{{code}}</p><p>It works once and for {{valid_for}}. If this was not you, change your password now.</p>",
            ),
            Kind::ResetPasswordCode => (
                "Your {{app}} password reset code: {{code}}",
                "Hello {{name}},\n\nSomeone (hopefully you) asked to reset the password of the {{app}} account for {{email}}. Your code is:\n\n    {{code}}\n\nIt works once and for {{valid_for}}. If you did not ask for this, ignore this message: your password stays as it is.\n",
                "<p>Hello {{name}},</p><p>Someone (hopefully you) asked to reset the password of the {{app}} account for <strong>{{email}}</strong>. Your code is:</p><p style=\"font-size:28px;letter-spacing:6px;font-weight:600\">{{code}}</p><p>It works once and for {{valid_for}}. If you did not ask for this, ignore this message: your password stays as it is.</p>",
            ),
        };
        Template {
            subject: subject.to_owned(),
            text: text.to_owned(),
            html: LAYOUT.replace("{{body}}", html),
        }
    }
}

/// The HTML around a built-in message body: inline styles only (mail clients strip the
/// rest), nothing loaded from anywhere.
const LAYOUT: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{{app}}</title></head>\
<body style=\"margin:0;padding:24px;background:#f4f5f7;font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#1f2328\">\
<div style=\"max-width:520px;margin:0 auto;background:#fff;border-radius:8px;padding:24px\">\
<p style=\"font-weight:600;font-size:18px;margin-top:0\">{{app}}</p>{{body}}</div></body></html>";

/// One message's texts, before values are filled in.
#[derive(Debug, Clone)]
struct Template {
    subject: String,
    text: String,
    html: String,
}

/// A message ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rendered {
    /// One line.
    pub(crate) subject: String,
    /// The plain-text part.
    pub(crate) text: String,
    /// The HTML part.
    pub(crate) html: String,
}

/// The texts of every message.
#[derive(Debug, Clone)]
pub(crate) struct Templates(HashMap<Kind, Template>);

impl Templates {
    /// The built-in texts, with the files found in `dir` (if given) in their place.
    pub(crate) fn load(dir: Option<&Path>) -> Result<Self, String> {
        let mut all = HashMap::new();
        for kind in Kind::ALL {
            let mut t = kind.built_in();
            if let Some(dir) = dir {
                let read = |ext: &str| -> Result<Option<String>, String> {
                    let path = dir.join(format!("{}.{ext}", kind.as_str()));
                    match std::fs::read_to_string(&path) {
                        Ok(s) => Ok(Some(s)),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
                    }
                };
                if let Some(s) = read("subject")? {
                    t.subject = s.lines().next().unwrap_or("").trim().to_owned();
                }
                if let Some(s) = read("txt")? {
                    t.text = s;
                }
                if let Some(s) = read("html")? {
                    t.html = s;
                }
            }
            all.insert(kind, t);
        }
        Ok(Self(all))
    }

    /// Fills in a message.
    pub(crate) fn render(&self, kind: Kind, values: &Values<'_>) -> Rendered {
        let t = self
            .0
            .get(&kind)
            .cloned()
            .unwrap_or_else(|| kind.built_in());
        let subject: String = fill(&t.subject, values, false)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        Rendered {
            subject,
            text: fill(&t.text, values, false),
            html: fill(&t.html, values, true),
        }
    }
}

/// The values a message may name.
#[derive(Debug, Default, Clone)]
pub(crate) struct Values<'a> {
    pub(crate) app: &'a str,
    pub(crate) name: &'a str,
    pub(crate) email: &'a str,
    pub(crate) new_email: &'a str,
    pub(crate) link: &'a str,
    pub(crate) code: &'a str,
    pub(crate) valid_for: &'a str,
}

impl Values<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        Some(match key {
            "app" => self.app,
            "name" => self.name,
            "email" => self.email,
            "new_email" => self.new_email,
            "link" => self.link,
            "code" => self.code,
            "valid_for" => self.valid_for,
            _ => return None,
        })
    }
}

/// Replaces each `{{key}}` with its value (escaped for HTML when `html`), in one pass: a
/// value that itself contains `{{…}}` is not expanded again. Unknown keys stay as written.
fn fill(template: &str, values: &Values<'_>, html: bool) -> String {
    let mut out = String::with_capacity(template.len() + 128);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let key = after[..end].trim();
                match values.get(key) {
                    Some(v) if html => escape_html(v, &mut out),
                    Some(v) => out.push_str(v),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn escape_html(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values<'static> {
        Values {
            app: "Acme",
            name: "<script>alert(1)</script>",
            email: "a@b.test",
            new_email: "n@b.test",
            link: "https://auth.test/x?a=1&b={{name}}",
            code: "",
            valid_for: "30 minutes",
        }
    }

    #[test]
    fn values_are_escaped_in_html_and_never_expanded_twice() {
        let t = Templates::load(None).unwrap_or_else(|e| panic!("{e}"));
        let m = t.render(Kind::ResetPassword, &values());
        assert_eq!(m.subject, "Reset your Acme password");
        assert!(m.text.contains("https://auth.test/x?a=1&b={{name}}"));
        assert!(m.text.contains("Hello <script>"), "text is not HTML");
        assert!(
            m.html
                .contains("href=\"https://auth.test/x?a=1&amp;b={{name}}\"")
        );
        assert!(!m.html.contains("<script>"));
        assert!(m.html.contains("&lt;script&gt;"));
    }

    #[test]
    fn files_replace_built_in_texts_one_by_one() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.path().join("verify-email.subject"),
            "Bienvenue {{name}}\nignored",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.path().join("verify-email.txt"),
            "Lien: {{link}} {{unknown}}",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let t = Templates::load(Some(dir.path())).unwrap_or_else(|e| panic!("{e}"));
        let m = t.render(Kind::VerifyEmail, &values());
        assert_eq!(m.subject, "Bienvenue <script>alert(1)</script>");
        assert_eq!(
            m.text,
            "Lien: https://auth.test/x?a=1&b={{name}} {{unknown}}"
        );
        assert!(
            m.html.contains("Verify my address"),
            "the HTML stays built in"
        );
    }

    #[test]
    fn a_subject_is_one_line() {
        let mut v = values();
        v.app = "Evil\r\nBcc: x@y";
        let t = Templates::load(None).unwrap_or_else(|e| panic!("{e}"));
        let m = t.render(Kind::PasswordChanged, &v);
        assert!(!m.subject.contains('\r') && !m.subject.contains('\n'));
    }
}
