//! Configuration layers below flags and environment variables: `--config tessera.toml` and
//! the `*_FILE` forms of secrets. They become clap *defaults*, so the precedence is
//! flags > environment > `*_FILE` environment > config file > built-in defaults, and every
//! option keeps exactly one name: the file key is the flag's name with `_` for `-`
//! (`database_url`), its environment variable `TESSERA_` + the key in upper case.
//!
//! Secrets may come from files (`TESSERA_SECRET_FILE`, `secret_file = "…"` in the config
//! file), as container orchestrators mount them. Values that came from the config file or a
//! file are never shown in `--help`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// Options whose value may be read from a file named by `<NAME>_FILE` / `<name>_file`.
pub(crate) const FILE_BACKED: [&str; 5] = [
    "secret",
    "jwt_secret",
    "database_url",
    "revocations_secret",
    "smtp_url",
];

/// The config file path: `--config <path>` / `--config=<path>` anywhere on the command
/// line, else `TESSERA_CONFIG`.
pub(crate) fn config_path(args: &[String]) -> Option<PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(p) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(p));
        }
    }
    std::env::var_os("TESSERA_CONFIG").map(PathBuf::from)
}

fn env_name(key: &str) -> String {
    format!("TESSERA_{}", key.to_ascii_uppercase())
}

fn read_secret_file(path: &Path) -> anyhow::Result<String> {
    let s =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(s.trim_end_matches(['\n', '\r']).to_owned())
}

/// One layered default: the option's id and its value(s).
pub(crate) type Defaults = BTreeMap<String, Vec<String>>;

/// Reads the config file (if any) and the `*_FILE` variables, checking every key against
/// `known` (the options `serve` accepts), and returns the defaults to install.
pub(crate) fn collect(path: Option<&Path>, known: &[String]) -> anyhow::Result<Defaults> {
    let mut out = Defaults::new();
    if let Some(path) = path {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        let table: toml::Table = text
            .parse()
            .with_context(|| format!("{} is not valid TOML", path.display()))?;
        for (key, value) in table {
            let (id, from_file) = match key.strip_suffix("_file") {
                Some(base) if FILE_BACKED.contains(&base) => (base.to_owned(), true),
                _ => (key.clone(), false),
            };
            if !known.contains(&id) || id == "config" {
                bail!(
                    "{}: unknown key {key:?} (keys are the option names of `tessera serve --help`, with _ for -)",
                    path.display()
                );
            }
            let values = match (value, from_file) {
                (toml::Value::String(p), true) => vec![read_secret_file(Path::new(&p))?],
                (toml::Value::String(s), false) => vec![s],
                (toml::Value::Integer(n), false) => vec![n.to_string()],
                (toml::Value::Boolean(b), false) => vec![b.to_string()],
                (toml::Value::Array(items), false) => items
                    .into_iter()
                    .map(|v| match v {
                        toml::Value::String(s) => Ok(s),
                        other => bail!("{key}: list items must be strings, got {other:?}"),
                    })
                    .collect::<anyhow::Result<_>>()?,
                (other, _) => bail!(
                    "{}: {key} has an unsupported value {other:?}",
                    path.display()
                ),
            };
            out.insert(id, values);
        }
    }
    // `TESSERA_SECRET_FILE` etc. rank above the config file, below the plain variable.
    for id in FILE_BACKED {
        let var = format!("{}_FILE", env_name(id));
        if std::env::var_os(env_name(id)).is_none()
            && let Some(p) = std::env::var_os(&var)
        {
            let value = read_secret_file(Path::new(&p)).with_context(|| format!("from {var}"))?;
            out.insert(id.to_owned(), vec![value]);
        }
    }
    Ok(out)
}

/// Installs the defaults on every (sub)command that has the option.
pub(crate) fn install(cmd: clap::Command, defaults: &Defaults) -> clap::Command {
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    let mut cmd = cmd;
    for name in subs {
        cmd = cmd.mut_subcommand(name, |sub| install(sub, defaults));
    }
    for (id, values) in defaults {
        if cmd.get_arguments().any(|a| a.get_id() == id.as_str()) {
            let values: Vec<clap::builder::OsStr> =
                values.iter().map(|v| v.clone().into()).collect();
            cmd = cmd.mut_arg(id.as_str(), |a| {
                a.default_values(values).hide_default_value(true)
            });
        }
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        [
            "bind",
            "secret",
            "jwt_secret",
            "database_url",
            "trusted_origins",
            "db_pool_size",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn finds_the_config_path_on_the_command_line() {
        let args = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            config_path(&args(&["tessera", "serve", "--config", "a.toml"])),
            Some("a.toml".into())
        );
        assert_eq!(
            config_path(&args(&["tessera", "--config=b.toml", "serve"])),
            Some("b.toml".into())
        );
    }

    #[test]
    fn reads_values_lists_and_secret_files_and_refuses_unknown_keys() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "s3cret-from-a-file-0123456789abcdef\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let cfg = dir.path().join("t.toml");
        std::fs::write(
            &cfg,
            format!(
                "bind = \"127.0.0.1:9999\"\ndb_pool_size = 4\ntrusted_origins = [\"https://a.test\", \"https://b.test\"]\nsecret_file = \"{}\"\n",
                secret.display()
            ),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let d = collect(Some(&cfg), &known()).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(d["bind"], ["127.0.0.1:9999"]);
        assert_eq!(d["db_pool_size"], ["4"]);
        assert_eq!(d["trusted_origins"], ["https://a.test", "https://b.test"]);
        assert_eq!(
            d["secret"],
            ["s3cret-from-a-file-0123456789abcdef"],
            "trailing newline dropped"
        );

        std::fs::write(&cfg, "bnid = \"x\"\n").unwrap_or_else(|e| panic!("{e}"));
        let err = collect(Some(&cfg), &known())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("unknown key \"bnid\""), "{err}");
    }
}
