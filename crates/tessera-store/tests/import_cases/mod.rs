//! Conformance of `Store::import_users` (bringing users over from Better Auth): the same
//! scenarios on every backend, like the rest of `conformance.rs`.

use tessera_store::{
    CredentialImport as C, IdentityImport as I, ImportCredential, ImportIdentity, ImportSession,
    ImportTwoFactor, ImportUser, SessionImport as S, Store, TwoFactorImport as T, UserId,
    UserImport as U,
};

fn import_user(id: &str, email: &str, hash: Option<&str>, sessions: &[(&str, &str)]) -> ImportUser {
    ImportUser {
        id: id.into(),
        name: format!("name of {id}"),
        email: email.into(),
        email_verified: true,
        image: Some("https://img.test/a.png".into()),
        created_at: 1_000,
        updated_at: 2_000,
        credential: hash.map(|h| ImportCredential {
            password_hash: h.into(),
            created_at: 1_000,
            updated_at: 1_500,
        }),
        sessions: sessions
            .iter()
            .map(|(sid, digest)| ImportSession {
                id: (*sid).into(),
                token_digest: (*digest).into(),
                expires_at: 90_000,
                created_at: 3_000,
                updated_at: 4_000,
                ip_address: "10.0.0.1".into(),
                user_agent: "Better Auth browser".into(),
            })
            .collect(),
        identities: Vec::new(),
        two_factor: None,
    }
}

fn identity(id: &str, provider: &str, issuer: &str, subject: &str) -> ImportIdentity {
    ImportIdentity {
        id: id.into(),
        provider_id: provider.into(),
        issuer: issuer.into(),
        subject: subject.into(),
        scope: Some("openid email".into()),
        created_at: 1_100,
        updated_at: 1_200,
    }
}

async fn identities_and_two_factor_are_imported_once_and_never_taken_from_another_user(
    s: &dyn Store,
) {
    let mut alice = import_user("ba_alice", "alice@x.test", None, &[]);
    alice.identities = vec![
        identity("acc_gh", "github", "local:oauth:github", "4242"),
        identity("acc_op", "op", "https://op.test", "sub-a"),
    ];
    alice.two_factor = Some(ImportTwoFactor {
        sealed_secret: "v1.sealed".into(),
        backup_digests: vec!["d1".into(), "d2".into()],
        verified_at: 5_000,
    });
    // Bob claims alice's OP identity under another row id: a conflict, skipped.
    let mut bob = import_user("ba_bob", "bob@x.test", Some("salt:b"), &[]);
    bob.identities = vec![identity("acc_bob_op", "op", "https://op.test", "sub-a")];
    let out = s.import_users(&[alice.clone(), bob], false).await.unwrap();
    assert_eq!(out[0].identities, [I::Created, I::Created]);
    assert_eq!(out[0].two_factor, Some(T::Created));
    assert_eq!(out[1].identities, [I::Conflict]);
    assert_eq!(out[1].two_factor, None);

    let by_gh = s
        .user_by_identity("local:oauth:github", "4242")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_gh.id, "ba_alice");
    assert!(by_gh.two_factor_enabled, "twoFactorEnabled carried over");
    let accounts = s.list_accounts(UserId("ba_alice")).await.unwrap();
    assert_eq!(
        accounts
            .iter()
            .map(|a| (a.id.as_str(), a.provider_id.as_str()))
            .collect::<Vec<_>>(),
        [("acc_gh", "github"), ("acc_op", "op")]
    );
    assert!(s.list_accounts(UserId("ba_bob")).await.unwrap().len() == 1);
    let tf = s.two_factor(UserId("ba_alice")).await.unwrap().unwrap();
    assert_eq!(tf.secret, "v1.sealed");
    assert_eq!(tf.verified_at, Some(5_000));
    assert_eq!(s.backup_codes_left(UserId("ba_alice")).await.unwrap(), 2);
    assert!(
        s.use_backup_code(UserId("ba_alice"), "d1", 6_000)
            .await
            .unwrap()
    );

    // A re-run finds everything present; the used code is not revived.
    alice.two_factor.as_mut().unwrap().sealed_secret = "v1.other".into();
    let again = s.import_users(&[alice], false).await.unwrap();
    assert_eq!(again[0].identities, [I::Present, I::Present]);
    assert_eq!(again[0].two_factor, Some(T::Present));
    let tf = s.two_factor(UserId("ba_alice")).await.unwrap().unwrap();
    assert_eq!(tf.secret, "v1.sealed");
    assert_eq!(s.backup_codes_left(UserId("ba_alice")).await.unwrap(), 1);
}

