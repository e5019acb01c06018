//! `tessera import better-auth --from <url>`: copies users, their email-and-password
//! credentials and their live sessions from a Better Auth database into the configured
//! Tessera database.
//!
//! * Users keep their ids (JWT `sub`s and application data keep matching); emails are
//!   normalised as Tessera stores them (lower-cased; addresses Tessera's sign-in could never
//!   accept are skipped and reported).
//! * Credentials keep their scrypt hash; Tessera verifies it and upgrades it to Argon2id at
//!   the user's first sign-in.
//! * Live sessions are stored by the SHA-256 digest of their token, so the Better Auth token
//!   keeps working as a Bearer token, and the session cookie too when Tessera's secret is
//!   Better Auth's `BETTER_AUTH_SECRET`.
//! * Passkeys (`@better-auth/passkey`'s `passkey` table, when there is one) keep working
//!   with the same relying-party id (`passkeys.rs`); they are imported after the users, in
//!   a second transaction.
//! * Users, credentials and sessions in one write transaction: an error leaves Tessera
//!   unchanged. Re-running adds only what is
//!   new; the conflict rules are in `tessera_store`'s import module.
//!
//! Nothing secret is printed: no hashes, no tokens, no URL credentials.

mod passkeys;
mod source;

use std::collections::{BTreeMap, HashMap};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use tessera_core::{Clock as _, Email, SessionToken, SystemClock};
use tessera_store::{
    CredentialImport, ImportCredential, ImportSession, ImportUser, ImportedUser, SessionImport,
    UserImport,
};

use crate::args::DbArgs;
use source::{Snapshot, SourceUrl};

/// `tessera import`.
#[derive(Debug, Subcommand)]
pub(crate) enum ImportAction {
    /// Copy users (with their ids), email-and-password credentials and live sessions from a
    /// Better Auth database into the configured Tessera database. Safe to re-run: only what
    /// is new is added, and nothing already in Tessera is overwritten.
    BetterAuth(Box<BetterAuthArgs>),
}

/// Options of `tessera import better-auth`.
#[derive(Debug, Args)]
pub(crate) struct BetterAuthArgs {
    /// The Better Auth database: postgres://user:pass@host/db, sqlite:path or a SQLite file
    /// path. Opened read-only.
    #[arg(
        long,
        value_name = "URL",
        env = "TESSERA_IMPORT_FROM",
        hide_env_values = true
    )]
    from: String,
    /// Report what would be imported, then roll back: nothing is written.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    db: DbArgs,
}

pub(crate) async fn run(action: ImportAction) -> anyhow::Result<()> {
    match action {
        ImportAction::BetterAuth(a) => better_auth(*a).await,
    }
}

async fn better_auth(a: BetterAuthArgs) -> anyhow::Result<()> {
    let source = SourceUrl::parse(&a.from)?;
    // Read (and validate) the whole source before Tessera's database is even opened.
    let snapshot = source::read(&source).await?;
    let now = SystemClock.now_ms();
    let plan = plan(snapshot, now);
    let store =
        a.db.connect()
            .await
            .context("cannot open the Tessera database")?;
    let outcomes = store
        .import_users(&plan.users, a.dry_run)
        .await
        .context("the import failed; the Tessera database is unchanged")?;
    let report = Report::new(&plan, &outcomes);
    print!("{}", report.render(&source.describe(), a.dry_run));
    // In a dry run the users were rolled back, so their passkeys count as users' not there.
    let passkeys = passkeys::import(&source, &*store, now, a.dry_run).await?;
    print!("{}", passkeys.render());
    Ok(())
}

/// Why a source row is not handed to the store at all.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Dropped {
    BadEmail,
    BadId,
}

/// The source turned into what the store imports, plus what was left out before that.
struct Plan {
    users: Vec<ImportUser>,
    /// Users left out, with the reason: (id, email, reason).
    dropped: Vec<(String, String, Dropped)>,
    sessions_expired: usize,
    /// Sessions of users that were left out or do not exist in the source.
    sessions_orphaned: usize,
    sessions_bad_token: usize,
    other_accounts: Vec<(String, i64)>,
}

/// Ids as Tessera can carry them in URLs and JWTs: Better Auth's 32 alphanumerics, UUIDs,
/// serial numbers — printable ASCII without `/`, at most 255 characters.
fn usable_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| b.is_ascii_graphic() && b != b'/')
}

