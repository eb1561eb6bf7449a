//! The list an audit builds: findings placed at a config key or a file.

use serde::Serialize;

/// How much a finding matters. `High` fails the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something the reader may want to know.
    Info,
    /// Worth a look.
    Low,
    /// Weakens a protection.
    Medium,
    /// Defeats a protection.
    High,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// Stable identifier, e.g. `csp-unsafe`.
    pub code: &'static str,
    /// Where: `moat.json: csp (script-src)` or `index.html:12`.
    pub place: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// Findings about one config (named in every place) and its frontend.
pub(crate) struct Findings {
    config_name: String,
    /// Put before every key: `windows.<label>.` while a window's keys are
    /// audited ([`Findings::in_window`]).
    key_prefix: String,
    list: Vec<Finding>,
}

impl Findings {
    pub(crate) fn new(config_name: &str) -> Self {
        Self {
            config_name: config_name.to_owned(),
            key_prefix: String::new(),
            list: Vec::new(),
        }
    }

    /// Runs `audit` with every key placed under `at` (`windows.<label>.`;
    /// empty for the main window, whose keys are the top-level ones).
    pub(crate) fn in_window(&mut self, at: &str, audit: impl FnOnce(&mut Self)) {
        let outer = std::mem::replace(&mut self.key_prefix, at.to_owned());
        audit(self);
        self.key_prefix = outer;
    }

    /// A finding at `key` of the config (`csp (script-src)`,
    /// `scope.fs.allow[1]`).
    pub(crate) fn at_key(
        &mut self,
        severity: Severity,
        code: &'static str,
        key: &str,
        message: impl Into<String>,
    ) {
        let place = format!("{}: {}{key}", self.config_name, self.key_prefix);
        self.at(severity, code, place, message);
    }

    /// A finding at a place in the frontend (`index.html:12`).
    pub(crate) fn at(
        &mut self,
        severity: Severity,
        code: &'static str,
        place: String,
        message: impl Into<String>,
    ) {
        self.list.push(Finding {
            severity,
            code,
            place,
            message: message.into(),
        });
    }

    /// Every finding, most severe first.
    pub(crate) fn into_sorted(mut self) -> Vec<Finding> {
        self.list.sort_by_key(|f| std::cmp::Reverse(f.severity));
        self.list
    }
}
