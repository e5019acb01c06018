//! Passkeys and WebAuthn ceremonies: a ceremony is taken once, by kind, only while live; a
//! credential id belongs to one user; rename and delete reach only the owner's rows; the
//! counter moves by compare-and-set.

use std::sync::Arc;

use tessera_store::{PasskeyChallengeRow, PasskeyRow, Store, StoreError, UserId};

fn challenge(digest: &str, kind: &str, user: Option<&str>, expires_at: i64) -> PasskeyChallengeRow {
    PasskeyChallengeRow {
        token_digest: digest.into(),
        kind: kind.into(),
        user_id: user.map(Into::into),
        state: "{}".into(),
        expires_at,
        created_at: 1_000,
    }
}

fn passkey(id: &str, user: &str, credential: &str) -> PasskeyRow {
    PasskeyRow {
        id: id.into(),
        user_id: user.into(),
        name: Some("key".into()),
        credential_id: credential.into(),
        public_key: "pQECAyYgASFYIA==".into(),
        counter: 0,
        device_type: "singleDevice".into(),
        backed_up: false,
        transports: Some("internal".into()),
        aaguid: None,
        created_at: 1_000,
        last_used_at: None,
    }
}

pub(crate) async fn ceremonies_are_taken_once_by_kind_while_live(s: &dyn Store) {
    s.create_user(&super::new_user("u1", "a@example.com"), "h")
        .await
        .unwrap();
    s.create_passkey_challenge(&challenge("d1", "register", Some("u1"), 5_000))
        .await
        .unwrap();
    s.create_passkey_challenge(&challenge("d2", "authenticate", None, 5_000))
        .await
        .unwrap();
    s.create_passkey_challenge(&challenge("d3", "authenticate", None, 2_000))
        .await
        .unwrap();
    // the wrong kind finds nothing and leaves the ceremony in place
    assert!(
        s.take_passkey_challenge("d1", "authenticate", 1_500)
            .await
            .unwrap()
            .is_none()
    );
    let taken = s
        .take_passkey_challenge("d1", "register", 1_500)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.user_id.as_deref(), Some("u1"));
    assert!(
        s.take_passkey_challenge("d1", "register", 1_500)
            .await
            .unwrap()
            .is_none(),
        "a ceremony is taken once"
    );
    // expired: not returned, and gone
    assert!(
        s.take_passkey_challenge("d3", "authenticate", 2_000)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(s.purge_passkey_challenges(10_000).await.unwrap(), 1);
    // storing a ceremony removes the expired ones: a flood cannot outgrow the lifetime
    s.create_passkey_challenge(&challenge("d5", "authenticate", None, 5_000))
        .await
        .unwrap();
    let mut later = challenge("d6", "authenticate", None, 20_000);
    later.created_at = 6_000;
    s.create_passkey_challenge(&later).await.unwrap();
    assert_eq!(
        s.purge_passkey_challenges(5_500).await.unwrap(),
        0,
        "d5 went with d6's insert"
    );
}

pub(crate) async fn concurrent_takes_of_a_ceremony_succeed_once(s: Arc<dyn Store>) {
    s.create_passkey_challenge(&challenge("d", "authenticate", None, 5_000))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.take_passkey_challenge("d", "authenticate", 1_500).await })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        if t.await.unwrap().unwrap().is_some() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

pub(crate) async fn passkeys_belong_to_one_user(s: &dyn Store) {
    for (id, email) in [("u1", "a@example.com"), ("u2", "b@example.com")] {
        s.create_user(&super::new_user(id, email), "h")
            .await
            .unwrap();
    }
    s.create_passkey(&passkey("p1", "u1", "cred1"))
        .await
        .unwrap();
    let dup = s.create_passkey(&passkey("p2", "u2", "cred1")).await;
    assert!(
        matches!(dup, Err(StoreError::Conflict("passkeys_credential_id_key"))),
        "{dup:?}"
    );
    assert_eq!(s.passkeys_of(UserId("u2")).await.unwrap(), vec![]);
    let found = s.passkey_by_credential_id("cred1").await.unwrap().unwrap();
    assert_eq!(found.user_id, "u1");
    // another user's rename and delete reach nothing
    assert!(
        s.rename_passkey(UserId("u2"), "p1", "mine")
            .await
            .unwrap()
            .is_none()
    );
    assert!(!s.delete_passkey(UserId("u2"), "p1").await.unwrap());
    let renamed = s
        .rename_passkey(UserId("u1"), "p1", "Laptop")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("Laptop"));
    // the counter moves by compare-and-set
    assert!(
        s.record_passkey_use("p1", 0, 5, false, 2_000)
            .await
            .unwrap()
    );
    assert!(
        !s.record_passkey_use("p1", 0, 6, false, 2_000)
            .await
            .unwrap()
    );
    let row = s.passkey_by_credential_id("cred1").await.unwrap().unwrap();
    assert_eq!((row.counter, row.last_used_at), (5, Some(2_000)));
    assert!(s.delete_passkey(UserId("u1"), "p1").await.unwrap());
    assert!(s.passkeys_of(UserId("u1")).await.unwrap().is_empty());
    // a deleted user's passkeys go with them
    s.create_passkey(&passkey("p3", "u2", "cred3"))
        .await
        .unwrap();
    s.delete_user("u2", 3_000).await.unwrap();
    assert!(s.passkey_by_credential_id("cred3").await.unwrap().is_none());
}

pub(crate) async fn imported_passkeys_never_overwrite(s: &dyn Store) {
    use tessera_store::PasskeyImport as I;
    for (id, email) in [("u1", "a@example.com"), ("u2", "b@example.com")] {
        s.create_user(&super::new_user(id, email), "h")
            .await
            .unwrap();
    }
    s.create_passkey(&passkey("p1", "u2", "held"))
        .await
        .unwrap();
    let rows = [
        passkey("b1", "u1", "c1"),
        passkey("b2", "nobody", "c2"),
        passkey("b3", "u1", "held"),
    ];
    // a dry run reports and writes nothing
    let dry = s.import_passkeys(&rows, true).await.unwrap();
    assert_eq!(dry, [I::Created, I::NoSuchUser, I::Conflict]);
    assert!(s.passkeys_of(UserId("u1")).await.unwrap().is_empty());
    let done = s.import_passkeys(&rows, false).await.unwrap();
    assert_eq!(done, [I::Created, I::NoSuchUser, I::Conflict]);
    let again = s.import_passkeys(&rows, false).await.unwrap();
    assert_eq!(again, [I::Present, I::NoSuchUser, I::Conflict]);
    let held = s.passkey_by_credential_id("held").await.unwrap().unwrap();
    assert_eq!(held.user_id, "u2", "the holder keeps its credential");
    assert_eq!(s.passkeys_of(UserId("u1")).await.unwrap().len(), 1);
}
