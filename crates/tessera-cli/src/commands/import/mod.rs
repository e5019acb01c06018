//! `tessera import better-auth --from <url>`: copies users, their email-and-password
//! credentials, their identities at providers, their two-factor authenticators and their
//! live sessions from a Better Auth database into the configured Tessera database.
//!
//! * Users keep their ids (JWT `sub`s and application data keep matching); emails are
//!   normalised as Tessera stores them (lower-cased; addresses Tessera's sign-in could never
//!   accept are skipped and reported).
//! * Credentials keep their scrypt hash; Tessera verifies it and upgrades it to Argon2id at
//!   the user's first sign-in.
//! * Live sessions are stored by the SHA-256 digest of their token, so the Better Auth token
//!   keeps working as a Bearer token, and the session cookie too when Tessera's secret is
//!   Better Auth's `BETTER_AUTH_SECRET`.
//! * Identities at providers (`account` rows other than `credential`) are keyed by
//!   (issuer, subject) as Tessera's sign-in looks them up: Better Auth 1.7.25 keeps no
//!   issuer, so the provider id is mapped through the configured `[providers.<id>]` (an
//!   OpenID Connect provider's `issuer`, `local:oauth:<id>` for GitHub). Accounts of a
//!   provider that is not configured are skipped and counted per provider (configure it and
//!   re-run). Provider access and refresh tokens are not imported.
//! * Two-factor (`twoFactor` rows of confirmed enrolments of users with `twoFactorEnabled`):
//!   the TOTP secret and the backup codes are decrypted with the Better Auth secret
//!   (`--better-auth-secret-file`, `--better-auth-secrets-file`; see `ba_crypto`), the
//!   secret re-encrypted with Tessera's key (the server secret, `--secret`/`TESSERA_SECRET`
//!   as `serve` has it) and the unused backup codes stored as keyed digests. Authenticator
//!   apps and the remaining backup codes keep working. A source with such rows and no Better
//!   Auth secret, or a secret that does not decrypt them, is refused.
//! * Passkeys (`@better-auth/passkey`'s `passkey` table, when there is one) keep working
//!   with the same relying-party id (`passkeys.rs`); they are imported after the users, in
//!   a second transaction.
//! * Users and what they hold besides passkeys in one write transaction: an error leaves
//!   Tessera unchanged. Re-running adds only what is
//!   new; the conflict rules are in `tessera_store`'s import module.
//!
//! Nothing secret is printed: no hashes, no tokens, no URL credentials.

mod ba_crypto;
mod passkeys;
mod source;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use tessera_core::totp::backup;
use tessera_core::{Clock as _, Email, SessionToken, SystemClock};
use tessera_server::FactorKeys;
use tessera_server::settings::{Provider, ProviderKind};
use tessera_store::{
    CredentialImport, IdentityImport, ImportCredential, ImportIdentity, ImportSession,
    ImportTwoFactor, ImportUser, ImportedUser, SessionImport, TwoFactorImport, UserImport,
};

use crate::args::DbArgs;
use ba_crypto::BaSecrets;
use source::{BaTwoFactor, Snapshot, SourceUrl};

/// `tessera import`.
#[derive(Debug, Subcommand)]
pub(crate) enum ImportAction {
    /// Copy users (with their ids), email-and-password credentials, identities at the
    /// configured providers, two-factor authenticators and live sessions from a Better Auth
    /// database into the configured Tessera database. Safe to re-run: only what is new is
    /// added, and nothing already in Tessera is overwritten.
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
    /// A file holding Better Auth's `BETTER_AUTH_SECRET`: decrypts the two-factor secrets
    /// and backup codes (needed when users have two-factor).
    #[arg(
        long,
        value_name = "FILE",
        env = "TESSERA_IMPORT_BETTER_AUTH_SECRET_FILE"
    )]
    better_auth_secret_file: Option<PathBuf>,
    /// A file holding Better Auth's `BETTER_AUTH_SECRETS` (`<version>:<secret>` entries,
    /// separated by commas or new lines), for values encrypted as `$ba$<version>$…`.
    #[arg(
        long,
        value_name = "FILE",
        env = "TESSERA_IMPORT_BETTER_AUTH_SECRETS_FILE"
    )]
    better_auth_secrets_file: Option<PathBuf>,
    /// Tessera's server secret, as `serve` has it: imported TOTP secrets are encrypted and
    /// backup codes digested with keys derived from it. Without it, the development secret
    /// kept beside the database.
    #[arg(long, env = "TESSERA_SECRET", hide_env_values = true)]
    secret: Option<String>,
    #[command(flatten)]
    db: DbArgs,
    /// The `[providers.<id>]` tables of the config file (no flags): identities are imported
    /// for these providers only.
    #[arg(skip)]
    pub(crate) providers: Vec<Provider>,
}

