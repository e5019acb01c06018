//! Rate limits for the endpoints an attacker with a script goes for: sign-in, sign-up,
//! refresh, change-password and token, per client IP, plus failed sign-ins per account.
//!
//! Each bucket is a GCRA (the "generic cell rate algorithm": a leaky bucket kept as one
//! timestamp per key), so a quota of N per window allows a burst of N and then one request
//! every window/N. The client is the resolved client IP (see `client_ip`), IPv6 reduced to
//! its /64, so clients behind a trusted proxy never share a bucket and one IPv6 host cannot
//! rotate through its addresses. Buckets live in memory, per instance.
//!
//! Lock-out: failed sign-ins are counted per (account, client IP) — each attempt takes from
//! the bucket before the password is checked (so parallel guesses cannot slip past) and a
//! success gives it back — a script hammering one
//! account from one address is stopped after 5 failures — and per account from everywhere,
//! with a large quota (100 per hour, NIST's ceiling for consecutive failures) that a
//! distributed attack needs to exhaust. Someone else's failures can block a legitimate user
//! only through the per-account bucket, and only until it refills: one attempt per 36 s once
//! the attacker stops, the whole quota within the hour.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use http::request::Parts;
use tessera_core::Clock;

use super::client_ip::{ClientIp, TrustedProxies};
use super::error::ApiError;

/// N requests per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Requests allowed at once, and per window on average.
    pub limit: u32,
    /// The window.
    pub window: Duration,
}

impl Quota {
    /// `limit` per `window`.
    pub const fn new(limit: u32, window: Duration) -> Self {
        Self { limit, window }
    }
}

impl std::str::FromStr for Quota {
    type Err = String;
    /// `30/1m`, `5/5m`, `100/1h`, `10/30s`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not a quota like 30/1m");
        let (n, w) = s.trim().split_once('/').ok_or_else(bad)?;
        let limit: u32 = n.trim().parse().map_err(|_| bad())?;
        let w = w.trim();
        let split = w.find(|c: char| !c.is_ascii_digit()).unwrap_or(w.len());
        let (num, unit) = w.split_at(split);
        let num: u64 = if num.is_empty() {
            1
        } else {
            num.parse().map_err(|_| bad())?
        };
        let secs = match unit {
            "s" => num,
            "m" => num * 60,
            "h" => num * 3600,
            "d" => num * 86_400,
            _ => return Err(bad()),
        };
        if limit == 0 || secs == 0 {
            return Err(bad());
        }
        Ok(Self::new(limit, Duration::from_secs(secs)))
    }
}

/// What is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Every sign-in attempt, per client IP.
    SignIn,
    /// Failed sign-ins per (account, client IP).
    SignInFailuresPerClient,
    /// Failed sign-ins per account, from anywhere.
    SignInFailuresPerAccount,
    /// Sign-ups per client IP.
    SignUp,
    /// Refreshes per client IP.
    Refresh,
    /// Password changes per client IP.
    ChangePassword,
    /// Access-token requests per client IP.
    Token,
    /// Requests that send mail (verification, reset, change of address), per client IP.
    SendMail,
    /// Mail to one address, whoever asks for it.
    MailPerRecipient,
}

impl Rule {
    /// Name used in logs, metrics and the `--rate-limits` flag.
    pub fn name(self) -> &'static str {
        match self {
            Rule::SignIn => "sign-in",
            Rule::SignInFailuresPerClient => "sign-in-failures",
            Rule::SignInFailuresPerAccount => "sign-in-failures-per-account",
            Rule::SignUp => "sign-up",
            Rule::Refresh => "refresh",
            Rule::ChangePassword => "change-password",
            Rule::Token => "token",
            Rule::SendMail => "send-mail",
            Rule::MailPerRecipient => "mail-per-recipient",
        }
    }

    /// Every rule.
    pub const ALL: [Rule; 9] = [
        Rule::SignIn,
        Rule::SignInFailuresPerClient,
        Rule::SignInFailuresPerAccount,
        Rule::SignUp,
        Rule::Refresh,
        Rule::ChangePassword,
        Rule::Token,
        Rule::SendMail,
        Rule::MailPerRecipient,
    ];
}

