//! `tessera import better-auth` with `@better-auth/passkey`'s `passkey` table: a passkey
//! registered at Better Auth signs in at Tessera afterwards (same relying-party id), with
//! the software authenticator of the test kit holding its private key. The `passkey` table
//! is created with the columns and types Better Auth 1.7.25's SQLite migration gives the
//! plugin's schema (`packages/passkey/src/schema.ts`); the other tables as `import.rs` has
//! them.

use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde_json::{Value, json};
use sqlx::Connection as _;
use tessera_testkit::webauthn::{Ceremony, SoftPasskey};

use crate::support::*;

const PASSKEY_DDL: &str = r#"create table "passkey" ("id" text not null primary key, "name" text, "publicKey" text not null, "userId" text not null references "user" ("id") on delete cascade, "credentialID" text not null, "counter" integer not null, "deviceType" text not null, "backedUp" integer not null, "transports" text, "createdAt" date, "aaguid" text)"#;

const ALICE: &str = "AlicePasskeyUserId00000000000001";

fn import(dir: &Path, target: &str, from: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args([
            "import",
            "better-auth",
            "--from",
            from,
            "--database-url",
            target,
        ])
        .env("TESSERA_SECRET", SECRET)
        .env("TESSERA_LOG", "warn")
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "import failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

async fn exec(c: &mut sqlx::SqliteConnection, sql: &str, args: &[&str]) {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
    for a in args {
        q = q.bind(*a);
    }
    q.execute(&mut *c).await.unwrap();
}

#[tokio::test]
async fn a_better_auth_passkey_signs_in_after_the_import() {
    let dir = tempfile::tempdir().unwrap();
    let source = format!("sqlite://{}", dir.path().join("better-auth.db").display());
    let target = format!("sqlite://{}", dir.path().join("tessera.db").display());
    // The relying-party id both servers use: the host of Tessera's base URL in these tests.
    let options =
        json!({ "rp": { "id": "127.0.0.1" }, "user": { "id": "dXNlcg" }, "challenge": "AA" });
    let (mut key, _) = SoftPasskey::register(&options, &Ceremony::on("http://127.0.0.1"));
    {
        let mut c = sqlx::SqliteConnection::connect(&format!("{source}?mode=rwc"))
            .await
            .unwrap();
        for stmt in crate::import::BA_SQLITE_DDL
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            exec(&mut c, stmt, &[]).await;
        }
        exec(&mut c, PASSKEY_DDL, &[]).await;
        exec(
            &mut c,
            "insert into \"user\" (\"id\", \"name\", \"email\", \"emailVerified\", \"createdAt\", \"updatedAt\") values (?, 'Alice', 'alice@example.com', 1, '2025-03-01T10:00:00.000Z', '2025-03-01T10:00:00.000Z')",
            &[ALICE],
        )
        .await;
        let insert = "insert into \"passkey\" (\"id\", \"name\", \"publicKey\", \"userId\", \"credentialID\", \"counter\", \"deviceType\", \"backedUp\", \"transports\", \"createdAt\", \"aaguid\") values (?, ?, ?, ?, ?, 3, 'singleDevice', 0, 'internal', '2025-03-02T10:00:00.000Z', '')";
        let cose = base64::engine::general_purpose::STANDARD.encode(key.cose_public_key());
        exec(
            &mut c,
            insert,
            &["pk-alice", "Laptop", &cose, ALICE, &key.id()],
        )
        .await;
        // an Ed25519 key (OKP, alg -8), which Tessera cannot verify: left out
        let mut okp = vec![0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20];
        okp.extend([7u8; 32]);
        let okp = base64::engine::general_purpose::STANDARD.encode(okp);
        exec(
            &mut c,
            insert,
            &["pk-ed25519", "Old key", &okp, ALICE, "b2tw"],
        )
        .await;
    }
    let out = import(dir.path(), &target, &source);
    assert!(
        out.contains("passkeys: 1 imported, 0 already present"),
        "{out}"
    );
    assert!(
        out.contains("1 left out (malformed or with a key Tessera cannot verify"),
        "{out}"
    );
    let again = import(dir.path(), &target, &source);
    assert!(
        again.contains("passkeys: 0 imported, 1 already present"),
        "{again}"
    );

    let server = start_with_url(dir.path(), &target, &[]).await;
    let client = reqwest::Client::new();
    let res = client
        .get(format!(
            "{}/api/auth/passkey/generate-authenticate-options",
            server.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("better-auth.better-auth-passkey="))
        .unwrap();
    let options: Value = res.json().await.unwrap();
    assert_eq!(options["rpId"], "127.0.0.1");
    // the counter goes on from the one Better Auth last saw (3)
    key.counter = 3;
    let response = key.assert(&options, &Ceremony::on(&server.base));
    let res = client
        .post(format!(
            "{}/api/auth/passkey/verify-authentication",
            server.base
        ))
        .header("origin", &server.base)
        .header("cookie", cookie)
        .json(&json!({ "response": response }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["id"], ALICE);
    assert!(body["token"].is_string());
}