fn plan(snapshot: Snapshot, now_ms: i64) -> Plan {
    let Snapshot {
        users,
        credentials,
        sessions,
        other_accounts,
    } = snapshot;
    // The most recently updated credential account of each user (Better Auth keeps one).
    let mut credential_of: HashMap<String, ImportCredential> = HashMap::new();
    for c in credentials {
        if let Some(hash) = c.password.filter(|h| !h.is_empty()) {
            credential_of.entry(c.user_id).or_insert(ImportCredential {
                password_hash: hash,
                created_at: c.created_at,
                updated_at: c.updated_at,
            });
        }
    }
    let mut planned = Vec::with_capacity(users.len());
    let mut dropped = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for u in users {
        let email = match Email::parse(&u.email) {
            Ok(e) => e.into_string(),
            Err(_) => {
                dropped.push((u.id, u.email, Dropped::BadEmail));
                continue;
            }
        };
        if !usable_id(&u.id) {
            dropped.push((u.id, email, Dropped::BadId));
            continue;
        }
        index.insert(u.id.clone(), planned.len());
        planned.push(ImportUser {
            credential: credential_of.remove(&u.id),
            id: u.id,
            name: u.name,
            email,
            email_verified: u.email_verified,
            image: u.image,
            created_at: u.created_at,
            updated_at: u.updated_at,
            sessions: Vec::new(),
        });
    }
    let (mut expired, mut orphaned, mut bad_token) = (0, 0, 0);
    for s in sessions {
        if s.expires_at <= now_ms {
            expired += 1;
            continue;
        }
        let Some(&i) = index.get(&s.user_id) else {
            orphaned += 1;
            continue;
        };
        // Tessera only accepts tokens of Better Auth's default shape; others could never be
        // presented successfully, so they are not imported.
        let Some(token) = SessionToken::parse(&s.token) else {
            bad_token += 1;
            continue;
        };
        if !usable_id(&s.id) {
            bad_token += 1;
            continue;
        }
        planned[i].sessions.push(ImportSession {
            id: s.id,
            token_digest: token.digest().as_str().to_owned(),
            expires_at: s.expires_at,
            created_at: s.created_at,
            updated_at: s.updated_at,
            ip_address: s.ip_address.unwrap_or_default(),
            user_agent: s.user_agent.unwrap_or_default(),
        });
    }
    Plan {
        users: planned,
        dropped,
        sessions_expired: expired,
        sessions_orphaned: orphaned,
        sessions_bad_token: bad_token,
        other_accounts,
    }
}

/// Counts for the summary.
#[derive(Debug, Default)]
struct Report {
    users_new: usize,
    users_present: usize,
    /// (id, email, reason) of users not imported.
    users_skipped: Vec<(String, String, &'static str)>,
    passwords_new: usize,
    passwords_present: usize,
    /// (id, email) of imported users without a password.
    without_password: Vec<(String, String)>,
    sessions_new: usize,
    sessions_present: usize,
    sessions_expired: usize,
    sessions_skipped: BTreeMap<&'static str, usize>,
    other_accounts: Vec<(String, i64)>,
}

impl Report {
    fn new(plan: &Plan, outcomes: &[ImportedUser]) -> Self {
        let mut r = Report {
            sessions_expired: plan.sessions_expired,
            other_accounts: plan.other_accounts.clone(),
            ..Report::default()
        };
        for (id, email, why) in &plan.dropped {
            let why = match why {
                Dropped::BadEmail => "Tessera does not accept this email address",
                Dropped::BadId => "the id cannot be used in Tessera's URLs and tokens",
            };
            r.users_skipped.push((id.clone(), email.clone(), why));
        }
        let mut skip = |why: &'static str, n: usize| {
            if n > 0 {
                *r.sessions_skipped.entry(why).or_default() += n;
            }
        };
        skip("their user was not imported", plan.sessions_orphaned);
        skip(
            "the token is not in Better Auth's default format",
            plan.sessions_bad_token,
        );
        let mut skipped_sessions: BTreeMap<&'static str, usize> = BTreeMap::new();
        for (u, o) in plan.users.iter().zip(outcomes) {
            match o.user {
                UserImport::Created => r.users_new += 1,
                UserImport::Present => r.users_present += 1,
                UserImport::EmailTaken => r.users_skipped.push((
                    u.id.clone(),
                    u.email.clone(),
                    "another Tessera user has this email (left as it is)",
                )),
                UserImport::IdTaken => r.users_skipped.push((
                    u.id.clone(),
                    u.email.clone(),
                    "a Tessera user with another email has this id (left as it is)",
                )),
            }
            match o.credential {
                CredentialImport::Created => r.passwords_new += 1,
                CredentialImport::Present => r.passwords_present += 1,
                CredentialImport::NoneGiven => {
                    r.without_password.push((u.id.clone(), u.email.clone()));
                }
                CredentialImport::UserSkipped => {}
            }
            for s in &o.sessions {
                let why = match s {
                    SessionImport::Created => {
                        r.sessions_new += 1;
                        continue;
                    }
                    SessionImport::Present => {
                        r.sessions_present += 1;
                        continue;
                    }
                    SessionImport::UserImportedEarlier => {
                        "their user was imported by an earlier run (sessions are never revived)"
                    }
                    SessionImport::UserSkipped => "their user was not imported",
                    SessionImport::Conflict => "Tessera has another session with this id",
                };
                *skipped_sessions.entry(why).or_default() += 1;
            }
        }
        for (why, n) in skipped_sessions {
            *r.sessions_skipped.entry(why).or_default() += n;
        }
        r
    }