/// The configured quotas; `enabled: false` turns every limit off (benchmarks, some tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// Whether limits apply at all.
    pub enabled: bool,
    quotas: HashMap<Rule, Quota>,
}

impl Default for RateLimits {
    /// The documented defaults (README, SECURITY.md).
    fn default() -> Self {
        let m = |n: u64| Duration::from_secs(60 * n);
        let quotas = HashMap::from([
            (Rule::SignIn, Quota::new(30, m(1))),
            (Rule::SignInFailuresPerClient, Quota::new(5, m(5))),
            (Rule::SignInFailuresPerAccount, Quota::new(100, m(60))),
            (Rule::SignUp, Quota::new(20, m(10))),
            (Rule::Refresh, Quota::new(60, m(1))),
            (Rule::ChangePassword, Quota::new(10, m(10))),
            (Rule::Token, Quota::new(120, m(1))),
            (Rule::SendMail, Quota::new(10, m(10))),
            (Rule::MailPerRecipient, Quota::new(3, m(15))),
        ]);
        Self {
            enabled: true,
            quotas,
        }
    }
}

impl RateLimits {
    /// No limits.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// The quota of a rule.
    pub fn quota(&self, rule: Rule) -> Quota {
        self.quotas
            .get(&rule)
            .copied()
            .unwrap_or(Quota::new(u32::MAX, Duration::from_secs(1)))
    }

    /// Changes one rule's quota.
    pub fn set(&mut self, rule: Rule, quota: Quota) {
        self.quotas.insert(rule, quota);
    }

    /// Parses `off`, or overrides like `sign-in=30/1m,sign-up=20/10m` on top of the defaults.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let spec = spec.trim();
        if spec.eq_ignore_ascii_case("off") {
            return Ok(Self::disabled());
        }
        let mut limits = Self::default();
        if spec.is_empty() || spec.eq_ignore_ascii_case("on") {
            return Ok(limits);
        }
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, quota) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: use rule=N/window, e.g. sign-in=30/1m"))?;
            let rule = Rule::ALL
                .into_iter()
                .find(|r| r.name() == name.trim())
                .ok_or_else(|| format!("unknown rate-limit rule {name:?}"))?;
            limits.set(rule, quota.parse()?);
        }
        Ok(limits)
    }
}

/// The buckets.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    clock: Arc<dyn Clock>,
    /// (rule, key) → theoretical arrival time of the next request, unix ms.
    buckets: Mutex<HashMap<(Rule, String), i64>>,
    metrics: Option<Arc<crate::metrics::Metrics>>,
}

/// Stop tracking more keys than this; idle buckets are swept first.
const MAX_BUCKETS: usize = 200_000;

impl RateLimiter {
    /// Buckets for these limits, timed by `clock`.
    pub fn new(limits: RateLimits, clock: Arc<dyn Clock>) -> Self {
        Self {
            limits,
            clock,
            buckets: Mutex::default(),
            metrics: None,
        }
    }

    /// Counts refusals in these metrics.
    pub fn set_metrics(&mut self, metrics: Arc<crate::metrics::Metrics>) {
        self.metrics = Some(metrics);
    }

    fn params(&self, rule: Rule) -> (i64, i64) {
        let q = self.limits.quota(rule);
        let window = i64::try_from(q.window.as_millis()).unwrap_or(i64::MAX);
        let interval = (window / i64::from(q.limit.max(1))).max(1);
        // a full burst of `limit` fits: tolerance is the window minus one interval
        (interval, window - interval)
    }

    /// Takes one request from the bucket; `Err` (429) when it is empty.
    pub fn hit(&self, rule: Rule, key: &str) -> Result<(), ApiError> {
        self.take(rule, key)
    }

