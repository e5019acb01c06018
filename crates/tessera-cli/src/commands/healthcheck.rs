//! `tessera healthcheck`: probe a running server's `/readyz`.

use std::time::Duration;

use anyhow::Context as _;

pub(crate) async fn run(base: &str) -> anyhow::Result<()> {
    let url = format!("{}/readyz", base.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    let res = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    anyhow::ensure!(res.status().is_success(), "{url} answered {}", res.status());
    println!("ready");
    Ok(())
}
