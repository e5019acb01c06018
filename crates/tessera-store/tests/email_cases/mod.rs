//! Conformance of the email tokens and the outbox: the same scenarios on every backend,
//! like the rest of `conformance.rs`.

use std::sync::Arc;

use tessera_store::{
    Consumed, EmailTokenPurpose as P, MailResult, NewEmailToken, NewMail, NewUser, ResetOutcome,
    Store, StoreError, UserId,
};

fn person(id: &str, email: &str) -> NewUser {
    NewUser {
        id: id.into(),
        name: "N".into(),
        email: email.into(),
        image: None,
        now_ms: 1_000,
    }
}

fn token(digest: &str, purpose: P, user: &str, email: &str, expires_at: i64) -> NewEmailToken {
    NewEmailToken {
        token_digest: digest.into(),
        purpose,
        user_id: user.into(),
        email: email.into(),
        new_email: (purpose == P::VerifyNewEmail).then(|| "new@x.test".into()),
        name: None,
        now_ms: 1_000,
        expires_at,
    }
}

fn mail(id: &str, at: i64) -> NewMail {
    NewMail {
        id: id.into(),
        kind: "verify-email".into(),
        recipient: "a@x.test".into(),
        user_id: None,
        payload: "{}".into(),
        now_ms: at,
    }
}

/// A token works once, only for its purpose, and not after it expired; peeking does not
/// use it up.
pub(crate) async fn tokens_are_single_use_and_scoped(s: &dyn Store) {
    s.create_user(&person("u1", "a@x.test"), "h").await.unwrap();
    s.create_email_token(&token("d1", P::VerifyEmail, "u1", "a@x.test", 5_000))
        .await
        .unwrap();
    s.create_email_token(&token("d2", P::ResetPassword, "u1", "a@x.test", 5_000))
        .await
        .unwrap();
    s.create_email_token(&token("d3", P::VerifyEmail, "u1", "a@x.test", 1_500))
        .await
        .unwrap();

    // wrong purpose: nothing happens to it
    assert_eq!(
        s.consume_email_token("d2", &[P::VerifyEmail], 2_000)
            .await
            .unwrap(),
        Consumed::Unknown
    );
    assert!(
        s.peek_email_token("d2", P::ResetPassword, 2_000)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.peek_email_token("d2", P::VerifyEmail, 2_000)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.peek_email_token("d2", P::ResetPassword, 6_000)
            .await
            .unwrap()
            .is_none()
    );

    let Consumed::Fresh(row) = s
        .consume_email_token("d1", &[P::VerifyEmail], 2_000)
        .await
        .unwrap()
    else {
        panic!("a live token is consumed");
    };
    assert_eq!(
        (row.user_id.as_str(), row.email.as_str()),
        ("u1", "a@x.test")
    );
    assert_eq!(
        s.consume_email_token("d1", &[P::VerifyEmail], 2_000)
            .await
            .unwrap(),
        Consumed::Unknown,
        "a second use fails"
    );
    assert_eq!(
        s.consume_email_token("d3", &[P::VerifyEmail], 2_000)
            .await
            .unwrap(),
        Consumed::Expired
    );
    assert_eq!(
        s.consume_email_token("nope", &[P::VerifyEmail], 2_000)
            .await
            .unwrap(),
        Consumed::Unknown
    );

    // verification only holds for the address the token was made for
    assert!(
        !s.mark_email_verified(UserId("u1"), "b@x.test", 2_000)
            .await
            .unwrap()
    );
    assert!(
        s.mark_email_verified(UserId("u1"), "a@x.test", 2_000)
            .await
            .unwrap()
    );
    let (u, _) = s.user_with_password_by_id("u1").await.unwrap().unwrap();
    assert!(u.email_verified);

    assert_eq!(s.purge_email_tokens(5_001).await.unwrap(), 3);
}

/// A sign-up link (for an address without an account) keeps the name it was asked with,
/// through peeking and use; the user it makes has a verified address and no password, and a
/// taken address is a conflict that changes nothing.
pub(crate) async fn sign_up_links_keep_their_name_and_make_verified_users(s: &dyn Store) {
    let mut link = token(
        "d1",
        P::MagicLink,
        "sign-up:new@x.test",
        "new@x.test",
        5_000,
    );
    link.name = Some("Ada Lovelace".into());
    s.create_email_token(&link).await.unwrap();
    let peeked = s
        .peek_email_token("d1", P::MagicLink, 2_000)
        .await
        .unwrap()
        .expect("live");
    assert_eq!(peeked.name.as_deref(), Some("Ada Lovelace"));
    let Consumed::Fresh(row) = s
        .consume_email_token("d1", &[P::MagicLink], 2_000)
        .await
        .unwrap()
    else {
        panic!("a live token is consumed");
    };
    assert_eq!(
        (row.user_id.as_str(), row.name.as_deref()),
        ("sign-up:new@x.test", Some("Ada Lovelace"))
    );

    let made = s
        .create_verified_user(&person("u1", "new@x.test"))
        .await
        .unwrap();
    assert!(made.email_verified);
    let (stored, hash) = s.user_with_password_by_id("u1").await.unwrap().unwrap();
    assert_eq!(stored, made);
    assert!(hash.is_none(), "no password");
    let again = s.create_verified_user(&person("u2", "new@x.test")).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert!(s.user_with_password_by_id("u2").await.unwrap().is_none());
}

