//! `cargo run --release --example limit_reprepare -- <sqlite file> <user id>`: times the
//! tasks query as `tessera-store` writes it (`LIMIT $2 OFFSET $3`) against the same query
//! with the bound limit wrapped in an expression (`LIMIT ($2 + 0) OFFSET ($3 + 0)`).
//! SQLite ≥ 3.47 treats a bare `LIMIT ?` as plan-relevant, so re-binding it expires the
//! prepared statement and every call re-parses and re-plans the query.

use std::time::Instant;

use sqlx::Row as _;
use sqlx::sqlite::SqlitePoolOptions;

const BARE: &str = "SELECT id, user_id, title, description, completed, created_at, updated_at FROM tasks \
                    WHERE user_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3";
const WRAPPED: &str = "SELECT id, user_id, title, description, completed, created_at, updated_at FROM tasks \
                       WHERE user_id = $1 ORDER BY created_at, id LIMIT ($2 + 0) OFFSET ($3 + 0)";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let file = args
        .next()
        .ok_or("usage: limit_reprepare <sqlite file> <user id>")?;
    let user = args
        .next()
        .ok_or("usage: limit_reprepare <sqlite file> <user id>")?;
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{file}?mode=ro"))
        .await?;
    let n = 20_000;
    for round in 0..2 {
        for (name, sql) in [
            ("LIMIT $2 OFFSET $3", BARE),
            ("LIMIT ($2 + 0) OFFSET ($3 + 0)", WRAPPED),
        ] {
            let start = Instant::now();
            let mut rows = 0;
            for _ in 0..n {
                let got = sqlx::query(sql)
                    .bind(&user)
                    .bind(50_i64)
                    .bind(0_i64)
                    .fetch_all(&pool)
                    .await?;
                rows += got.len();
                let _: &str = got[0].try_get("id")?;
            }
            let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
            if round == 1 {
                println!(
                    "{name:34} {us:7.1} µs per query ({} rows each)",
                    rows / n as usize
                );
            }
        }
    }
    Ok(())
}