    /// Gives back one request taken by [`hit`](Self::hit) — for attempt counters that should
    /// only count failures: take before the attempt (so parallel attempts cannot all slip
    /// through), refund when it succeeds.
    pub fn refund(&self, rule: Rule, key: &str) {
        if !self.limits.enabled {
            return;
        }
        let now = self.clock.now_ms();
        let (interval, _) = self.params(rule);
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(tat) = buckets.get_mut(&(rule, key.to_owned())) {
            *tat = tat.saturating_sub(interval).max(now);
        }
    }

    fn take(&self, rule: Rule, key: &str) -> Result<(), ApiError> {
        if !self.limits.enabled {
            return Ok(());
        }
        let now = self.clock.now_ms();
        let (interval, tolerance) = self.params(rule);
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, tat| *tat > now);
        }
        let tat = buckets
            .get(&(rule, key.to_owned()))
            .copied()
            .unwrap_or(now)
            .max(now);
        if tat - now > tolerance {
            let wait_ms = tat - now - tolerance;
            drop(buckets);
            tracing::warn!(event = "rate_limited", rule = rule.name(), client = %loggable(key), "rate limit hit");
            if let Some(m) = &self.metrics {
                m.rate_limited(rule.name());
            }
            let secs = u64::try_from(wait_ms.div_euclid(1000) + 1).unwrap_or(1);
            return Err(ApiError::too_many_requests(secs));
        }
        if buckets.len() < MAX_BUCKETS {
            buckets.insert((rule, key.to_owned()), tat.saturating_add(interval));
        }
        Ok(())
    }

    /// Drops buckets that are full again (run periodically).
    pub fn sweep(&self) {
        let now = self.clock.now_ms();
        self.buckets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, tat| *tat > now);
    }
}

/// A bucket key as the logs may show it. Failed-sign-in keys hold the account's email
/// address; like `Email`'s `Debug`, the log keeps its domain only (`…@example.com|1.2.3.4`).
fn loggable(key: &str) -> String {
    match key.split_once('@') {
        Some((_, rest)) => format!("…@{rest}"),
        None => key.to_owned(),
    }
}

/// A rate-limit rule as a type, for the [`RateLimit`] extractor.
pub trait RuleKind: Send + Sync + 'static {
    /// The rule.
    const RULE: Rule;
}

/// The per-client-IP rules an endpoint can name in its signature.
pub mod rules {
    use super::{Rule, RuleKind};

    macro_rules! rule_kind {
        ($name:ident, $rule:ident, $doc:literal) => {
            #[doc = $doc]
            #[derive(Debug)]
            pub struct $name;
            impl RuleKind for $name {
                const RULE: Rule = Rule::$rule;
            }
        };
    }

    rule_kind!(SignIn, SignIn, "Sign-in attempts per client IP.");
    rule_kind!(SignUp, SignUp, "Sign-ups per client IP.");
    rule_kind!(Refresh, Refresh, "Refreshes per client IP.");
    rule_kind!(
        SendMail,
        SendMail,
        "Requests that send mail, per client IP."
    );
    rule_kind!(
        ChangePassword,
        ChangePassword,
        "Password changes per client IP."
    );
    rule_kind!(Token, Token, "Access-token requests per client IP.");
}

/// One request taken from the caller's per-IP quota of `R` before the handler runs (429
/// with `Retry-After` when none is left). Naming it in a handler's signature is what limits
/// the endpoint, and what documents it as limited.
#[derive(Debug)]
pub struct RateLimit<R>(PhantomData<R>);

impl<S, R> FromRequestParts<S> for RateLimit<R>
where
    R: RuleKind,
    Arc<RateLimiter>: FromRef<S>,
    TrustedProxies: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Ok(ip) = ClientIp::from_request_parts(parts, state).await;
        Arc::<RateLimiter>::from_ref(state).hit(R::RULE, &client_key(ip))?;
        Ok(Self(PhantomData))
    }
}

