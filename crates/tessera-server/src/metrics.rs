//! Prometheus metrics at `/metrics`, kept by the application itself (no global recorder,
//! so several apps in one test process keep separate counts). Requests are labelled by route
//! template, never by raw path or user id.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters and histograms of one process.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    sign_in_success: AtomicU64,
    sign_in_failure: AtomicU64,
    refresh_reuse: AtomicU64,
    rate_limited: Mutex<BTreeMap<&'static str, u64>>,
    /// Rate-limit store (the database, with several instances) failures.
    limit_store_errors: AtomicU64,
    /// Whether this process is listening for pushed changes (PostgreSQL), and how many it
    /// received.
    push_listening: AtomicBool,
    push_received: AtomicU64,
    push_lost: AtomicU64,
    /// (message kind, outcome) → count.
    mail: Mutex<BTreeMap<(String, &'static str), u64>>,
}

/// Values read at scrape time.
#[derive(Debug, Default)]
pub struct Gauges {
    /// Live, unexpired sessions.
    pub active_sessions: Option<i64>,
    /// (kid, age in seconds, retired) of each signing key.
    pub keys: Vec<(String, i64, bool)>,
    /// (connections open, of which idle).
    pub pool: Option<(u32, u32)>,
    /// The password-hashing queue, when this process checks passwords.
    pub hashing: Option<HashQueue>,
    /// (pending, failed) messages in the outbox.
    pub outbox: Option<(i64, i64)>,
}

/// The password-hashing queue's figures, read when `/metrics` is rendered.
#[derive(Debug, Clone, Copy, Default)]
pub struct HashQueue {
    /// Checks queued or running.
    pub pending: usize,
    /// Checks run.
    pub run: u64,
    /// Checks refused because the queue was full.
    pub shed: u64,
    /// Checks skipped because their caller had gone.
    pub abandoned: u64,
}