pub(crate) async fn run(action: ImportAction) -> anyhow::Result<()> {
    match action {
        ImportAction::BetterAuth(a) => better_auth(*a).await,
    }
}

fn read_file(path: Option<&PathBuf>, flag: &str) -> anyhow::Result<Option<String>> {
    path.map(|p| {
        std::fs::read_to_string(p).with_context(|| format!("{flag}: cannot read {}", p.display()))
    })
    .transpose()
}

async fn better_auth(a: BetterAuthArgs) -> anyhow::Result<()> {
    let source = SourceUrl::parse(&a.from)?;
    let ba_secrets = BaSecrets::new(
        read_file(
            a.better_auth_secret_file.as_ref(),
            "--better-auth-secret-file",
        )?
        .as_deref(),
        read_file(
            a.better_auth_secrets_file.as_ref(),
            "--better-auth-secrets-file",
        )?
        .as_deref(),
    )?;
    let issuers = issuers(&a.providers)?;
    // Read (and validate) the whole source before Tessera's database is even opened.
    let snapshot = source::read(&source).await?;
    let now = SystemClock.now_ms();
    let mut plan = plan(snapshot, now, &issuers);
    if !plan.two_factors.is_empty() {
        if ba_secrets.is_empty() {
            bail!(
                "{} user(s) have two-factor at Better Auth: give its secret with --better-auth-secret-file (BETTER_AUTH_SECRET) and/or --better-auth-secrets-file (BETTER_AUTH_SECRETS) so their authenticators keep working",
                plan.two_factors.len()
            );
        }
        let secret = match a.secret.clone() {
            Some(s) => s.into_bytes(),
            None => crate::args::dev_secret(&a.db.database_url)?,
        };
        let keys = FactorKeys::derive(&secret);
        plan.seal_two_factors(&ba_secrets, &keys, now)?;
    }
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

/// The issuer of each configured provider, by provider id.
fn issuers(providers: &[Provider]) -> anyhow::Result<HashMap<String, String>> {
    providers
        .iter()
        .map(|p| {
            let issuer = match p.kind {
                ProviderKind::Github => format!("local:oauth:{}", p.id),
                ProviderKind::Oidc => p.issuer.clone().with_context(|| {
                    format!(
                        "[providers.{}] has no issuer (an OpenID Connect provider needs one)",
                        p.id
                    )
                })?,
            };
            Ok((p.id.clone(), issuer))
        })
        .collect()
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
    /// Accounts of providers that are not configured: provider id → count.
    unconfigured: BTreeMap<String, usize>,
    /// Accounts left out for another reason: reason → count.
    identities_dropped: BTreeMap<&'static str, usize>,
    /// Two-factor rows to import, by index into `users`, still encrypted.
    two_factors: Vec<(usize, BaTwoFactor)>,
    /// Two-factor rows left out: reason → count.
    two_factors_dropped: BTreeMap<&'static str, usize>,
    /// Backup codes of a shape Tessera cannot accept (custom generators).
    backup_codes_unusable: usize,
}

impl Plan {
    /// Decrypts the planned two-factor rows with Better Auth's secret and stores them in
    /// Tessera's forms (TOTP key sealed, backup codes digested).
    fn seal_two_factors(
        &mut self,
        ba: &BaSecrets,
        keys: &FactorKeys,
        now_ms: i64,
    ) -> anyhow::Result<()> {
        for (i, row) in std::mem::take(&mut self.two_factors) {
            let user = &mut self.users[i];
            let totp = ba
                .decrypt(&row.secret)
                .with_context(|| format!("the TOTP secret of user {}", user.id))?;
            // Better Auth's HMAC key is the secret string's UTF-8 bytes.
            anyhow::ensure!(
                !totp.is_empty(),
                "the TOTP secret of user {} is empty",
                user.id
            );
            let codes = backup_codes(ba, &row.backup_codes)
                .with_context(|| format!("the backup codes of user {}", user.id))?;
            let mut digests = BTreeSet::new();
            for c in codes {
                match backup::normalise(&c) {
                    Some(canonical) => {
                        digests.insert(keys.backup_digest(&user.id, &canonical));
                    }
                    None => self.backup_codes_unusable += 1,
                }
            }
            user.two_factor = Some(ImportTwoFactor {
                sealed_secret: keys.seal_totp(&user.id, totp.as_bytes()),
                backup_digests: digests.into_iter().collect(),
                verified_at: now_ms,
            });
        }
        Ok(())
    }
}

/// Better Auth's backup codes: a JSON array, encrypted (the default) or plain
/// (`storeBackupCodes: "plain"`). An empty value means none are left.
fn backup_codes(ba: &BaSecrets, stored: &str) -> anyhow::Result<Vec<String>> {
    let stored = stored.trim();
    if stored.is_empty() {
        return Ok(Vec::new());
    }
    let json = if stored.starts_with('[') {
        stored.to_owned()
    } else {
        ba.decrypt(stored)?
    };
    serde_json::from_str::<Vec<String>>(&json)
        .ok()
        .context("not a JSON array of codes (a custom storeBackupCodes is not supported)")
}

/// Ids as Tessera can carry them in URLs and JWTs: Better Auth's 32 alphanumerics, UUIDs,
/// serial numbers — printable ASCII without `/`, at most 255 characters.
fn usable_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| b.is_ascii_graphic() && b != b'/')
}

