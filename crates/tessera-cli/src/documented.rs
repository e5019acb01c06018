//! Keeps the documentation of the options true: every option of `tessera serve` is in the
//! README's configuration table and in `tessera.example.toml` with its environment variable,
//! and every default they state is the real one (which is the server's, see
//! `tessera_server::settings::defaults`).

use std::path::Path;

use clap::CommandFactory as _;

use crate::Cli;
use crate::args::parse_duration;

/// An option of `tessera serve` as clap knows it.
struct Opt {
    /// `database_url`: the config-file key.
    key: String,
    /// `--database-url`.
    flag: String,
    env: String,
    /// The built-in default, list items joined with `,`; `None` when there is none.
    default: Option<String>,
}

fn serve_options() -> Vec<Opt> {
    let cmd = Cli::command();
    let serve = cmd
        .find_subcommand("serve")
        .unwrap_or_else(|| panic!("no serve subcommand"));
    serve
        .get_arguments()
        .filter_map(|a| {
            let long = a.get_long()?;
            let env = a.get_env()?.to_string_lossy().into_owned();
            let defaults: Vec<String> = a
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            Some(Opt {
                key: a.get_id().to_string(),
                flag: format!("--{long}"),
                env,
                default: (!defaults.is_empty()).then(|| defaults.join(",")),
            })
        })
        .collect()
}

/// Whether a documented value means the default: the same text, or the same duration
/// written differently (`60s` and `1m`).
fn same_value(documented: &str, default: &str) -> bool {
    documented == default
        || matches!(
            (parse_duration(documented), parse_duration(default)),
            (Ok(a), Ok(b)) if a == b
        )
}

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_example_config_documents_every_option_with_its_variable_and_real_default() {
    let text = read("tessera.example.toml");
    let table: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("tessera.example.toml: {e}"));
    let options = serve_options();
    for opt in &options {
        let mentioned = text.lines().any(|line| {
            let line = line.trim_start_matches(['#', ' ']);
            line.starts_with(&format!("{} =", opt.key))
                || line.starts_with(&format!("{}_file =", opt.key))
        });
        assert!(
            mentioned,
            "tessera.example.toml does not mention {}",
            opt.key
        );
        assert!(
            text.contains(&opt.env),
            "tessera.example.toml does not name {} (for {})",
            opt.env,
            opt.key
        );
        let Some(value) = table.get(&opt.key) else {
            continue; // commented out: documented, not set
        };
        let written = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
                .join(","),
            other => panic!("{}: unexpected value {other:?}", opt.key),
        };
        let default = opt.default.clone().unwrap_or_default();
        assert!(
            same_value(&written, &default),
            "tessera.example.toml sets {} = {written:?}, but the default is {default:?}",
            opt.key
        );
    }
    for key in table.keys() {
        let base = key.strip_suffix("_file").unwrap_or(key);
        assert!(
            options.iter().any(|o| o.key == base),
            "tessera.example.toml sets {key}, which is no option"
        );
    }
}

#[test]
fn the_readme_table_documents_every_option_with_its_variable_and_real_default() {
    let readme = read("README.md");
    let rows: Vec<Vec<&str>> = readme
        .lines()
        .filter(|l| l.starts_with("| `--"))
        .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
        .collect();
    let options = serve_options();
    for opt in &options {
        let row = rows
            .iter()
            .find(|cells| {
                cells[0]
                    .split(", ")
                    .any(|f| f.trim_matches('`') == opt.flag)
            })
            .unwrap_or_else(|| panic!("the README's configuration table has no {}", opt.flag));
        assert!(
            row[1].contains(&format!("`{}`", opt.env)),
            "the README names {} for {}, expected {}",
            row[1],
            opt.flag,
            opt.env
        );
        // A default cell that starts with a literal states the default: it must be the real one.
        if let (Some(default), Some(literal)) = (
            &opt.default,
            row[2]
                .strip_prefix('`')
                .and_then(|rest| rest.split('`').next()),
        ) {
            assert!(
                same_value(literal, default),
                "the README says {} defaults to {literal:?}, but it is {default:?}",
                opt.flag
            );
        }
    }
    for row in &rows {
        for flag in row[0].split(", ") {
            let flag = flag.trim_matches('`');
            assert!(
                options.iter().any(|o| o.flag == flag),
                "the README documents {flag}, which is no option"
            );
        }
    }
}

#[test]
fn with_no_options_the_cli_builds_the_servers_defaults() {
    use clap::Parser as _;
    use tessera_server::settings::defaults;
    let cli = Cli::try_parse_from([
        "tessera",
        "config",
        "check",
        "--secret",
        "a-test-secret-that-is-long-enough-0123456789",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let crate::Command::Config {
        action: crate::commands::config::ConfigAction::Check(args),
    } = cli.command
    else {
        panic!("parsed another command");
    };
    let s = args.into_settings().unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(s.http.bind, defaults::BIND);
    assert_eq!(s.http.idle_timeout, defaults::IDLE_TIMEOUT);
    assert_eq!(s.http.http2, defaults::HTTP2);
    assert_eq!(s.database.database_url.as_str(), defaults::DATABASE_URL);
    assert_eq!(s.database.db_max_connections, defaults::DB_MAX_CONNECTIONS);
    assert_eq!(s.database.db_timeout, defaults::DB_TIMEOUT);
    assert_eq!(s.tokens.jwt_alg, defaults::JWT_ALG);
    assert_eq!(s.tokens.access_token_ttl, defaults::ACCESS_TOKEN_TTL);
    assert_eq!(
        s.tokens.key_activation_delay,
        defaults::KEY_ACTIVATION_DELAY
    );
    assert_eq!(s.sessions.session_ttl, defaults::SESSION_TTL);
    assert_eq!(
        s.sessions.session_max_lifetime,
        defaults::SESSION_MAX_LIFETIME
    );
    assert_eq!(s.sessions.refresh_grace, defaults::REFRESH_GRACE);
    assert_eq!(s.security.sign_up_response, defaults::SIGN_UP_RESPONSE);
    assert_eq!(s.deployment.jwks_cooldown, defaults::JWKS_COOLDOWN);
    assert_eq!(s.deployment.role, defaults::ROLE);
}