impl Metrics {
    /// Records a finished request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        *self
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let mut latency = self.latency.lock().unwrap_or_else(PoisonError::into_inner);
        let h = latency.entry(route.to_owned()).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// Records a sign-in outcome.
    pub fn sign_in(&self, success: bool) {
        let c = if success {
            &self.sign_in_success
        } else {
            &self.sign_in_failure
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Records a detected refresh-credential reuse.
    pub fn refresh_reuse(&self) {
        self.refresh_reuse.fetch_add(1, Ordering::Relaxed);
    }

    /// Records how an attempt to send a message ended (`sent`, `dropped`, `retried`,
    /// `failed`).
    pub fn mail(&self, kind: &str, outcome: &'static str) {
        *self
            .mail
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((kind.to_owned(), outcome))
            .or_default() += 1;
    }

    /// Records a request refused by a rate limit.
    pub fn rate_limited(&self, rule: &'static str) {
        *self
            .rate_limited
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(rule)
            .or_default() += 1;
    }

    /// Records a failure of the shared rate-limit store.
    pub fn limit_store_failed(&self) {
        self.limit_store_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Records whether changes are being pushed to this process (a listening connection is
    /// up); a change from listening to not counts as a lost connection.
    pub fn set_push_listening(&self, listening: bool) {
        if self.push_listening.swap(listening, Ordering::Relaxed) && !listening {
            self.push_lost.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether changes are being pushed to this process.
    pub fn push_listening(&self) -> bool {
        self.push_listening.load(Ordering::Relaxed)
    }

    /// Records one pushed change.
    pub fn push_received(&self) {
        self.push_received.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::new();
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        out.push_str("# HELP tessera_http_requests_total HTTP requests by method, route template and status.\n");
        out.push_str("# TYPE tessera_http_requests_total counter\n");
        for ((method, route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                out,
                "tessera_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                esc(method),
                esc(route)
            );
        }
        out.push_str(
            "# HELP tessera_http_request_duration_seconds Request latency by route template.\n",
        );
        out.push_str("# TYPE tessera_http_request_duration_seconds histogram\n");
        for (route, h) in self
            .latency
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let route = esc(route);
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "tessera_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "tessera_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "tessera_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "tessera_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        out.push_str("# HELP tessera_sign_in_total Sign-in attempts by outcome.\n# TYPE tessera_sign_in_total counter\n");
        let _ = writeln!(
            out,
            "tessera_sign_in_total{{result=\"success\"}} {}",
            self.sign_in_success.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "tessera_sign_in_total{{result=\"failure\"}} {}",
            self.sign_in_failure.load(Ordering::Relaxed)
        );
        out.push_str("# HELP tessera_refresh_reuse_detected_total Rotated refresh credentials presented again (sessions revoked).\n");
        out.push_str("# TYPE tessera_refresh_reuse_detected_total counter\n");
        let _ = writeln!(
            out,
            "tessera_refresh_reuse_detected_total {}",
            self.refresh_reuse.load(Ordering::Relaxed)
        );
        out.push_str("# HELP tessera_rate_limited_total Requests refused by a rate limit, by rule.\n# TYPE tessera_rate_limited_total counter\n");
        for (rule, n) in self
            .rate_limited
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(out, "tessera_rate_limited_total{{rule=\"{rule}\"}} {n}");
        }
        out.push_str("# HELP tessera_rate_limit_store_errors_total Failures of the shared rate-limit store (each refused its request with 503).\n# TYPE tessera_rate_limit_store_errors_total counter\n");
        let _ = writeln!(
            out,
            "tessera_rate_limit_store_errors_total {}",
            self.limit_store_errors.load(Ordering::Relaxed)
        );
        out.push_str("# HELP tessera_push_listening Whether ended sessions and key changes are pushed to this process (1) or only polled (0).\n# TYPE tessera_push_listening gauge\n");
        let _ = writeln!(
            out,
            "tessera_push_listening {}",
            u8::from(self.push_listening.load(Ordering::Relaxed))
        );
        out.push_str("# HELP tessera_push_received_total Changes pushed to this process.\n# TYPE tessera_push_received_total counter\n");
        let _ = writeln!(
            out,
            "tessera_push_received_total {}",
            self.push_received.load(Ordering::Relaxed)
        );
        out.push_str("# HELP tessera_push_lost_total Listening connections lost (changes polled until it is back).\n# TYPE tessera_push_lost_total counter\n");
        let _ = writeln!(
            out,
            "tessera_push_lost_total {}",
            self.push_lost.load(Ordering::Relaxed)
        );
        out.push_str("# HELP tessera_mail_total Outbox send attempts by message kind and outcome.\n# TYPE tessera_mail_total counter\n");
        for ((kind, outcome), n) in self
            .mail
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                out,
                "tessera_mail_total{{kind=\"{}\",outcome=\"{outcome}\"}} {n}",
                esc(kind)
            );
        }
        if let Some((pending, failed)) = gauges.outbox {
            out.push_str("# HELP tessera_mail_outbox Messages in the outbox: waiting to be sent, or given up (see `tessera mail list --failed`).\n# TYPE tessera_mail_outbox gauge\n");
            let _ = writeln!(out, "tessera_mail_outbox{{status=\"pending\"}} {pending}");
            let _ = writeln!(out, "tessera_mail_outbox{{status=\"failed\"}} {failed}");
        }
        if let Some(n) = gauges.active_sessions {
            out.push_str("# HELP tessera_active_sessions Live, unexpired sessions.\n# TYPE tessera_active_sessions gauge\n");
            let _ = writeln!(out, "tessera_active_sessions {n}");
        }
        if !gauges.keys.is_empty() {
            out.push_str("# HELP tessera_signing_key_age_seconds Age of each signing key.\n# TYPE tessera_signing_key_age_seconds gauge\n");
            for (kid, age, retired) in &gauges.keys {
                let _ = writeln!(
                    out,
                    "tessera_signing_key_age_seconds{{kid=\"{}\",retired=\"{retired}\"}} {age}",
                    esc(kid)
                );
            }
        }
        if let Some((size, idle)) = gauges.pool {
            out.push_str("# HELP tessera_db_pool_connections Database pool connections by state.\n# TYPE tessera_db_pool_connections gauge\n");
            let _ = writeln!(out, "tessera_db_pool_connections{{state=\"idle\"}} {idle}");
            let _ = writeln!(
                out,
                "tessera_db_pool_connections{{state=\"in_use\"}} {}",
                size.saturating_sub(idle)
            );
        }
        if let Some(h) = &gauges.hashing {
            out.push_str("# HELP tessera_password_hash_pending Password hashes queued or running.\n# TYPE tessera_password_hash_pending gauge\n");
            let _ = writeln!(out, "tessera_password_hash_pending {}", h.pending);
            out.push_str("# HELP tessera_password_hash_total Password hash jobs by outcome: run, shed (queue full: 503), abandoned (caller gone, skipped).\n# TYPE tessera_password_hash_total counter\n");
            let _ = writeln!(
                out,
                "tessera_password_hash_total{{outcome=\"run\"}} {}",
                h.run
            );
            let _ = writeln!(
                out,
                "tessera_password_hash_total{{outcome=\"shed\"}} {}",
                h.shed
            );
            let _ = writeln!(
                out,
                "tessera_password_hash_total{{outcome=\"abandoned\"}} {}",
                h.abandoned
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let m = Metrics::default();
        m.observe_request("GET", "/api/{user_id}/tasks", 200, 0.003);
        m.observe_request("GET", "/api/{user_id}/tasks", 200, 0.2);
        m.sign_in(true);
        m.sign_in(false);
        m.refresh_reuse();
        m.rate_limited("sign-in");
        m.mail("reset-password", "retried");
        m.mail("reset-password", "sent");
        let text = m.render(&Gauges {
            active_sessions: Some(3),
            keys: vec![("k1".into(), 60, false)],
            pool: Some((4, 1)),
            hashing: Some(HashQueue::default()),
            outbox: Some((2, 1)),
        });
        assert!(text.contains("tessera_mail_total{kind=\"reset-password\",outcome=\"sent\"} 1"));
        assert!(text.contains("tessera_mail_outbox{status=\"failed\"} 1"));
        assert!(text.contains("tessera_http_requests_total{method=\"GET\",route=\"/api/{user_id}/tasks\",status=\"200\"} 2"));
        assert!(text.contains("tessera_http_request_duration_seconds_bucket{route=\"/api/{user_id}/tasks\",le=\"0.005\"} 1"));
        assert!(text.contains("tessera_http_request_duration_seconds_bucket{route=\"/api/{user_id}/tasks\",le=\"+Inf\"} 2"));
        assert!(text.contains("tessera_sign_in_total{result=\"failure\"} 1"));
        assert!(text.contains("tessera_refresh_reuse_detected_total 1"));
        assert!(text.contains("tessera_rate_limited_total{rule=\"sign-in\"} 1"));
        assert!(text.contains("tessera_active_sessions 3"));
        assert!(text.contains("tessera_db_pool_connections{state=\"in_use\"} 3"));
        assert!(text.contains("tessera_password_hash_pending 0"));
        assert!(text.contains("tessera_password_hash_total{outcome=\"shed\"} 0"));
    }
}
