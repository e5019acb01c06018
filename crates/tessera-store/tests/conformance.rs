//! Storage conformance: the same scenarios against every backend. SQLite always runs (a
//! fresh temp file per test); PostgreSQL runs on a fresh database per test (the test kit's
//! `PgDatabase`) when one is reachable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod email_cases;
mod import_cases;
mod passkey_cases;

use std::sync::Arc;
use std::time::Duration;

use tessera_core::SessionLifetime;
use tessera_store::postgres::{PostgresSettings, PostgresStore};
use tessera_store::sqlite::{SqliteSettings, SqliteStore};
use tessera_store::{
    Change, NewRefreshToken, NewSession, NewUser, RefreshOutcome, RefreshPolicy, SessionId,
    SigningKeyRow, Store, StoreError, TaskChange, TaskId, TaskRow, UserId,
};
use tessera_testkit::postgres::PgDatabase;

struct Fresh {
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
    /// The PostgreSQL database, dropped when the test ends.
    _pg: Option<PgDatabase>,
}

async fn sqlite() -> Option<Fresh> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = SqliteStore::connect(&SqliteSettings {
        url,
        max_connections: 8,
        acquire_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    Some(Fresh {
        store: Arc::new(store),
        _dir: dir,
        _pg: None,
    })
}

/// A fresh database per test, or `None` (with a loud note) when no PostgreSQL is reachable.
/// On CI (`CI` set) an unreachable PostgreSQL is a failure, not a skip.
async fn postgres() -> Option<Fresh> {
    let pg = PgDatabase::create("tessera_t").await?;
    let store = PostgresStore::connect(&PostgresSettings {
        url: pg.url.clone(),
        max_connections: 8,
        acquire_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    Some(Fresh {
        store: Arc::new(store),
        _dir: tempfile::tempdir().unwrap(),
        _pg: Some(pg),
    })
}

fn new_user(id: &str, email: &str) -> NewUser {
    NewUser {
        id: id.into(),
        name: "N".into(),
        email: email.into(),
        image: None,
        now_ms: 1_000,
    }
}

fn new_session(id: &str, user: &str, digest: &str) -> NewSession {
    NewSession {
        id: id.into(),
        user_id: user.into(),
        token_digest: digest.into(),
        expires_at: 10_000,
        now_ms: 1_000,
        ip_address: "127.0.0.1".into(),
        user_agent: "test".into(),
        remember: true,
        amr: "pwd".into(),
        auth_time: 1_000,
    }
}

async fn users_are_unique_by_email(s: &dyn Store) {
    s.create_user(&new_user("u1", "a@x.test"), "h1")
        .await
        .unwrap();
    let err = s
        .create_user(&new_user("u2", "a@x.test"), "h2")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("users_email_key")),
        "{err:?}"
    );
    // the failed sign-up left nothing behind
    assert!(s.user_with_password_by_id("u2").await.unwrap().is_none());
    let (u, hash) = s
        .user_with_password_by_email("a@x.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((u.id.as_str(), hash.as_deref()), ("u1", Some("h1")));
    s.set_password_hash(UserId("u1"), "h1b", 2_000)
        .await
        .unwrap();
    let (_, hash) = s.user_with_password_by_id("u1").await.unwrap().unwrap();
    assert_eq!(hash.as_deref(), Some("h1b"));
}

async fn concurrent_sign_ups_yield_one_user(s: Arc<dyn Store>) {
    let mut handles = Vec::new();
    for i in 0..20 {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            s.create_user(&new_user(&format!("r{i}"), "race@x.test"), "h")
                .await
        }));
    }
    let mut ok = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict("users_email_key")) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(ok, 1);
}

