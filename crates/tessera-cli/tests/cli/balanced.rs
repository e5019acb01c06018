//! Three Tessera processes behind a real load balancer (Debian's HAProxy, round robin, on
//! 127.0.0.1, with `X-Forwarded-For` and `--trusted-proxies 127.0.0.1/32`), sharing one
//! PostgreSQL database: what a client sees must be what one instance would do. A flow spread
//! over the three instances works; a brute force spread over them is cut at one instance's
//! limit; a sign-out on one stops the access token on the others within the push window; an
//! instance killed with SIGKILL mid-load loses no acknowledged write while the others keep
//! serving; PostgreSQL restarted mid-load gives 503 with `Retry-After` and then recovery
//! without restarting anything; a key rotated from the CLI reaches all instances at once.
//!
//! These tests run when `TESSERA_TEST_LB` is set (`./scripts/test multi` sets it after
//! installing HAProxy); they then fail, rather than skip, when HAProxy or PostgreSQL is
//! missing. `TESSERA_PUSH_SAMPLES=N` measures the push delay over N sign-outs (default 20)
//! and prints p50/p99 (docs/deployment.md quotes a run).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

const PASSWORD: &str = "correct horse battery";

/// Whether the suite was asked for (`TESSERA_TEST_LB`); a note otherwise.
fn wanted() -> bool {
    if std::env::var_os("TESSERA_TEST_LB").is_some() {
        return true;
    }
    eprintln!(
        "NOTE: load-balancer tests skipped: run `./scripts/test multi` (sets TESSERA_TEST_LB)"
    );
    false
}

