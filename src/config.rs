//! The app's security configuration (`moat.json`), compiled into the binary
//! so it cannot be edited after the build.
//!
//! Parsing is strict: an unknown key, a wrong type or a bad value stops the
//! app at startup with the key's path in the message. Every protection is on
//! unless a key here turns it off.

use serde::Deserialize;

/// The parsed configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Reverse-DNS app id, e.g. `dev.moat.demo`. Names the data directory.
    pub identifier: String,
    /// Window title.
    pub title: String,
    /// Initial window size.
    #[serde(default)]
    pub window: WindowConfig,
    /// The isolation frame.
    #[serde(default)]
    pub isolation: IsolationConfig,
    /// What the page may call.
    #[serde(default)]
    pub allowlist: Allowlist,
    /// Size and time limits on calls.
    #[serde(default)]
    pub limits: Limits,
    /// The main document's Content-Security-Policy. `None`: Moat's strict
    /// default.
    #[serde(default)]
    pub csp: Option<String>,
    /// Web inspector. Honoured only in debug builds; a release build with
    /// this set refuses to start.
    #[serde(default)]
    pub devtools: bool,
    /// Web permissions the pages may have. Every other request (camera,
    /// microphone, geolocation, notifications, …) is denied.
    #[serde(default)]
    pub permissions: Vec<Permission>,
    /// Protections turned off. Each one logs a warning at startup and is a
    /// finding of `moat-demo audit`.
    #[serde(default)]
    pub dangerous: Dangerous,
}

/// A web permission an app may grant its pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Permission {
    /// `getUserMedia` audio.
    Microphone,
    /// `getUserMedia` video.
    Camera,
    /// `getDisplayMedia`.
    DisplayCapture,
    /// `navigator.geolocation`.
    Geolocation,
    /// `Notification.requestPermission`.
    Notifications,
    /// `requestPointerLock`.
    PointerLock,
}

impl Permission {
    pub(crate) fn matches(self, kind: wry::PermissionKind) -> bool {
        use wry::PermissionKind as K;
        matches!(
            (self, kind),
            (Permission::Microphone, K::Microphone)
                | (Permission::Camera, K::Camera)
                | (Permission::DisplayCapture, K::DisplayCapture)
                | (Permission::Geolocation, K::Geolocation)
                | (Permission::Notifications, K::Notifications)
                | (Permission::PointerLock, K::PointerLock)
        )
    }
}

/// Escape hatches. Off unless set; each is loud.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Dangerous {
    /// Serve HTML and the app's `csp` exactly as given: no hashes for inline
    /// scripts, no nonces, no `object-src`/`base-uri`/`form-action`
    /// defaults. For apps that manage their own policy.
    #[serde(default)]
    pub disable_csp_modification: bool,
}

/// Initial window size in logical pixels.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowConfig {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl Default for WindowConfig {
    fn default() -> Self {
        Self {
            width: 960,
            height: 720,
        }
    }
}

/// The isolation frame's hooks.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsolationConfig {
    /// ES module files, relative to the hooks directory given to the builder,
    /// run in this order on every call. Each default-exports
    /// `function hook({cmd, args}, ctx)`.
    #[serde(default)]
    pub hooks: Vec<String>,
}

/// Which dedicated commands the page may call.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    /// `None` (absent): every registered command, since registering one in
    /// Rust is itself an explicit grant. `Some`: only these; each must be
    /// registered.
    #[serde(default)]
    pub commands: Option<Vec<String>>,
}

/// Limits on calls.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Limits {
    /// Largest envelope the core opens, in bytes.
    pub max_message_bytes: usize,
    /// How long the bridge waits for a reply before rejecting with
    /// `timeout`, in milliseconds.
    pub call_timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 64 << 20,
            call_timeout_ms: 30_000,
        }
    }
}

/// A configuration that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path of the offending key, e.g. `isolation.hooks[0]`.
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() || self.path == "." {
            write!(f, "moat config: {}", self.message)
        } else {
            write!(f, "moat config: {}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Parses and validates `moat.json` text.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let config: Config = serde_path_to_error::deserialize(de).map_err(|e| ConfigError {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let err = |path: String, message: String| Err(ConfigError { path, message });
        let id_ok = !self.identifier.is_empty()
            && !self.identifier.starts_with('.')
            && self
                .identifier
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !id_ok {
            return err(
                "identifier".into(),
                format!(
                    "{:?} must be a reverse-DNS id of letters, digits, '.', '-' and '_' (it names the data directory)",
                    self.identifier
                ),
            );
        }
        for (i, hook) in self.isolation.hooks.iter().enumerate() {
            let ok = (hook.ends_with(".js") || hook.ends_with(".mjs"))
                && crate::protocol::embedded_path(hook).as_deref() == Some(hook.as_str())
                && hook
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'));
            if !ok {
                return err(
                    format!("isolation.hooks[{i}]"),
                    format!("{hook:?} must be a relative .js/.mjs path inside the hooks directory, without '..' or hidden segments"),
                );
            }
        }
        if self.limits.max_message_bytes < 1024 {
            return err(
                "limits.maxMessageBytes".into(),
                "must be at least 1024 bytes".into(),
            );
        }
        if self.limits.call_timeout_ms == 0 {
            return err("limits.callTimeoutMs".into(), "must be more than 0".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"{"identifier":"dev.moat.t","title":"T"}"#;

    #[test]
    fn minimal_config_gets_secure_defaults() {
        let c = Config::from_json(MIN).unwrap();
        assert!(!c.devtools);
        assert!(c.csp.is_none());
        assert!(c.allowlist.commands.is_none());
    }

    #[test]
    fn unknown_key_is_refused_with_its_path() {
        let e = Config::from_json(r#"{"identifier":"a.b","title":"T","isolation":{"hook":[]}}"#)
            .unwrap_err();
        assert_eq!(e.path, "isolation.hook");
        assert!(
            e.message.starts_with("unknown field `hook`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn hook_path_escaping_the_directory_is_refused() {
        let e = Config::from_json(
            r#"{"identifier":"a.b","title":"T","isolation":{"hooks":["ok.js","../x.js"]}}"#,
        )
        .unwrap_err();
        assert_eq!(e.path, "isolation.hooks[1]");
    }

    #[test]
    fn identifier_that_could_escape_the_data_dir_is_refused() {
        for id in ["", "..", "a/b", ".hidden"] {
            let json = format!(r#"{{"identifier":{id:?},"title":"T"}}"#);
            assert_eq!(
                Config::from_json(&json).unwrap_err().path,
                "identifier",
                "{id}"
            );
        }
    }

    #[test]
    fn wrong_type_names_the_key() {
        let e = Config::from_json(r#"{"identifier":"a.b","title":"T","limits":{"maxMessageBytes":"big","callTimeoutMs":1}}"#).unwrap_err();
        assert_eq!(e.path, "limits.maxMessageBytes");
    }
}