fn plan(snapshot: Snapshot, now_ms: i64, issuers: &HashMap<String, String>) -> Plan {
    let Snapshot {
        users,
        credentials,
        sessions,
        identities,
        two_factors,
    } = snapshot;
    let two_factor_on: HashMap<String, bool> = users
        .iter()
        .map(|u| (u.id.clone(), u.two_factor_enabled))
        .collect();
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
            identities: Vec::new(),
            two_factor: None,
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
    let mut unconfigured: BTreeMap<String, usize> = BTreeMap::new();
    let mut identities_dropped: BTreeMap<&'static str, usize> = BTreeMap::new();
    for a in identities {
        let Some(issuer) = issuers.get(&a.provider_id) else {
            *unconfigured.entry(a.provider_id).or_default() += 1;
            continue;
        };
        let Some(&i) = index.get(&a.user_id) else {
            *identities_dropped
                .entry("their user was not imported")
                .or_default() += 1;
            continue;
        };
        if !usable_id(&a.id) || a.account_id.is_empty() {
            *identities_dropped
                .entry("the row id or the subject cannot be used in Tessera")
                .or_default() += 1;
            continue;
        }
        planned[i].identities.push(ImportIdentity {
            id: a.id,
            provider_id: a.provider_id,
            issuer: issuer.clone(),
            subject: a.account_id,
            scope: a.scope.map(|s| {
                s.split([',', ' '])
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
            created_at: a.created_at,
            updated_at: a.updated_at,
        });
    }
    let mut planned_two_factors = Vec::new();
    let mut two_factors_dropped: BTreeMap<&'static str, usize> = BTreeMap::new();
    for t in two_factors {
        let why = if !t.verified {
            "the enrolment was never confirmed with a code"
        } else if two_factor_on.get(&t.user_id) != Some(&true) {
            "two-factor is off for the user"
        } else if let Some(&i) = index.get(&t.user_id) {
            if planned[i].two_factor.is_some() || planned_two_factors.iter().any(|(j, _)| *j == i) {
                "the user has another two-factor row (the first is kept)"
            } else {
                planned_two_factors.push((i, t));
                continue;
            }
        } else {
            "their user was not imported"
        };
        *two_factors_dropped.entry(why).or_default() += 1;
    }
    Plan {
        users: planned,
        dropped,
        sessions_expired: expired,
        sessions_orphaned: orphaned,
        sessions_bad_token: bad_token,
        unconfigured,
        identities_dropped,
        two_factors: planned_two_factors,
        two_factors_dropped,
        backup_codes_unusable: 0,
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
    /// (id, email, has an identity) of imported users without a password.
    without_password: Vec<(String, String, bool)>,
    sessions_new: usize,
    sessions_present: usize,
    sessions_expired: usize,
    sessions_skipped: BTreeMap<&'static str, usize>,
    identities_new: usize,
    identities_present: usize,
    identities_skipped: BTreeMap<String, usize>,
    two_factors_new: usize,
    two_factors_present: usize,
    two_factors_skipped: BTreeMap<&'static str, usize>,
    backup_codes_unusable: usize,
}

impl Report {
    fn new(plan: &Plan, outcomes: &[ImportedUser]) -> Self {
        let mut r = Report {
            sessions_expired: plan.sessions_expired,
            backup_codes_unusable: plan.backup_codes_unusable,
            two_factors_skipped: plan.two_factors_dropped.clone(),
            ..Report::default()
        };
        for (provider, n) in &plan.unconfigured {
            r.identities_skipped.insert(
                format!(
                    "no [providers.{provider}] is configured (configure it and re-run the import)"
                ),
                *n,
            );
        }
        for (why, n) in &plan.identities_dropped {
            *r.identities_skipped.entry((*why).to_owned()).or_default() += n;
        }
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
            let mut has_identity = false;
            for i in &o.identities {
                let why = match i {
                    IdentityImport::Created => {
                        r.identities_new += 1;
                        has_identity = true;
                        continue;
                    }
                    IdentityImport::Present => {
                        r.identities_present += 1;
                        has_identity = true;
                        continue;
                    }
                    IdentityImport::Conflict => {
                        "Tessera links this identity (or has this account id) elsewhere (left as it is)"
                    }
                    IdentityImport::UserSkipped => "their user was not imported",
                };
                *r.identities_skipped.entry(why.to_owned()).or_default() += 1;
            }
            match o.two_factor {
                Some(TwoFactorImport::Created) => r.two_factors_new += 1,
                Some(TwoFactorImport::Present) => r.two_factors_present += 1,
                Some(TwoFactorImport::UserSkipped) => {
                    *r.two_factors_skipped
                        .entry("their user was not imported")
                        .or_default() += 1;
                }
                None => {}
            }
            match o.credential {
                CredentialImport::Created => r.passwords_new += 1,
                CredentialImport::Present => r.passwords_present += 1,
                CredentialImport::NoneGiven => {
                    r.without_password
                        .push((u.id.clone(), u.email.clone(), has_identity));
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
            "identities: {} new, {} already present, {} skipped",
            self.identities_new,
            self.identities_present,
            self.identities_skipped.values().sum::<usize>()
        );
        let _ = writeln!(
            o,
            "two-factor: {} new, {} already present, {} skipped",
            self.two_factors_new,
            self.two_factors_present,
            self.two_factors_skipped.values().sum::<usize>()
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
        for (id, email, _) in self.without_password.iter().filter(|(_, _, i)| !i) {
            let _ = writeln!(
                o,
                "  no password: user {id} <{email}> (no password and no identity at a configured provider; cannot sign in to Tessera until they reset their password)"
            );
        }
        for (why, n) in &self.identities_skipped {
            let _ = writeln!(o, "  skipped {n} identit(y/ies): {why}");
        }
        for (why, n) in &self.two_factors_skipped {
            let _ = writeln!(o, "  skipped {n} two-factor enrolment(s): {why}");
        }
        if self.backup_codes_unusable > 0 {
            let _ = writeln!(
                o,
                "  skipped {} backup code(s) not of Better Auth's default shape (xxxxx-xxxxx)",
                self.backup_codes_unusable
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
            two_factor_enabled: false,
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
                identities: vec![],
                two_factors: vec![],
            },
            50,
            &HashMap::new(),
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