/// The bucket key of a client: its IP, IPv6 reduced to the /64 a single host controls.
pub fn client_key(ip: ClientIp) -> String {
    match ip.0 {
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(v4) => v4.to_string(),
        None => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::ManualClock;

    fn limiter(rule: Rule, quota: &str) -> (RateLimiter, ManualClock) {
        let clock = ManualClock::at_ms(1_000_000);
        let mut limits = RateLimits::default();
        limits.set(rule, quota.parse().unwrap_or_else(|e| panic!("{e}")));
        (RateLimiter::new(limits, Arc::new(clock.clone())), clock)
    }

    #[test]
    fn a_burst_of_the_limit_passes_then_one_per_interval() {
        let (l, clock) = limiter(Rule::SignIn, "3/30s");
        for _ in 0..3 {
            assert!(l.hit(Rule::SignIn, "1.2.3.4").is_ok());
        }
        let e = l
            .hit(Rule::SignIn, "1.2.3.4")
            .err()
            .unwrap_or_else(|| unreachable!());
        assert_eq!(e.status(), http::StatusCode::TOO_MANY_REQUESTS);
        assert!(
            l.hit(Rule::SignIn, "5.6.7.8").is_ok(),
            "other clients have their own bucket"
        );
        clock.advance(Duration::from_secs(10));
        assert!(
            l.hit(Rule::SignIn, "1.2.3.4").is_ok(),
            "one more after an interval"
        );
        assert!(l.hit(Rule::SignIn, "1.2.3.4").is_err());
    }

    #[test]
    fn refunded_attempts_do_not_count() {
        let (l, clock) = limiter(Rule::SignInFailuresPerClient, "2/60s");
        let r = Rule::SignInFailuresPerClient;
        for _ in 0..10 {
            assert!(l.hit(r, "acct|ip").is_ok());
            l.refund(r, "acct|ip"); // successes
        }
        assert!(l.hit(r, "acct|ip").is_ok());
        assert!(l.hit(r, "acct|ip").is_ok());
        assert!(l.hit(r, "acct|ip").is_err(), "two failures fill it");
        clock.advance(Duration::from_secs(30));
        assert!(l.hit(r, "acct|ip").is_ok(), "refills at one per interval");
    }

    #[test]
    fn disabled_limits_never_refuse() {
        let clock = ManualClock::at_ms(0);
        let l = RateLimiter::new(RateLimits::disabled(), Arc::new(clock));
        for _ in 0..1000 {
            assert!(l.hit(Rule::SignIn, "x").is_ok());
        }
    }

    #[test]
    fn quotas_and_specs_parse() {
        assert_eq!(
            "30/1m".parse::<Quota>(),
            Ok(Quota::new(30, Duration::from_secs(60)))
        );
        assert_eq!(
            "5/s".parse::<Quota>(),
            Ok(Quota::new(5, Duration::from_secs(1)))
        );
        assert!("0/1m".parse::<Quota>().is_err());
        assert!("abc".parse::<Quota>().is_err());
        let l = RateLimits::parse("sign-in=3/10s, token=1000/1m").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            l.quota(Rule::SignIn),
            Quota::new(3, Duration::from_secs(10))
        );
        assert_eq!(
            l.quota(Rule::SignUp),
            RateLimits::default().quota(Rule::SignUp)
        );
        assert!(
            !RateLimits::parse("off")
                .unwrap_or_else(|e| panic!("{e}"))
                .enabled
        );
        assert!(RateLimits::parse("nope=1/1s").is_err());
    }

    #[test]
    fn logged_keys_keep_the_email_domain_only() {
        assert_eq!(
            loggable("alice@example.com|127.0.0.1"),
            "…@example.com|127.0.0.1"
        );
        assert_eq!(loggable("alice@example.com"), "…@example.com");
        assert_eq!(loggable("2001:db8:1:2::/64"), "2001:db8:1:2::/64");
    }

    #[test]
    fn ipv6_clients_are_bucketed_by_their_64() {
        let a = client_key(ClientIp(Some(
            "2001:db8:1:2:aaaa::1"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        )));
        let b = client_key(ClientIp(Some(
            "2001:db8:1:2:bbbb::9"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        )));
        assert_eq!(a, b);
        assert_eq!(client_key(ClientIp(None)), "unknown");
    }
}