async fn sessions_live_until_revoked(s: &dyn Store) {
    s.create_user(&new_user("u1", "a@x.test"), "h")
        .await
        .unwrap();
    s.create_session(&new_session("s1", "u1", "d1"))
        .await
        .unwrap();
    s.create_session(&new_session("s2", "u1", "d2"))
        .await
        .unwrap();
    s.create_session(&new_session("s3", "u1", "d3"))
        .await
        .unwrap();
    let (sess, user) = s.session_by_digest("d1").await.unwrap().unwrap();
    assert_eq!((sess.id.as_str(), user.id.as_str()), ("s1", "u1"));
    assert!(s.extend_session("s1", 20_000, 2_000).await.unwrap());
    assert_eq!(
        s.session_by_digest("d1")
            .await
            .unwrap()
            .unwrap()
            .0
            .expires_at,
        20_000
    );
    assert_eq!(s.list_sessions("u1", 5_000).await.unwrap().len(), 3);
    assert!(s.revoke_session("s2", 3_000).await.unwrap());
    assert!(
        !s.revoke_session("s2", 3_000).await.unwrap(),
        "second revoke is a no-op"
    );
    assert!(s.session_by_digest("d2").await.unwrap().is_none());
    let ended = s
        .revoke_user_sessions(UserId("u1"), Some(SessionId("s1")), 4_000)
        .await
        .unwrap();
    assert_eq!(ended, vec!["s3".to_string()]);
    assert_eq!(s.list_sessions("u1", 5_000).await.unwrap().len(), 1);
    // expired sessions are not listed
    assert!(s.list_sessions("u1", 30_000).await.unwrap().is_empty());
    assert!(
        !s.extend_session("s2", 99_000, 5_000).await.unwrap(),
        "revoked sessions are not extended"
    );
    assert_eq!(s.purge_sessions(25_000).await.unwrap(), 3);
}

async fn revoked_sessions_come_in_pages(s: &dyn Store) {
    s.create_user(&new_user("u1", "a@x.test"), "h")
        .await
        .unwrap();
    for (id, at) in [("sb", 3_000), ("sa", 3_000), ("sc", 1_000), ("sd", 5_000)] {
        s.create_session(&new_session(id, "u1", &format!("d-{id}")))
            .await
            .unwrap();
        assert!(s.revoke_session(id, at).await.unwrap());
    }
    s.create_session(&new_session("live", "u1", "d-live"))
        .await
        .unwrap();
    let page = s.revoked_sessions_after(0, "", 2).await.unwrap();
    assert_eq!(page, vec![("sc".into(), 1_000), ("sa".into(), 3_000)]);
    // the next page starts after (3000, "sa"): its equal-time sibling is not skipped
    let page = s.revoked_sessions_after(3_000, "sa", 2).await.unwrap();
    assert_eq!(page, vec![("sb".into(), 3_000), ("sd".into(), 5_000)]);
    assert!(
        s.revoked_sessions_after(5_000, "sd", 2)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.revoked_sessions_after(3_000, "", 10).await.unwrap().len(),
        3
    );
}

fn key(generation: i64, kid: &str, at: i64) -> SigningKeyRow {
    SigningKeyRow {
        kid: kid.into(),
        generation,
        alg: "EdDSA".into(),
        public_jwk: "{}".into(),
        private_key: "enc".into(),
        created_at: at,
        retired_at: None,
    }
}

async fn signing_key_generations_are_unique(s: &dyn Store) {
    s.insert_signing_key(&key(1, "k1", 100)).await.unwrap();
    let err = s.insert_signing_key(&key(1, "k1b", 100)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("signing_keys_generation_key")),
        "{err:?}"
    );
    s.insert_signing_key(&key(2, "k2", 200)).await.unwrap();
    let keys = s.signing_keys().await.unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(
        (keys[0].kid.as_str(), keys[0].retired_at),
        ("k1", Some(200))
    );
    assert_eq!((keys[1].kid.as_str(), keys[1].retired_at), ("k2", None));
}