/// HAProxy in the foreground, killed with the value.
struct Haproxy {
    child: Child,
    base: String,
    _config: tempfile::TempDir,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Haproxy {
    /// Round robin over `backends`; a server is taken out after two failed `/healthz` checks
    /// 200 ms apart; a request whose connection fails is sent to another server.
    async fn start(port: u16, backends: &[&Server]) -> Self {
        let mut servers = String::new();
        for (i, b) in backends.iter().enumerate() {
            let addr = b.base.trim_start_matches("http://");
            servers.push_str(&format!("    server t{} {addr} check\n", i + 1));
        }
        let config = format!(
            "global\n    maxconn 2000\n\
             defaults\n    mode http\n    timeout connect 1s\n    timeout client 30s\n    timeout server 30s\n\
             \x20   retries 3\n    option redispatch\n    retry-on conn-failure\n\
             frontend public\n    bind 127.0.0.1:{port}\n    option forwardfor\n    default_backend tessera\n\
             backend tessera\n    balance roundrobin\n    option httpchk GET /healthz\n\
             \x20   default-server inter 200ms fall 2 rise 2\n\
             \x20   http-response set-header X-Served-By %s\n{servers}"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config).unwrap();
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy (Debian package `haproxy`; ./scripts/test multi installs it)");
        let lb = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _config: dir,
        };
        let client = reqwest::Client::new();
        eventually(Duration::from_secs(10), "haproxy serves", || async {
            client
                .get(format!("{}/healthz", lb.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        })
        .await;
        lb
    }
}

/// Three instances on `database_url` behind HAProxy, all with the load balancer's URL as
/// their public URL and 127.0.0.1 as the trusted proxy.
async fn cluster(dir: &Path, database_url: &str, extra: &[&str]) -> (Haproxy, Vec<Server>) {
    let lb_port = free_port();
    let public = format!("http://127.0.0.1:{lb_port}");
    let mut args = vec![
        "--base-url",
        public.as_str(),
        "--trusted-proxies",
        "127.0.0.1/32",
    ];
    args.extend_from_slice(extra);
    let (a, b, c) = tokio::join!(
        start_with_url(dir, database_url, &args),
        start_with_url(dir, database_url, &args),
        start_with_url(dir, database_url, &args),
    );
    let servers = vec![a, b, c];
    let lb = Haproxy::start(lb_port, &servers.iter().collect::<Vec<_>>()).await;
    (lb, servers)
}

fn served_by(res: &reqwest::Response) -> String {
    res.headers()
        .get("x-served-by")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .pool_max_idle_per_host(0) // a new connection per request: round robin per request
        .build()
        .unwrap()
}

async fn sign_in(base: &str, email: &str, password: &str, xff: &str) -> reqwest::Response {
    client()
        .post(format!("{base}/api/auth/sign-in/email"))
        .header("x-forwarded-for", xff)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn sign_up_at(base: &str, email: &str) -> reqwest::Response {
    client()
        .post(format!("{base}/api/auth/sign-up/email"))
        .json(&json!({"name": "Sam", "email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
}

async fn token_at(base: &str, session_token: &str) -> String {
    let res = client()
        .get(format!("{base}/api/auth/token"))
        .bearer_auth(session_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn tasks_status(base: &str, user_id: &str, jwt: &str) -> u16 {
    client()
        .get(format!("{base}/api/{user_id}/tasks"))
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_sign_in_and_refresh_each_land_on_another_instance() {
    if !wanted() {
        return;
    }
    let db = postgres_database().await.expect("PostgreSQL");
    let dir = tempfile::tempdir().unwrap();
    let (lb, _servers) = cluster(dir.path(), &db.url, &[]).await;

    let up = sign_up_at(&lb.base, "alice@x.test").await;
    assert_eq!(up.status(), 200);
    let first = served_by(&up);
    let res = client()
        .post(format!("{}/api/auth/sign-in/email", lb.base))
        .json(&json!({"email": "alice@x.test", "password": PASSWORD, "refreshToken": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let second = served_by(&res);
    let grant: Value = res.json().await.unwrap();
    let res = client()
        .post(format!("{}/api/auth/refresh", lb.base))
        .json(&json!({"refresh_token": grant["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let third = served_by(&res);
    let mut seen = vec![first.clone(), second.clone(), third.clone()];
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen.len(),
        3,
        "three different instances: {first}, {second}, {third}"
    );
    let refreshed: Value = res.json().await.unwrap();
    let user_id = grant["user"]["id"].as_str().unwrap();
    let jwt = refreshed["access_token"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(tasks_status(&lb.base, user_id, jwt).await, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brute_force_spread_over_three_instances_gets_one_instances_budget() {
    if !wanted() {
        return;
    }
    let db = postgres_database().await.expect("PostgreSQL");
    let dir = tempfile::tempdir().unwrap();
    // sign-in: 6 per minute per client IP; failed sign-ins: the default 5 per 5 min per
    // account and client
    let (lb, _servers) = cluster(dir.path(), &db.url, &["--rate-limits", "sign-in=6/1m"]).await;
    assert_eq!(sign_up_at(&lb.base, "victim@x.test").await.status(), 200);

    // One account, one client, wrong passwords: 5 failures in all, wherever they land.
    let mut statuses = Vec::new();
    let mut instances = Vec::new();
    for i in 0..9 {
        let res = sign_in(
            &lb.base,
            "victim@x.test",
            &format!("guess {i}"),
            "203.0.113.7",
        )
        .await;
        instances.push(served_by(&res));
        if res.status() == 429 {
            assert!(res.headers().contains_key("retry-after"));
        }
        statuses.push(res.status().as_u16());
    }
    instances.sort();
    instances.dedup();
    assert_eq!(instances.len(), 3, "spread over all three: {instances:?}");
    assert_eq!(
        statuses,
        [401, 401, 401, 401, 401, 429, 429, 429, 429],
        "five failures, as against one instance (three instances with their own buckets would allow 15)"
    );
    // The right password from that client is refused too (the bucket is empty), while the
    // same account from another client still works: the limit is per account and client.
    assert_eq!(
        sign_in(&lb.base, "victim@x.test", PASSWORD, "203.0.113.8")
            .await
            .status(),
        200
    );

    // Per client IP: 6 sign-in attempts per minute over all instances, whatever the account.
    let mut statuses = Vec::new();
    for i in 0..9 {
        let res = sign_in(&lb.base, &format!("nobody{i}@x.test"), "x", "198.51.100.9").await;
        statuses.push(res.status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        3,
        "{statuses:?}"
    );
    // X-Forwarded-For is read behind the trusted proxy: another client is not affected.
    assert_eq!(
        sign_in(&lb.base, "nobody@x.test", "x", "198.51.100.10")
            .await
            .status(),
        401
    );
}

/// The delay until a session ended on instance 1 is refused on instance 2, from the moment
/// the sign-out is sent and from the moment its answer arrived (zero when already refused
/// by then); `None` past `limit`.
async fn push_delay(
    one: &Server,
    two: &Server,
    limit: Duration,
    n: usize,
) -> Option<(Duration, Duration)> {
    let email = format!("push{n}@x.test");
    let res = sign_up_at(&one.base, &email).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let (user_id, token) = (
        body["user"]["id"].as_str().unwrap().to_owned(),
        body["token"].as_str().unwrap().to_owned(),
    );
    let jwt = token_at(&one.base, &token).await;
    assert_eq!(tasks_status(&two.base, &user_id, &jwt).await, 200);
    let fast = reqwest::Client::new();
    let started = Instant::now();
    let out = fast
        .post(format!("{}/api/auth/sign-out", one.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    let answered = Instant::now();
    loop {
        let status = fast
            .get(format!("{}/api/{user_id}/tasks", two.base))
            .bearer_auth(&jwt)
            .send()
            .await
            .unwrap()
            .status();
        if status == 401 {
            return Some((started.elapsed(), answered.elapsed()));
        }
        assert_eq!(status, 200);
        if started.elapsed() > limit {
            return None;
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_on_one_instance_stops_the_access_token_on_the_others_within_the_push_window() {
    if !wanted() {
        return;
    }
    let db = postgres_database().await.expect("PostgreSQL");
    let dir = tempfile::tempdir().unwrap();
    let (lb, servers) = cluster(dir.path(), &db.url, &["--rate-limits", "off"]).await;
    for s in &servers {
        let ready = get_json(&format!("{}/readyz", s.base)).await;
        assert_eq!(ready["rate_limits"], "shared", "{ready}");
        // the listening connection comes up right after start
        eventually(Duration::from_secs(5), "push listening", || async {
            get_json(&format!("{}/readyz", s.base)).await["push"] == "listening"
        })
        .await;
    }

    // The session token too: cached lookups on the other instances are refused as fast.
    let res = sign_up_at(&lb.base, "carol@x.test").await;
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for s in &servers {
        assert!(session_of(s, &token).await.is_object());
    }
    let out = client()
        .post(format!("{}/api/auth/sign-out", servers[0].base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    for s in &servers[1..] {
        eventually(
            Duration::from_millis(100),
            "session token refused elsewhere",
            || async { session_of(s, &token).await.is_null() },
        )
        .await;
    }

    let samples: usize = std::env::var("TESSERA_PUSH_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let mut delays = Vec::new();
    let mut after_answer = Vec::new();
    for n in 0..samples {
        let (one, two) = (&servers[n % 3], &servers[(n + 1) % 3]);
        let delay = push_delay(one, two, Duration::from_secs(3), n).await;
        let (sent, answered) = delay.expect("refused within the polling fallback at worst");
        delays.push(sent);
        after_answer.push(answered);
    }
    delays.sort();
    after_answer.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (p50, p99) = (percentile(&delays, 50.0), percentile(&delays, 99.0));
    eprintln!(
        "push delay over {samples} sign-outs, refused on another instance: from the sign-out sent p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; from its answer p50 {:.1} ms, p99 {:.1} ms",
        ms(p50),
        ms(p99),
        ms(delays[delays.len() - 1]),
        ms(percentile(&after_answer, 50.0)),
        ms(percentile(&after_answer, 99.0)),
    );
    // The push window: from the sign-out's answer (the session ended) to the refusal on
    // another instance. The fallback poll runs once a second; these are the push at work.
    let (a50, a99) = (
        percentile(&after_answer, 50.0),
        percentile(&after_answer, 99.0),
    );
    assert!(a50 < Duration::from_millis(100), "p50 {a50:?}");
    assert!(a99 < Duration::from_millis(100), "p99 {a99:?}");
    assert!(p50 < Duration::from_millis(500), "p50 from sending {p50:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_revocation_feed_long_poll_answers_when_a_session_ends_elsewhere() {
    if !wanted() {
        return;
    }
    let db = postgres_database().await.expect("PostgreSQL");
    let dir = tempfile::tempdir().unwrap();
    let (_lb, servers) = cluster(dir.path(), &db.url, &[]).await;
    let alice = sign_up(&servers[0], "alice@x.test").await;
    let feed = |query: String| {
        let url = format!("{}/api/auth/revocations{query}", servers[2].base);
        async move {
            client()
                .get(url)
                .bearer_auth(FEED_SECRET)
                .send()
                .await
                .unwrap()
        }
    };
    let first: Value = feed(String::new()).await.json().await.unwrap();
    let cursor = first["cursor"].as_str().unwrap().to_owned();
    // Caught up: a long poll waits...
    let started = Instant::now();
    let waiting = tokio::spawn(feed(format!("?since={cursor}&wait=10")));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "nothing ended: still waiting");
    // ...until a session ends on another instance.
    let ended_at = Instant::now();
    let out = client()
        .post(format!("{}/api/auth/sign-out", servers[1].base))
        .bearer_auth(&alice.session_token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    let answer = waiting.await.unwrap();
    let took = ended_at.elapsed();
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    assert!(
        body["sessions"].as_array().unwrap().len() == 1,
        "the ended session: {body}"
    );
    assert!(took < Duration::from_millis(500), "answered after {took:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // A wait with nothing new ends at the deadline with no news.
    let cursor = body["cursor"].as_str().unwrap().to_owned();
    let started = Instant::now();
    let quiet: Value = feed(format!("?since={cursor}&wait=1"))
        .await
        .json()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(quiet["more"], false);
    // Bad waits are 400s.
    for bad in ["wait=11", "wait=-1", "wait=x", "wait=1&wait=2"] {
        assert_eq!(feed(format!("?{bad}")).await.status(), 400, "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotated_from_the_cli_reaches_every_instance_at_once() {
    if !wanted() {
        return;
    }
    let db = postgres_database().await.expect("PostgreSQL");
    let dir = tempfile::tempdir().unwrap();
    let (_lb, servers) = cluster(dir.path(), &db.url, &[]).await;
    for s in &servers {
        eventually(Duration::from_secs(5), "push listening", || async {
            get_json(&format!("{}/readyz", s.base)).await["push"] == "listening"
        })
        .await;
    }
    let kids = |jwks: &Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = kids(&get_json(&format!("{}/api/auth/jwks", servers[0].base)).await);
    assert_eq!(before.len(), 1);
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["keys", "rotate", "--database-url", &db.url])
        .env("TESSERA_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let rotated = Instant::now();
    for s in &servers {
        // The fallback reload runs every two seconds; the push makes it far quicker.
        eventually(Duration::from_millis(300), "new key published", || async {
            kids(&get_json(&format!("{}/api/auth/jwks", s.base)).await).len() == 2
        })
        .await;
    }
    eprintln!(
        "rotated key published by all three instances after {:?}",
        rotated.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_mid_load_loses_no_acknowledged_write_and_the_others_keep_serving() {
    if !wanted() {
        return;
    }
    let db = postgres_database().await.expect("PostgreSQL");
    let dir = tempfile::tempdir().unwrap();
    let (lb, mut servers) = cluster(dir.path(), &db.url, &["--rate-limits", "off"]).await;
    let alice = sign_up(&servers[0], "alice@x.test").await;
    let jwt = token_at(&servers[0].base, &alice.session_token).await;

    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..4 {
        let (base, user, jwt, stop) = (
            lb.base.clone(),
            alice.user_id.clone(),
            jwt.clone(),
            stop.clone(),
        );
        workers.spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let mut acked = Vec::new();
            let mut failed = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let title = format!("w{w}-{n}");
                let res = http
                    .post(format!("{base}/api/{user}/tasks"))
                    .bearer_auth(&jwt)
                    .json(&json!({"title": title}))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 201 => {
                        let body: Value = r.json().await.unwrap();
                        acked.push(body["id"].as_str().unwrap().to_owned());
                    }
                    Ok(r) => failed.push((Instant::now(), r.status().as_u16())),
                    Err(_) => failed.push((Instant::now(), 0)),
                }
            }
            (acked, failed)
        });
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    servers[1].kill_9();
    let kill_time = Instant::now();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    stop.store(true, Ordering::SeqCst);
    let mut acked = Vec::new();
    let mut failed = Vec::new();
    for (a, f) in workers.join_all().await {
        acked.extend(a);
        failed.extend(f);
    }
    assert!(acked.len() > 50, "load ran: {} writes", acked.len());
    // Only requests in flight on the killed instance may fail, and only around the kill.
    for (at, status) in &failed {
        assert!(
            at.saturating_duration_since(kill_time) < Duration::from_secs(1),
            "a failure ({status}) long after the kill"
        );
    }
    assert!(failed.len() <= 8, "{} failed: {failed:?}", failed.len());
    assert!(servers[0].running() && servers[2].running());
    // Every acknowledged task is there, read through the survivors.
    let mut stored = std::collections::HashSet::new();
    let mut offset = 0;
    loop {
        let page: Value = client()
            .get(format!(
                "{}/api/{}/tasks?limit=100&offset={offset}",
                lb.base, alice.user_id
            ))
            .bearer_auth(&jwt)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = page.as_array().unwrap();
        for t in items {
            stored.insert(t["id"].as_str().unwrap().to_owned());
        }
        if items.len() < 100 {
            break;
        }
        offset += 100;
    }
    let lost: Vec<_> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    eprintln!(
        "{} writes acknowledged ({} failed around the kill), all stored",
        acked.len(),
        failed.len()
    );
}

/// A PostgreSQL server of the test's own (so restarting it disturbs nobody), run as the
/// `postgres` user when the test runs as root.
struct OwnPostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl OwnPostgres {
    fn command(&self, program: &str) -> Command {
        pg_command(&self.bin.join(program))
    }

    fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server binaries in /usr/lib/postgresql")
            .filter_map(|e| Some(e.ok()?.path().join("bin")))
            .find(|b| b.join("initdb").exists())
            .expect("initdb");
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        // readable by the postgres user when run as root
        let _ = Command::new("chmod").arg("755").arg(dir.path()).status();
        std::fs::create_dir(&data).unwrap();
        if is_root() {
            let _ = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&data)
                .arg(dir.path())
                .status();
        }
        let pg = Self {
            bin,
            data,
            port: free_port(),
            _dir: dir,
        };
        let out = pg
            .command("initdb")
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&pg.data)
            .output()
            .unwrap();
        assert!(out.status.success(), "initdb: {out:?}");
        pg.up();
        pg
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn up(&self) {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.data.display()
        );
        let out = self
            .command("pg_ctl")
            .args(["-w", "-t", "30", "-D"])
            .arg(&self.data)
            .args(["-o", &opts, "-l"])
            .arg(self.data.join("log"))
            .arg("start")
            .output()
            .unwrap();
        assert!(out.status.success(), "pg_ctl start: {out:?}");
    }

    fn down(&self) {
        let out = self
            .command("pg_ctl")
            .args(["-w", "-t", "30", "-m", "fast", "-D"])
            .arg(&self.data)
            .arg("stop")
            .output()
            .unwrap();
        assert!(out.status.success(), "pg_ctl stop: {out:?}");
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-m", "immediate", "-D"])
            .arg(&self.data)
            .arg("stop")
            .output();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn pg_command(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_mid_load_gives_503_with_retry_after_then_recovers_without_restarts() {
    if !wanted() {
        return;
    }
    let pg = tokio::task::spawn_blocking(OwnPostgres::start)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (lb, mut servers) = cluster(
        dir.path(),
        &pg.url(),
        &["--rate-limits", "off", "--db-timeout", "2s"],
    )
    .await;
    let alice = sign_up(&servers[0], "alice@x.test").await;

    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..3 {
        let (base, token, stop) = (lb.base.clone(), alice.session_token.clone(), stop.clone());
        workers.spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let mut seen = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let res = http
                    .get(format!("{base}/api/auth/token"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                let retry_after = res.headers().contains_key("retry-after");
                seen.push((Instant::now(), res.status().as_u16(), retry_after));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            seen
        });
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let down_at = Instant::now();
    tokio::task::block_in_place(|| pg.down());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let up_at = Instant::now();
    tokio::task::block_in_place(|| pg.up());
    // Recovery without restarting any instance.
    eventually(Duration::from_secs(15), "service resumes", || async {
        client()
            .get(format!("{}/api/auth/token", lb.base))
            .bearer_auth(&alice.session_token)
            .send()
            .await
            .unwrap()
            .status()
            == 200
    })
    .await;
    let recovered_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    let mut seen = Vec::new();
    for s in workers.join_all().await {
        seen.extend(s);
    }
    for (at, status, retry_after) in &seen {
        match status {
            200 => assert!(
                *at < down_at + Duration::from_millis(200) || *at > up_at,
                "a 200 while the database was down"
            ),
            503 => assert!(retry_after, "503 without Retry-After"),
            other => panic!("unexpected {other}"),
        }
    }
    let unavailable = seen.iter().filter(|(_, s, _)| *s == 503).count();
    assert!(unavailable > 0, "the outage was seen");
    assert!(
        seen.iter()
            .any(|(at, s, _)| *s == 200 && *at > recovered_at),
        "serving again"
    );
    for s in &mut servers {
        assert!(s.running(), "no instance restarted or died");
    }
    // All three serve again directly, and hear pushes again.
    for s in &servers {
        eventually(Duration::from_secs(10), "ready and listening", || async {
            let r = reqwest::get(format!("{}/readyz", s.base)).await.unwrap();
            r.status() == 200 && r.json::<Value>().await.unwrap()["push"] == "listening"
        })
        .await;
    }
    eprintln!(
        "{} requests during the restart, {unavailable} answered 503 with Retry-After; service back {:?} after PostgreSQL",
        seen.len(),
        recovered_at - up_at
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_queued_mail_is_sent_exactly_once_by_three_instances() {
    if !wanted() {
        return;
    }
    let db = postgres_database().await.expect("PostgreSQL");
    let smtp = tessera_testkit::smtp::SmtpServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (lb, _servers) = cluster(
        dir.path(),
        &db.url,
        &[
            "--rate-limits",
            "off",
            "--smtp-url",
            &smtp.url(),
            "--email-from",
            "Tessera <no-reply@tessera.test>",
        ],
    )
    .await;
    // 30 users, then a password reset for each, spread over the instances while all three
    // senders are claiming from the one outbox.
    let n = 30;
    for i in 0..n {
        assert_eq!(
            sign_up_at(&lb.base, &format!("u{i}@x.test")).await.status(),
            200
        );
    }
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..n {
        let base = lb.base.clone();
        requests.spawn(async move {
            client()
                .post(format!("{base}/api/auth/request-password-reset"))
                .json(&json!({"email": format!("u{i}@x.test")}))
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    for status in requests.join_all().await {
        assert_eq!(status, 200);
    }
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let count = |status: &'static str| {
        sqlx::query_as::<_, (i64,)>("SELECT count(*) FROM outbox WHERE status = $1").bind(status)
    };
    let started = Instant::now();
    loop {
        let (pending,) = count("pending").fetch_one(&mut conn).await.unwrap();
        if pending == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{pending} still pending"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (sent,) = count("sent").fetch_one(&mut conn).await.unwrap();
    let (total,) = sqlx::query_as::<_, (i64,)>("SELECT count(*) FROM outbox")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let breakdown: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        "SELECT status, last_error, count(*) FROM outbox GROUP BY status, last_error",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(sent, total, "every message sent: {breakdown:?}");
    assert!(total >= n as i64, "at least the {n} resets: {total}");
    // Late duplicates would arrive after the rows were marked: give them time to show.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let received = smtp.received();
    assert_eq!(received.len() as i64, total, "each message once over SMTP");
    let mut per_recipient = std::collections::HashMap::<String, usize>::new();
    for m in &received {
        *per_recipient.entry(m.to.join(",")).or_default() += 1;
    }
    let (rows,): (i64,) = sqlx::query_as("SELECT count(DISTINCT recipient) FROM outbox")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(per_recipient.len() as i64, rows);
    let resets = received
        .iter()
        .filter(|m| String::from_utf8_lossy(&m.data).contains("Subject: Reset your"))
        .count();
    assert_eq!(resets, n, "one reset message per request");
    eprintln!("{total} messages queued through three instances, each sent once");
}
