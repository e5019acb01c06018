//! Prometheus metrics at `/metrics`, kept by the application itself (no global recorder,
//! so several apps in one test process keep separate counts). Requests are labelled by route
//! template, never by raw path or user id.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use http::Method;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// (method, status) counters kept lock-free per route; a route answering with more
/// distinct pairs than this spills the rest into a locked map (never seen in practice:
/// a route answers with a handful of statuses).
const PAIR_SLOTS: usize = 16;

/// The counters of one route template. Recording a request touches only atomics: no
/// allocation, no lock, so two workers answering the same route never wait for each other.
#[derive(Debug)]
struct RouteStats {
    /// `(method code << 16 | status)`, 0 while the slot is free; claimed once by CAS.
    pair_keys: [AtomicU32; PAIR_SLOTS],
    pair_counts: [AtomicU64; PAIR_SLOTS],
    spill: Mutex<BTreeMap<u32, u64>>,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    /// Sum of latencies in nanoseconds.
    sum_ns: AtomicU64,
}

impl Default for RouteStats {
    fn default() -> Self {
        Self {
            pair_keys: std::array::from_fn(|_| AtomicU32::new(0)),
            pair_counts: std::array::from_fn(|_| AtomicU64::new(0)),
            spill: Mutex::default(),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
        }
    }
}

impl RouteStats {
    fn count_pair(&self, key: u32) {
        for (k, n) in self.pair_keys.iter().zip(&self.pair_counts) {
            let current = k.load(Ordering::Acquire);
            if current == key
                || (current == 0
                    && match k.compare_exchange(0, key, Ordering::AcqRel, Ordering::Acquire) {
                        Ok(_) => true,
                        Err(other) => other == key,
                    })
            {
                n.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        *self
            .spill
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default() += 1;
    }

    fn observe(&self, seconds: f64) {
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        // f64 -> u64 saturates; a latency above 584 years is not a concern
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let ns = (seconds * 1e9) as u64;
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// Every (method, status, count) recorded, in no particular order.
    fn pairs(&self) -> Vec<(u32, u64)> {
        let mut out: Vec<(u32, u64)> = self
            .pair_keys
            .iter()
            .zip(&self.pair_counts)
            .map(|(k, n)| (k.load(Ordering::Acquire), n.load(Ordering::Relaxed)))
            .filter(|(k, n)| *k != 0 && *n != 0)
            .collect();
        out.extend(
            self.spill
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .map(|(k, n)| (*k, *n)),
        );
        out
    }
}

/// The methods a route can be counted under: the standard ones by a fixed code, any other
/// (an extension method) as `OTHER`, so a client cannot grow the label set at will.
const METHODS: [&str; 9] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT",
];

fn method_code(method: &Method) -> u32 {
    let code = METHODS
        .iter()
        .position(|m| *m == method.as_str())
        .unwrap_or(METHODS.len());
    // at most METHODS.len() + 1 codes, and 0 is the free slot marker
    u32::try_from(code).unwrap_or(0) + 1
}

fn method_name(code: u32) -> &'static str {
    usize::try_from(code)
        .ok()
        .and_then(|c| c.checked_sub(1))
        .and_then(|i| METHODS.get(i))
        .copied()
        .unwrap_or("OTHER")
}

/// Counters and histograms of one process.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Per route template; written once per route (first request), read on every request.
    routes: RwLock<HashMap<Box<str>, Arc<RouteStats>>>,
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
    pub fn observe_request(&self, method: &Method, route: &str, status: u16, seconds: f64) {
        let stats = self.stats_of(route);
        stats.count_pair((method_code(method) << 16) | u32::from(status));
        stats.observe(seconds);
    }

    fn stats_of(&self, route: &str) -> Arc<RouteStats> {
        if let Some(s) = self
            .routes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(route)
        {
            return s.clone();
        }
        self.routes
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(route.into())
            .or_default()
            .clone()
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
        let routes: BTreeMap<Box<str>, Arc<RouteStats>> = self
            .routes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.push_str("# HELP tessera_http_requests_total HTTP requests by method, route template and status.\n");
        out.push_str("# TYPE tessera_http_requests_total counter\n");
        let mut requests = BTreeMap::new();
        for (route, stats) in &routes {
            for (key, n) in stats.pairs() {
                let status = key & 0xffff;
                *requests
                    .entry((method_name(key >> 16), &**route, status))
                    .or_insert(0) += n;
            }
        }
        for ((method, route, status), n) in requests {
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
        for (route, h) in &routes {
            let route = esc(route);
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "tessera_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                    h.buckets[i].load(Ordering::Relaxed)
                );
            }
            let count = h.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "tessera_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
            );
            #[allow(clippy::cast_precision_loss)]
            let sum = h.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "tessera_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "tessera_http_request_duration_seconds_count{{route=\"{route}\"}} {count}"
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
        m.observe_request(&Method::GET, "/api/{user_id}/tasks", 200, 0.003);
        m.observe_request(&Method::GET, "/api/{user_id}/tasks", 200, 0.2);
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

    #[test]
    fn more_statuses_than_slots_and_odd_methods_are_all_counted() {
        let m = Metrics::default();
        let odd = Method::from_bytes(b"PURGE").unwrap_or_else(|_| unreachable!());
        for status in 200..240_u16 {
            m.observe_request(&Method::POST, "/x", status, 0.001);
            m.observe_request(&Method::POST, "/x", status, 0.001);
        }
        m.observe_request(&odd, "/x", 405, 0.001);
        let text = m.render(&Gauges::default());
        for status in 200..240_u16 {
            let line = format!(
                "tessera_http_requests_total{{method=\"POST\",route=\"/x\",status=\"{status}\"}} 2\n"
            );
            assert!(text.contains(&line), "{line} missing from {text}");
        }
        assert!(text.contains(
            "tessera_http_requests_total{method=\"OTHER\",route=\"/x\",status=\"405\"} 1"
        ));
        assert!(text.contains("tessera_http_request_duration_seconds_count{route=\"/x\"} 81"));
    }

    #[test]
    fn counts_from_several_threads_add_up() {
        let m = Arc::new(Metrics::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for i in 0..1000_u16 {
                        m.observe_request(&Method::GET, "/y", 200 + i % 3, 0.0001);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap_or_else(|_| unreachable!());
        }
        let text = m.render(&Gauges::default());
        assert!(text.contains("tessera_http_request_duration_seconds_count{route=\"/y\"} 4000"));
        assert!(text.contains(
            "tessera_http_requests_total{method=\"GET\",route=\"/y\",status=\"201\"} 1332"
        ));
    }
}