/// GCRA with 3 per 30 s: interval 10 s, tolerance 20 s.
async fn rate_limit_buckets_are_gcra(s: &dyn Store) {
    let (interval, tolerance) = (10_000, 20_000);
    for _ in 0..3 {
        assert_eq!(
            s.take_from_bucket("b", interval, tolerance, 1_000)
                .await
                .unwrap(),
            None
        );
    }
    let wait = s
        .take_from_bucket("b", interval, tolerance, 1_000)
        .await
        .unwrap();
    assert_eq!(wait, Some(10_000), "room again one interval later");
    assert_eq!(
        s.take_from_bucket("other", interval, tolerance, 1_000)
            .await
            .unwrap(),
        None,
        "buckets are separate"
    );
    s.refund_to_bucket("b", interval, 1_000).await.unwrap();
    assert_eq!(
        s.take_from_bucket("b", interval, tolerance, 1_000)
            .await
            .unwrap(),
        None,
        "a refund gives one back"
    );
    assert!(
        s.take_from_bucket("b", interval, tolerance, 1_000)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        s.take_from_bucket("b", interval, tolerance, 11_000)
            .await
            .unwrap(),
        None,
        "refills at one per interval"
    );
    // "other" is full again at 11 000, "b" is not
    assert_eq!(s.sweep_buckets(11_000).await.unwrap(), 1);
    assert_eq!(s.sweep_buckets(11_000).await.unwrap(), 0, "idempotent");
    assert!(
        s.take_from_bucket("b", interval, tolerance, 11_000)
            .await
            .unwrap()
            .is_some(),
        "the sweep kept the bucket in use"
    );
}

/// Many takes at once from one bucket (as several instances would): exactly the quota passes.
async fn concurrent_takes_never_exceed_the_quota(s: Arc<dyn Store>) {
    let mut jobs = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let s = s.clone();
        jobs.spawn(async move {
            s.take_from_bucket("hot", 6_000, 54_000, 5_000)
                .await
                .unwrap()
                .is_none()
        });
    }
    let passed = jobs.join_all().await.into_iter().filter(|ok| *ok).count();
    assert_eq!(passed, 10, "10 per minute: a burst of 10");
}

/// Every instance runs the purges; two at once delete each row once and neither fails.
async fn concurrent_purges_delete_each_row_once(s: Arc<dyn Store>) {
    s.create_user(&new_user("u1", "a@x.test"), "h")
        .await
        .unwrap();
    for i in 0..20 {
        s.create_session(&new_session(&format!("s{i}"), "u1", &format!("d{i}")))
            .await
            .unwrap();
    }
    s.revoke_user_sessions(UserId("u1"), None, 1_000)
        .await
        .unwrap();
    let (a, b) = tokio::join!(s.purge_sessions(50_000), s.purge_sessions(50_000));
    assert_eq!(a.unwrap() + b.unwrap(), 20);
    assert_eq!(s.purge_sessions(50_000).await.unwrap(), 0);
}

/// PostgreSQL pushes ended sessions and key changes to listeners, whoever wrote them.
async fn changes_are_pushed_to_listeners(s: &dyn Store) {
    let Some(mut changes) = s.listen().await.unwrap() else {
        return; // SQLite: one process, nothing to push
    };
    s.create_user(&new_user("u1", "a@x.test"), "h")
        .await
        .unwrap();
    s.create_session(&new_session("s1", "u1", "d1"))
        .await
        .unwrap();
    s.create_session(&new_session("s2", "u1", "d2"))
        .await
        .unwrap();
    let next = async |c: &mut Box<dyn tessera_store::ChangeListener>| {
        tokio::time::timeout(Duration::from_secs(5), c.next())
            .await
            .expect("a change within 5 s")
            .unwrap()
    };
    assert!(s.revoke_session("s1", 1_000).await.unwrap());
    assert_eq!(next(&mut changes).await, Change::SessionEnded("s1".into()));
    s.set_user_disabled("u1", true, 2_000).await.unwrap();
    assert_eq!(next(&mut changes).await, Change::SessionEnded("s2".into()));
    // an already ended session is not announced again
    s.revoke_user_sessions(UserId("u1"), None, 3_000)
        .await
        .unwrap();
    s.insert_signing_key(&key(1, "k1", 100)).await.unwrap();
    assert_eq!(next(&mut changes).await, Change::KeysChanged);
}

