//! `toolchains/aarch64-jetson.toml`: a tiny reader for the cross-compilation settings.
//!
//! Only `[section]` headers, `key = "basic string"` lines and `#` comments are understood;
//! anything else is an error, so the file cannot silently mean something else.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// Settings of a cross target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CrossConfig {
    /// Rust target triple.
    pub(crate) triple: String,
    /// glibc version of the device (informational).
    pub(crate) device_glibc: String,
    /// Linker for the target.
    pub(crate) linker: String,
    /// Program that runs target binaries on the host.
    pub(crate) runner: String,
    /// C compiler for the target.
    pub(crate) cc: String,
    /// C++ compiler for the target.
    pub(crate) cxx: String,
    /// Archiver for the target.
    pub(crate) ar: String,
}

impl CrossConfig {
    /// Reads and parses a toolchain file.
    pub(crate) fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    /// Parses toolchain file text.
    pub(crate) fn parse(text: &str) -> Result<Self> {
        let entries = parse_entries(text)?;
        let get = |section: &str, key: &str| -> Result<String> {
            entries
                .iter()
                .find(|(s, k, _)| s == section && k == key)
                .map(|(_, _, v)| v.clone())
                .with_context(|| format!("missing `{key}` in [{section}]"))
        };
        const KNOWN: &[(&str, &str)] = &[
            ("target", "triple"),
            ("target", "device_glibc"),
            ("tools", "linker"),
            ("tools", "runner"),
            ("tools", "cc"),
            ("tools", "cxx"),
            ("tools", "ar"),
        ];
        if let Some((s, k, _)) =
            entries.iter().find(|(s, k, _)| !KNOWN.contains(&(s.as_str(), k.as_str())))
        {
            bail!("unknown key `{k}` in [{s}]");
        }
        let cfg = Self {
            triple: get("target", "triple")?,
            device_glibc: get("target", "device_glibc")?,
            linker: get("tools", "linker")?,
            runner: get("tools", "runner")?,
            cc: get("tools", "cc")?,
            cxx: get("tools", "cxx")?,
            ar: get("tools", "ar")?,
        };
        if cfg.runner.split_whitespace().any(|a| a == "-L" || a.starts_with("-L")) {
            bail!(
                "runner `{}`: never pass -L to qemu (it hangs in pthread_create); use plain qemu-aarch64",
                cfg.runner
            );
        }
        Ok(cfg)
    }
}

/// `(section, key, value)` triples in file order.
fn parse_entries(text: &str) -> Result<Vec<(String, String, String)>> {
    let mut section = String::new();
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let err = |what: &str| anyhow::anyhow!("line {}: {what}: `{raw}`", i + 1);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest.strip_suffix(']').ok_or_else(|| err("unterminated section header"))?;
            section = name.trim().to_owned();
            continue;
        }
        let (key, value) = line.split_once('=').ok_or_else(|| err("expected `key = \"value\"`"))?;
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(err("bad key"));
        }
        let value = parse_string(value.trim()).ok_or_else(|| err("expected a \"basic string\""))?;
        if out.iter().any(|(s, k, _)| *s == section && k == key) {
            return Err(err("duplicate key"));
        }
        out.push((section.clone(), key.to_owned(), value));
    }
    Ok(out)
}

/// A TOML basic string (`"..."` with `\"` and `\\` escapes), optionally followed by a comment.
fn parse_string(s: &str) -> Option<String> {
    let mut chars = s.strip_prefix('"')?.chars();
    let mut value = String::new();
    loop {
        match chars.next()? {
            '"' => break,
            '\\' => match chars.next()? {
                '"' => value.push('"'),
                '\\' => value.push('\\'),
                _ => return None,
            },
            c => value.push(c),
        }
    }
    let rest = chars.as_str().trim();
    (rest.is_empty() || rest.starts_with('#')).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_file_parses() {
        let path = crate::cmd::workspace_root().join("toolchains/aarch64-jetson.toml");
        let cfg = CrossConfig::load(&path).unwrap();
        assert_eq!(cfg.triple, "aarch64-unknown-linux-gnu");
        assert_eq!(cfg.runner, "qemu-aarch64");
        assert_eq!(cfg.linker, "aarch64-linux-gnu-gcc");
    }

    const OK: &str = "[target]\ntriple = \"t\" # c\ndevice_glibc=\"2.35\"\n[tools]\nlinker = \"l\"\n\
                      runner = \"r\"\ncc = \"c\\\\d\"\ncxx = \"x\"\nar = \"a\"\n";

    #[test]
    fn parses_strings_and_comments() {
        let cfg = CrossConfig::parse(OK).unwrap();
        assert_eq!((cfg.triple.as_str(), cfg.cc.as_str()), ("t", "c\\d"));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(CrossConfig::parse(&OK.replace("ar = \"a\"", "")).is_err(), "missing key");
        assert!(CrossConfig::parse(&format!("{OK}extra = \"1\"\n")).is_err(), "unknown key");
        assert!(
            CrossConfig::parse(&OK.replace("\"r\"", "\"qemu-aarch64 -L /usr/x\"")).is_err(),
            "-L"
        );
        assert!(CrossConfig::parse(&OK.replace("\"l\"", "l")).is_err(), "bare value");
        assert!(CrossConfig::parse(&OK.replace("\"l\"", "\"l\" x")).is_err(), "trailing junk");
    }
}