/// Of many concurrent uses of one token, exactly one succeeds.
pub(crate) async fn concurrent_consumption_succeeds_once(s: Arc<dyn Store>) {
    s.create_user(&person("u1", "a@x.test"), "h").await.unwrap();
    s.create_email_token(&token("d", P::ResetPassword, "u1", "a@x.test", 50_000))
        .await
        .unwrap();
    let tries = (0..8).map(|i| {
        let s = s.clone();
        tokio::spawn(async move { s.reset_password("d", &format!("new-{i}"), 2_000).await })
    });
    let mut won = 0;
    for t in tries {
        match t.await.unwrap().unwrap() {
            ResetOutcome::Reset { .. } => won += 1,
            ResetOutcome::Invalid => {}
            ResetOutcome::Expired => panic!("not expired"),
        }
    }
    assert_eq!(won, 1);
}

/// A reset sets the password, verifies the address, voids the other reset links and ends
/// every session; a token for an address the user no longer has does nothing.
pub(crate) async fn reset_ends_sessions_and_voids_other_links(s: &dyn Store) {
    s.create_user(&person("u1", "a@x.test"), "old")
        .await
        .unwrap();
    for (id, digest) in [("s1", "t1"), ("s2", "t2")] {
        s.create_session(&tessera_store::NewSession {
            id: id.into(),
            user_id: "u1".into(),
            token_digest: digest.into(),
            expires_at: 90_000,
            now_ms: 1_000,
            ip_address: String::new(),
            user_agent: String::new(),
            remember: true,
            amr: "pwd".into(),
            auth_time: 1_000,
        })
        .await
        .unwrap();
    }
    s.create_email_token(&token("r1", P::ResetPassword, "u1", "a@x.test", 50_000))
        .await
        .unwrap();
    s.create_email_token(&token("r2", P::ResetPassword, "u1", "a@x.test", 50_000))
        .await
        .unwrap();
    let ResetOutcome::Reset {
        user,
        mut ended_sessions,
    } = s.reset_password("r1", "new-hash", 2_000).await.unwrap()
    else {
        panic!("reset");
    };
    ended_sessions.sort();
    assert_eq!(ended_sessions, ["s1", "s2"]);
    assert!(user.email_verified);
    let (_, hash) = s.user_with_password_by_id("u1").await.unwrap().unwrap();
    assert_eq!(hash.as_deref(), Some("new-hash"));
    assert_eq!(
        s.reset_password("r2", "other", 2_000).await.unwrap(),
        ResetOutcome::Invalid,
        "the other link is void"
    );
    assert!(s.session_by_digest("t1").await.unwrap().is_none());

    // a link made for an old address is void once the address changed
    s.create_email_token(&token("r3", P::ResetPassword, "u1", "a@x.test", 50_000))
        .await
        .unwrap();
    let moved = s
        .change_email(UserId("u1"), "a@x.test", "b@x.test", 3_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (moved.email.as_str(), moved.email_verified),
        ("b@x.test", true)
    );
    assert_eq!(
        s.reset_password("r3", "x", 3_000).await.unwrap(),
        ResetOutcome::Invalid
    );
    // the move needs the current address, and the new one free
    assert!(
        s.change_email(UserId("u1"), "a@x.test", "c@x.test", 3_000)
            .await
            .unwrap()
            .is_none()
    );
    s.create_user(&person("u2", "c@x.test"), "h").await.unwrap();
    assert!(matches!(
        s.change_email(UserId("u1"), "b@x.test", "c@x.test", 3_000)
            .await,
        Err(StoreError::Conflict("users_email_key"))
    ));
}

/// The outbox: a claimed message is nobody else's until its lease runs out or it is
/// finished; retries wait; failures are kept and can be re-queued.
pub(crate) async fn outbox_claims_are_exclusive(s: Arc<dyn Store>) {
    for i in 0..20 {
        s.enqueue_mail(&mail(&format!("m{i:02}"), 1_000))
            .await
            .unwrap();
    }
    // two senders at once take different messages
    let a = {
        let s = s.clone();
        tokio::spawn(async move { s.claim_mail(2_000, 60_000, 15).await.unwrap() })
    };
    let b = {
        let s = s.clone();
        tokio::spawn(async move { s.claim_mail(2_000, 60_000, 15).await.unwrap() })
    };
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let mut all: Vec<_> = a.iter().chain(&b).map(|m| m.id.clone()).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), a.len() + b.len(), "no message claimed twice");
    assert_eq!(all.len(), 20);
    assert!(a.iter().chain(&b).all(|m| m.attempts == 1));
    assert!(s.claim_mail(3_000, 60_000, 50).await.unwrap().is_empty());

    s.finish_mail("m00", &MailResult::Sent, 3_000)
        .await
        .unwrap();
    s.finish_mail("m01", &MailResult::Failed("550 no such user".into()), 3_000)
        .await
        .unwrap();
    s.finish_mail(
        "m02",
        &MailResult::Retry {
            at_ms: 10_000,
            error: "connection refused".into(),
        },
        3_000,
    )
    .await
    .unwrap();
    // the lease of the other 17 runs out at 62 000
    assert!(s.claim_mail(9_000, 60_000, 50).await.unwrap().is_empty());
    let again = s.claim_mail(10_000, 60_000, 50).await.unwrap();
    assert_eq!(
        again.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["m02"]
    );
    assert_eq!(again[0].attempts, 2);
    assert_eq!(s.claim_mail(62_000, 60_000, 50).await.unwrap().len(), 17);

    let counts = s.outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.failed), (18, 1));
    let failed = s.list_mail(Some("failed"), 10).await.unwrap();
    assert_eq!(failed[0].last_error.as_deref(), Some("550 no such user"));
    assert_eq!(s.requeue_failed_mail(None, 70_000).await.unwrap(), 1);
    assert_eq!(s.outbox_counts().await.unwrap().failed, 0);
    assert_eq!(s.purge_mail(4_000).await.unwrap(), 1, "the sent one");
}