async fn tasks_are_scoped_to_their_owner(s: &dyn Store) {
    s.create_user(&new_user("a", "a@x.test"), "h")
        .await
        .unwrap();
    s.create_user(&new_user("b", "b@x.test"), "h")
        .await
        .unwrap();
    for i in 0..5 {
        s.create_task(&TaskRow {
            id: format!("t{i}"),
            user_id: "a".into(),
            title: format!("task {i}"),
            description: String::new(),
            completed: false,
            created_at: i,
            updated_at: i,
        })
        .await
        .unwrap();
    }
    assert_eq!(
        s.list_tasks(UserId("a"), 2, 1)
            .await
            .unwrap()
            .iter()
            .map(|t| t.id.as_str())
            .collect::<Vec<_>>(),
        ["t1", "t2"]
    );
    assert!(s.list_tasks(UserId("b"), 100, 0).await.unwrap().is_empty());
    assert!(
        s.get_task(UserId("b"), TaskId("t0"))
            .await
            .unwrap()
            .is_none()
    );
    let change = TaskChange {
        toggle_completed: true,
        ..Default::default()
    };
    assert!(
        s.update_task(UserId("b"), TaskId("t0"), &change, 9)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!s.delete_task(UserId("b"), TaskId("t0")).await.unwrap());
    let t = s
        .update_task(UserId("a"), TaskId("t0"), &change, 9)
        .await
        .unwrap()
        .unwrap();
    assert!(t.completed);
    let t = s
        .update_task(UserId("a"), TaskId("t0"), &change, 10)
        .await
        .unwrap()
        .unwrap();
    assert!(!t.completed);
    let rename = TaskChange {
        title: Some("renamed".into()),
        completed: Some(true),
        ..Default::default()
    };
    let t = s
        .update_task(UserId("a"), TaskId("t0"), &rename, 11)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (t.title.as_str(), t.completed, t.updated_at),
        ("renamed", true, 11)
    );
    assert!(s.delete_task(UserId("a"), TaskId("t0")).await.unwrap());
    assert_eq!(s.list_tasks(UserId("a"), 100, 0).await.unwrap().len(), 4);
}