    fn render(&self, source: &str, dry_run: bool) -> String {
        use std::fmt::Write as _;
        let mut o = String::new();
        let _ = writeln!(
            o,
            "{} from the Better Auth {source}",
            if dry_run {
                "dry run (nothing written): import"
            } else {
                "imported"
            }
        );
        let skipped_sessions: usize = self.sessions_skipped.values().sum();
        let _ = writeln!(
            o,
            "users: {} new, {} already present, {} skipped",
            self.users_new,
            self.users_present,
            self.users_skipped.len()
        );
        let _ = writeln!(
            o,
            "passwords: {} new, {} already present, {} user(s) without a password",
            self.passwords_new,
            self.passwords_present,
            self.without_password.len()
        );
        let _ = writeln!(
            o,
            "sessions: {} new, {} already present, {} expired (not imported), {} skipped",
            self.sessions_new, self.sessions_present, self.sessions_expired, skipped_sessions
        );
        for (id, email, why) in &self.users_skipped {
            let _ = writeln!(o, "  skipped user {id} <{email}>: {why}");
        }
        for (why, n) in &self.sessions_skipped {
            let _ = writeln!(o, "  skipped {n} session(s): {why}");
        }
        for (id, email) in &self.without_password {
            let _ = writeln!(
                o,
                "  no password: user {id} <{email}> (signed in another way at Better Auth; cannot sign in to Tessera until they have a password)"
            );
        }
        for (provider, n) in &self.other_accounts {
            let _ = writeln!(
                o,
                "  not imported: {n} {provider} account link(s) (Tessera signs in with email and password only)"
            );
        }
        if self.sessions_new > 0 {
            let _ = writeln!(
                o,
                "note: imported session tokens work as Bearer tokens; Better Auth's session cookies stay valid only if Tessera's secret equals BETTER_AUTH_SECRET"
            );
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::source::{BaCredential, BaSession, BaUser};
    use super::*;

    fn user(id: &str, email: &str) -> BaUser {
        BaUser {
            id: id.into(),
            name: "N".into(),
            email: email.into(),
            email_verified: true,
            image: None,
            created_at: 1,
            updated_at: 2,
        }
    }

    fn session(id: &str, user_id: &str, token: &str, expires_at: i64) -> BaSession {
        BaSession {
            id: id.into(),
            user_id: user_id.into(),
            token: token.into(),
            expires_at,
            created_at: 1,
            updated_at: 1,
            ip_address: None,
            user_agent: Some("ua".into()),
        }
    }

    #[test]
    fn plan_normalises_emails_and_drops_what_tessera_cannot_serve() {
        let token = "A".repeat(32);
        let p = plan(
            Snapshot {
                users: vec![
                    user("u1", "Mixed.Case@Example.COM"),
                    user("u2", "not an email"),
                    user("has/slash", "ok@example.com"),
                ],
                credentials: vec![BaCredential {
                    user_id: "u1".into(),
                    password: Some("salt:hash".into()),
                    created_at: 1,
                    updated_at: 1,
                }],
                sessions: vec![
                    session("s1", "u1", &token, 100),
                    session("s2", "u1", &token, 10),
                    session("s3", "u2", &token, 100),
                    session("s4", "u1", "short", 100),
                ],
                other_accounts: vec![],
            },
            50,
        );
        assert_eq!(p.users.len(), 1);
        assert_eq!(p.users[0].email, "mixed.case@example.com");
        assert!(p.users[0].credential.is_some());
        assert_eq!(p.users[0].sessions.len(), 1);
        assert_eq!(p.users[0].sessions[0].ip_address, "");
        assert_eq!(
            p.users[0].sessions[0].token_digest,
            tessera_core::TokenDigest::of(&token).as_str()
        );
        assert_eq!(p.dropped.len(), 2);
        assert_eq!(
            (
                p.sessions_expired,
                p.sessions_orphaned,
                p.sessions_bad_token
            ),
            (1, 1, 1)
        );
    }
}