async fn import_keeps_ids_fields_hashes_and_sessions_and_a_rerun_changes_nothing(s: &dyn Store) {
    let batch = [
        import_user(
            "ba_alice",
            "alice@x.test",
            Some("salt:hash-a"),
            &[("sa1", "da1"), ("sa2", "da2")],
        ),
        import_user("ba_oauth", "oauth@x.test", None, &[("so1", "do1")]),
    ];
    let out = s.import_users(&batch, false).await.unwrap();
    assert_eq!(
        out.iter()
            .map(|o| (o.user, o.credential))
            .collect::<Vec<_>>(),
        [(U::Created, C::Created), (U::Created, C::NoneGiven)]
    );
    assert_eq!(out[0].sessions, [S::Created, S::Created]);
    assert_eq!(out[1].sessions, [S::Created]);

    let (alice, hash) = s
        .user_with_password_by_email("alice@x.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hash.as_deref(), Some("salt:hash-a"));
    assert_eq!(
        (
            alice.id.as_str(),
            alice.name.as_str(),
            alice.email_verified,
            alice.image.as_deref()
        ),
        (
            "ba_alice",
            "name of ba_alice",
            true,
            Some("https://img.test/a.png")
        )
    );
    assert_eq!(
        (alice.created_at, alice.updated_at, alice.disabled_at),
        (1_000, 2_000, None)
    );
    let (_, no_hash) = s
        .user_with_password_by_id("ba_oauth")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(no_hash, None);
    let (session, owner) = s.session_by_digest("da2").await.unwrap().unwrap();
    assert_eq!(owner.id, "ba_alice");
    assert_eq!(
        (
            session.id.as_str(),
            session.expires_at,
            session.created_at,
            session.updated_at
        ),
        ("sa2", 90_000, 3_000, 4_000)
    );
    assert_eq!(
        (
            session.ip_address.as_str(),
            session.user_agent.as_str(),
            session.remember
        ),
        ("10.0.0.1", "Better Auth browser", true)
    );
    assert_eq!(s.list_sessions("ba_alice", 5_000).await.unwrap().len(), 2);

    let again = s.import_users(&batch, false).await.unwrap();
    assert_eq!(
        again
            .iter()
            .map(|o| (o.user, o.credential))
            .collect::<Vec<_>>(),
        [(U::Present, C::Present), (U::Present, C::NoneGiven)]
    );
    assert_eq!(again[0].sessions, [S::Present, S::Present]);
    assert_eq!(s.list_users(10, 0).await.unwrap().len(), 2);
    assert_eq!(s.list_sessions("ba_alice", 5_000).await.unwrap().len(), 2);
}

async fn import_never_overwrites_tessera_users_or_revives_sessions(s: &dyn Store) {
    s.create_user(&super::new_user("native", "taken@x.test"), "argon-native")
        .await
        .unwrap();
    s.create_session(&super::new_session("native_s", "native", "d_native"))
        .await
        .unwrap();
    s.import_users(
        &[import_user(
            "ba_bob",
            "bob@x.test",
            Some("salt:b"),
            &[("sb1", "db1")],
        )],
        false,
    )
    .await
    .unwrap();
    // Bob's session ends in Tessera and its row is purged later.
    assert!(s.revoke_session("sb1", 5_000).await.unwrap());
    assert_eq!(s.purge_sessions(6_000).await.unwrap(), 1);

    let out = s
        .import_users(
            &[
                // same email as a Tessera user, another id
                import_user(
                    "ba_taken",
                    "taken@x.test",
                    Some("salt:t"),
                    &[("st1", "dt1")],
                ),
                // a Tessera user's id with another email
                import_user("native", "someone-else@x.test", Some("salt:n"), &[]),
                // imported before: the purged session must not come back; a new one neither
                import_user(
                    "ba_bob",
                    "bob@x.test",
                    Some("salt:b2"),
                    &[("sb1", "db1"), ("sb2", "db2")],
                ),
                // a new user whose session collides with an existing session's token digest
                import_user(
                    "ba_carol",
                    "carol@x.test",
                    Some("salt:c"),
                    &[("sc1", "d_native")],
                ),
            ],
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        out.iter()
            .map(|o| (o.user, o.credential))
            .collect::<Vec<_>>(),
        [
            (U::EmailTaken, C::UserSkipped),
            (U::IdTaken, C::UserSkipped),
            (U::Present, C::Present),
            (U::Created, C::Created),
        ]
    );
    assert_eq!(out[0].sessions, [S::UserSkipped]);
    assert_eq!(
        out[2].sessions,
        [S::UserImportedEarlier, S::UserImportedEarlier]
    );
    assert_eq!(out[3].sessions, [S::Conflict]);

    let (native, hash) = s
        .user_with_password_by_email("taken@x.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (native.id.as_str(), hash.as_deref()),
        ("native", Some("argon-native"))
    );
    assert_eq!(s.user_with_password_by_id("ba_taken").await.unwrap(), None);
    assert_eq!(
        s.user_with_password_by_email("someone-else@x.test")
            .await
            .unwrap(),
        None
    );
    let (_, bob_hash) = s.user_with_password_by_id("ba_bob").await.unwrap().unwrap();
    assert_eq!(bob_hash.as_deref(), Some("salt:b"));
    assert!(s.session_by_digest("db1").await.unwrap().is_none());
    assert!(s.session_by_digest("db2").await.unwrap().is_none());
    let (native_session, _) = s.session_by_digest("d_native").await.unwrap().unwrap();
    assert_eq!(native_session.id, "native_s");
}

async fn a_dry_run_writes_nothing(s: &dyn Store) {
    let out = s
        .import_users(
            &[import_user(
                "ba_dry",
                "dry@x.test",
                Some("salt:d"),
                &[("sd", "dd")],
            )],
            true,
        )
        .await
        .unwrap();
    assert_eq!((out[0].user, out[0].credential), (U::Created, C::Created));
    assert_eq!(out[0].sessions, [S::Created]);
    assert!(s.list_users(10, 0).await.unwrap().is_empty());
    assert!(s.session_by_digest("dd").await.unwrap().is_none());
}

async fn duplicates_inside_one_import_keep_the_first(s: &dyn Store) {
    let out = s
        .import_users(
            &[
                import_user("ba_1", "dup@x.test", Some("salt:1"), &[]),
                import_user("ba_2", "dup@x.test", Some("salt:2"), &[]),
            ],
            false,
        )
        .await
        .unwrap();
    assert_eq!((out[0].user, out[1].user), (U::Created, U::EmailTaken));
    let (u, hash) = s
        .user_with_password_by_email("dup@x.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((u.id.as_str(), hash.as_deref()), ("ba_1", Some("salt:1")));
}

macro_rules! import_conformance {
    ($backend:ident) => {
        mod $backend {
            #[tokio::test]
            async fn import_keeps_ids_fields_hashes_and_sessions_and_a_rerun_changes_nothing() {
                let Some(f) = crate::$backend().await else {
                    return;
                };
                super::import_keeps_ids_fields_hashes_and_sessions_and_a_rerun_changes_nothing(
                    &*f.store,
                )
                .await;
            }
            #[tokio::test]
            async fn import_never_overwrites_tessera_users_or_revives_sessions() {
                let Some(f) = crate::$backend().await else {
                    return;
                };
                super::import_never_overwrites_tessera_users_or_revives_sessions(&*f.store).await;
            }
            #[tokio::test]
            async fn a_dry_run_writes_nothing() {
                let Some(f) = crate::$backend().await else {
                    return;
                };
                super::a_dry_run_writes_nothing(&*f.store).await;
            }
            #[tokio::test]
            async fn identities_and_two_factor_are_imported_once_and_never_taken_from_another_user()
            {
                let Some(f) = crate::$backend().await else {
                    return;
                };
                super::identities_and_two_factor_are_imported_once_and_never_taken_from_another_user(
                    &*f.store,
                )
                .await;
            }
            #[tokio::test]
            async fn duplicates_inside_one_import_keep_the_first() {
                let Some(f) = crate::$backend().await else {
                    return;
                };
                super::duplicates_inside_one_import_keep_the_first(&*f.store).await;
            }
        }
    };
}

import_conformance!(sqlite);
import_conformance!(postgres);