/// Every hot read sees the write committed just before it, from whichever thread and
/// connection reads it (SQLite answers these reads on read-only connections of their own,
/// in parallel with the writer's).
async fn each_read_sees_the_write_before_it(s: Arc<dyn Store>) {
    s.create_user(&new_user("u1", "a@x.test"), "h")
        .await
        .unwrap();
    let mut handles = Vec::new();
    for w in 0..4 {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..10_i64 {
                let id = format!("w{w}t{i}");
                let row = TaskRow {
                    id: id.clone(),
                    user_id: "u1".into(),
                    title: format!("task {i}"),
                    description: String::new(),
                    completed: false,
                    created_at: i,
                    updated_at: i,
                };
                s.create_task(&row).await.unwrap();
                let got = s.get_task(UserId("u1"), TaskId(&id)).await.unwrap();
                assert_eq!(got.as_ref(), Some(&row));
                let listed = s.list_tasks(UserId("u1"), 1_000, 0).await.unwrap();
                assert!(listed.contains(&row), "{id} not listed");
                let change = TaskChange {
                    toggle_completed: true,
                    ..Default::default()
                };
                s.update_task(UserId("u1"), TaskId(&id), &change, 50)
                    .await
                    .unwrap();
                let got = s.get_task(UserId("u1"), TaskId(&id)).await.unwrap();
                assert_eq!(got.map(|t| (t.completed, t.updated_at)), Some((true, 50)));

                let (sid, digest) = (format!("s{w}-{i}"), format!("d{w}-{i}"));
                s.create_session(&new_session(&sid, "u1", &digest))
                    .await
                    .unwrap();
                assert!(s.session_by_digest(&digest).await.unwrap().is_some());
                assert!(s.revoke_session(&sid, 2_000).await.unwrap());
                assert!(s.session_by_digest(&digest).await.unwrap().is_none());
                let by_id = s.session_by_id(&sid).await.unwrap().unwrap();
                assert_eq!(by_id.0.id, sid);
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    assert_eq!(
        s.list_tasks(UserId("u1"), 1_000, 0).await.unwrap().len(),
        40
    );
    s.set_password_hash(UserId("u1"), "h2", 3_000)
        .await
        .unwrap();
    let (_, hash) = s.user_with_password_by_id("u1").await.unwrap().unwrap();
    assert_eq!(hash.as_deref(), Some("h2"));
    s.set_user_disabled("u1", true, 4_000).await.unwrap();
    let (user, _) = s.user_with_password_by_id("u1").await.unwrap().unwrap();
    assert_eq!(user.disabled_at, Some(4_000));
}

fn rt(id: &str, digest: &str) -> NewRefreshToken {
    NewRefreshToken {
        id: id.into(),
        session_id: "s1".into(),
        token_digest: digest.into(),
        parent_id: None,
        now_ms: 1_000,
    }
}

fn policy(now_ms: i64) -> RefreshPolicy {
    RefreshPolicy {
        now_ms,
        grace_ms: 10_000,
        lifetime: SessionLifetime {
            idle_ms: 100_000,
            max_lifetime_ms: 150_000,
        },
    }
}

async fn refresh_rotation_replay_and_reuse(s: &dyn Store) {
    s.create_user(&new_user("u1", "a@x.test"), "h")
        .await
        .unwrap();
    let mut sess = new_session("s1", "u1", "d1");
    sess.expires_at = 50_000;
    s.create_session(&sess).await.unwrap();
    s.create_refresh_token(&rt("r0", "g0")).await.unwrap();

    assert_eq!(
        s.rotate_refresh_token("nope", &rt("x", "gx"), policy(2_000))
            .await
            .unwrap(),
        RefreshOutcome::Unknown
    );
    let RefreshOutcome::Rotated { session, .. } = s
        .rotate_refresh_token("g0", &rt("r1", "g1"), policy(2_000))
        .await
        .unwrap()
    else {
        panic!("first use rotates")
    };
    assert_eq!(
        session.expires_at, 102_000,
        "rotation is activity: idle expiry slides"
    );
    // inside the grace window: the same successor, nothing new stored
    assert!(matches!(
        s.rotate_refresh_token("g0", &rt("r1b", "g1b"), policy(5_000))
            .await
            .unwrap(),
        RefreshOutcome::Replayed { .. }
    ));
    let RefreshOutcome::Rotated { session, .. } = s
        .rotate_refresh_token("g1", &rt("r2", "g2"), policy(20_000))
        .await
        .unwrap()
    else {
        panic!("successor rotates")
    };
    assert_eq!(session.expires_at, 120_000);
    // absolute lifetime caps the extension
    let RefreshOutcome::Rotated { session, .. } = s
        .rotate_refresh_token("g2", &rt("r3", "g3"), policy(90_000))
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(
        session.expires_at, 151_000,
        "created_at 1_000 + max 150_000"
    );
    // r0 again, long after: reuse → the session dies, and its newest credential with it
    let out = s
        .rotate_refresh_token("g0", &rt("r9", "g9"), policy(95_000))
        .await
        .unwrap();
    assert_eq!(
        out,
        RefreshOutcome::Reused {
            session_id: "s1".into(),
            user_id: "u1".into()
        }
    );
    assert_eq!(
        s.rotate_refresh_token("g3", &rt("r4", "g4"), policy(96_000))
            .await
            .unwrap(),
        RefreshOutcome::SessionEnded
    );
    assert!(s.session_by_digest("d1").await.unwrap().is_none());
    let revoked = s.revoked_sessions_since(0).await.unwrap();
    assert_eq!(revoked, vec![("s1".to_string(), 95_000)]);
}

async fn refresh_of_an_expired_session_fails(s: &dyn Store) {
    s.create_user(&new_user("u1", "a@x.test"), "h")
        .await
        .unwrap();
    s.create_session(&new_session("s1", "u1", "d1"))
        .await
        .unwrap();
    s.create_refresh_token(&rt("r0", "g0")).await.unwrap();
    assert_eq!(
        s.rotate_refresh_token("g0", &rt("r1", "g1"), policy(10_000))
            .await
            .unwrap(),
        RefreshOutcome::SessionEnded
    );
}

async fn concurrent_refreshes_make_one_successor(s: Arc<dyn Store>) {
    s.create_user(&new_user("u1", "a@x.test"), "h")
        .await
        .unwrap();
    let mut sess = new_session("s1", "u1", "d1");
    sess.expires_at = 50_000;
    s.create_session(&sess).await.unwrap();
    s.create_refresh_token(&rt("r0", "g0")).await.unwrap();
    let mut handles = Vec::new();
    for i in 0..10 {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            s.rotate_refresh_token(
                "g0",
                &rt(&format!("c{i}"), &format!("gc{i}")),
                policy(2_000),
            )
            .await
        }));
    }
    let mut rotated = 0;
    for h in handles {
        match h.await.unwrap().unwrap() {
            RefreshOutcome::Rotated { .. } => rotated += 1,
            RefreshOutcome::Replayed { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(rotated, 1, "exactly one successor");
}

/// Rotations of many credentials at once (SQLite commits them in groups): each answer is
/// what a rotation alone would have answered, one that fails (its successor's id is taken)
/// is undone alone — its credential still rotates afterwards — and every acknowledged
/// successor is stored.
async fn concurrent_rotations_are_each_their_own(s: Arc<dyn Store>) {
    s.create_user(&new_user("u1", "a@x.test"), "h")
        .await
        .unwrap();
    let mut sess = new_session("s1", "u1", "d1");
    sess.expires_at = 50_000;
    s.create_session(&sess).await.unwrap();
    for i in 0..24 {
        s.create_refresh_token(&rt(&format!("r{i}"), &format!("g{i}")))
            .await
            .unwrap();
    }
    let mut handles = Vec::new();
    for i in 0..24 {
        let s = s.clone();
        // Credential 7's successor reuses the id of credential 0: its insert fails.
        let successor_id = if i == 7 {
            "r0".to_owned()
        } else {
            format!("n{i}")
        };
        handles.push(tokio::spawn(async move {
            s.rotate_refresh_token(
                &format!("g{i}"),
                &rt(&successor_id, &format!("h{i}")),
                policy(2_000),
            )
            .await
        }));
    }
    for (i, h) in handles.into_iter().enumerate() {
        let outcome = h.await.unwrap();
        if i == 7 {
            assert!(outcome.is_err(), "a taken successor id fails: {outcome:?}");
        } else {
            assert!(
                matches!(outcome, Ok(RefreshOutcome::Rotated { .. })),
                "credential {i}: {outcome:?}"
            );
        }
    }
    for i in (0..24).filter(|i| *i != 7) {
        assert!(
            matches!(
                s.rotate_refresh_token(
                    &format!("h{i}"),
                    &rt(&format!("m{i}"), &format!("k{i}")),
                    policy(3_000)
                )
                .await
                .unwrap(),
                RefreshOutcome::Rotated { .. }
            ),
            "successor {i} was stored"
        );
    }
    assert!(
        matches!(
            s.rotate_refresh_token("g7", &rt("n7", "h7"), policy(3_000))
                .await
                .unwrap(),
            RefreshOutcome::Rotated { .. }
        ),
        "the failed rotation left its credential unused"
    );
}

async fn disabling_and_deleting_users_end_their_sessions(s: &dyn Store) {
    s.create_user(&new_user("u1", "a@x.test"), "h")
        .await
        .unwrap();
    s.create_user(&new_user("u2", "b@x.test"), "h")
        .await
        .unwrap();
    s.create_session(&new_session("s1", "u1", "d1"))
        .await
        .unwrap();
    s.create_session(&new_session("s2", "u2", "d2"))
        .await
        .unwrap();
    s.create_task(&TaskRow {
        id: "t2".into(),
        user_id: "u2".into(),
        title: "x".into(),
        description: String::new(),
        completed: false,
        created_at: 1,
        updated_at: 1,
    })
    .await
    .unwrap();
    assert_eq!(
        s.set_user_disabled("nobody", true, 2_000).await.unwrap(),
        None
    );
    assert_eq!(
        s.set_user_disabled("u1", true, 2_000).await.unwrap(),
        Some(vec!["s1".to_string()])
    );
    assert!(s.session_by_digest("d1").await.unwrap().is_none());
    let (u, _) = s.user_with_password_by_id("u1").await.unwrap().unwrap();
    assert_eq!(u.disabled_at, Some(2_000));
    assert_eq!(
        s.set_user_disabled("u1", false, 3_000).await.unwrap(),
        Some(vec![])
    );
    assert_eq!(
        s.user_with_password_by_id("u1")
            .await
            .unwrap()
            .unwrap()
            .0
            .disabled_at,
        None
    );

    assert_eq!(
        s.delete_user("u2", 4_000).await.unwrap(),
        Some(vec!["s2".to_string()])
    );
    assert!(
        s.user_with_password_by_email("b@x.test")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.list_tasks(UserId("u2"), 100, 0).await.unwrap().is_empty(),
        "tasks go with the user"
    );
    assert!(s.session_by_digest("d2").await.unwrap().is_none());
    let revoked: Vec<String> = s
        .revoked_sessions_since(0)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        revoked,
        ["s1", "s2"],
        "a deleted user's sessions are still listed as revoked"
    );
    assert_eq!(s.delete_user("u2", 5_000).await.unwrap(), None);
    let users = s.list_users(10, 0).await.unwrap();
    assert_eq!(
        users.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ["u1"]
    );
}

macro_rules! conformance {
    ($backend:ident) => {
        mod $backend {

            #[tokio::test]
            async fn users_are_unique_by_email() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::users_are_unique_by_email(&*f.store).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_sign_ups_yield_one_user() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::concurrent_sign_ups_yield_one_user(f.store.clone()).await;
            }
            #[tokio::test]
            async fn sessions_live_until_revoked() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::sessions_live_until_revoked(&*f.store).await;
            }
            #[tokio::test]
            async fn signing_key_generations_are_unique() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::signing_key_generations_are_unique(&*f.store).await;
            }
            #[tokio::test]
            async fn refresh_rotation_replay_and_reuse() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::refresh_rotation_replay_and_reuse(&*f.store).await;
            }
            #[tokio::test]
            async fn refresh_of_an_expired_session_fails() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::refresh_of_an_expired_session_fails(&*f.store).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_refreshes_make_one_successor() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::concurrent_refreshes_make_one_successor(f.store.clone()).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_rotations_are_each_their_own() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::concurrent_rotations_are_each_their_own(f.store.clone()).await;
            }
            #[tokio::test]
            async fn disabling_and_deleting_users_end_their_sessions() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::disabling_and_deleting_users_end_their_sessions(&*f.store).await;
            }
            #[tokio::test]
            async fn revoked_sessions_come_in_pages() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::revoked_sessions_come_in_pages(&*f.store).await;
            }
            #[tokio::test]
            async fn rate_limit_buckets_are_gcra() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::rate_limit_buckets_are_gcra(&*f.store).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_takes_never_exceed_the_quota() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::concurrent_takes_never_exceed_the_quota(f.store.clone()).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_purges_delete_each_row_once() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::concurrent_purges_delete_each_row_once(f.store.clone()).await;
            }
            #[tokio::test]
            async fn changes_are_pushed_to_listeners() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::changes_are_pushed_to_listeners(&*f.store).await;
            }
            #[tokio::test]
            async fn tasks_are_scoped_to_their_owner() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::tasks_are_scoped_to_their_owner(&*f.store).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn each_read_sees_the_write_before_it() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::each_read_sees_the_write_before_it(f.store.clone()).await;
            }
            #[tokio::test]
            async fn tokens_are_single_use_and_scoped() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::email_cases::tokens_are_single_use_and_scoped(&*f.store).await;
            }
            #[tokio::test]
            async fn sign_up_links_keep_their_name_and_make_verified_users() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::email_cases::sign_up_links_keep_their_name_and_make_verified_users(
                    &*f.store,
                )
                .await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_consumption_succeeds_once() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::email_cases::concurrent_consumption_succeeds_once(f.store.clone()).await;
            }
            #[tokio::test]
            async fn reset_ends_sessions_and_voids_other_links() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::email_cases::reset_ends_sessions_and_voids_other_links(&*f.store).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn outbox_claims_are_exclusive() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::email_cases::outbox_claims_are_exclusive(f.store.clone()).await;
            }
            #[tokio::test]
            async fn ceremonies_are_taken_once_by_kind_while_live() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::passkey_cases::ceremonies_are_taken_once_by_kind_while_live(&*f.store).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_takes_of_a_ceremony_succeed_once() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::passkey_cases::concurrent_takes_of_a_ceremony_succeed_once(f.store.clone())
                    .await;
            }
            #[tokio::test]
            async fn passkeys_belong_to_one_user() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::passkey_cases::passkeys_belong_to_one_user(&*f.store).await;
            }
            #[tokio::test]
            async fn imported_passkeys_never_overwrite() {
                let Some(f) = super::$backend().await else {
                    return;
                };
                super::passkey_cases::imported_passkeys_never_overwrite(&*f.store).await;
            }
        }
    };
}

conformance!(sqlite);
conformance!(postgres);
