//! Debug and extension switches a release build does not honour.
//!
//! Threat: a trusted, packaged app started by someone else with a switch in
//! its environment (a desktop file, a wrapper script, a compromised
//! launcher): WebKit's remote inspector listening on a port every local
//! user can reach, able to run script in any frame (the isolation frame
//! that holds the key included); GTK's interactive inspector; a module
//! loaded from a path of the attacker's choosing into the UI process or the
//! web process; the web process sandbox turned off. Electron's "fuses"
//! exist for the same reason.
//!
//! A release build removes each of [`SWITCHES`] (and every `JSC_…`
//! variable, JavaScriptCore's options) from its own environment before GTK
//! or any thread starts, so neither it nor a process it starts sees them,
//! and logs what it removed. Debug builds keep them, for developers. GTK's
//! own command-line switches (`--gtk-module`, `--gtk-debug`) never reach
//! GTK: Moat initialises it without the command line and refuses unknown
//! arguments (`cli`).
//!
//! Out of reach: the dynamic loader's variables (`LD_PRELOAD`,
//! `LD_LIBRARY_PATH`, `LD_AUDIT`) act before any of the app's code runs;
//! an environment that sets them owns any process it starts.

/// Each switch and what it would have opened.
pub(crate) const SWITCHES: &[(&str, &str)] = &[
    ("WEBKIT_INSPECTOR_SERVER", "WebKit's remote inspector on a TCP port"),
    ("WEBKIT_INSPECTOR_HTTP_SERVER", "WebKit's remote inspector over HTTP on a TCP port"),
    ("WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS", "the web process without its sandbox"),
    ("WEBKIT_FORCE_SANDBOX", "the launcher's say over the web process sandbox (Moat sets it itself)"),
    ("WEBKIT_ENABLE_DEBUG_PERMISSIONS_IN_SANDBOX", "debugging permissions (ptrace) inside the sandbox"),
    ("WEBKIT_EXEC_PATH", "web and network process programs run from another directory (WebKit's developer builds only)"),
    ("WEBKIT_INJECTED_BUNDLE_PATH", "a library loaded into every web process"),
    ("WEBKIT_ENABLE_DBUS_PROXY_LOGGING", "the sandbox's D-Bus traffic written to the log"),
    ("WEBKIT_ENABLE_A11Y_DBUS_PROXY_LOGGING", "the sandbox's accessibility D-Bus traffic written to the log"),
    ("GTK_DEBUG", "GTK's interactive inspector (`interactive`) and debug output"),
    ("GTK_MODULES", "libraries loaded into the UI process by GTK"),
    ("GTK3_MODULES", "libraries loaded into the UI process by GTK 3"),
    ("GTK_PATH", "where GTK looks for modules and engines"),
    ("GIO_EXTRA_MODULES", "libraries loaded by GIO from another directory"),
    ("GIO_MODULE_DIR", "GIO's module directory replaced"),
    ("GST_PLUGIN_PATH", "GStreamer plugins loaded into the web process from another directory"),
    ("GST_PLUGIN_PATH_1_0", "GStreamer plugins loaded into the web process from another directory"),
    ("GST_PLUGIN_SYSTEM_PATH", "GStreamer's plugin directory replaced"),
    ("GST_PLUGIN_SYSTEM_PATH_1_0", "GStreamer's plugin directory replaced"),
];

/// Removes every switch (and `JSC_…` variable) from this process's
/// environment in a release build; returns the names removed, for the log
/// once it exists. A debug build removes nothing.
///
/// Call it before any other thread exists (`engine` module docs).
pub(crate) fn remove_from_environment() -> Vec<String> {
    if cfg!(debug_assertions) {
        return Vec::new();
    }
    let present: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| is_switch(k))
        .collect();
    for name in &present {
        std::env::remove_var(name);
    }
    present
}

/// Whether `name` is a switch a release build removes.
pub(crate) fn is_switch(name: &str) -> bool {
    SWITCHES.iter().any(|(s, _)| *s == name) || name.starts_with("JSC_")
}

/// Logs what [`remove_from_environment`] removed, each with what it would
/// have opened.
pub(crate) fn log_removed(removed: &[String]) {
    for name in removed {
        let opened = SWITCHES
            .iter()
            .find(|(s, _)| s == name)
            .map_or("a JavaScriptCore option", |(_, what)| what);
        tracing::warn!(
            switch = %name,
            "removed from the environment: a release build does not honour it (it would have opened: {opened})"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switches_named_by_the_threat_are_listed() {
        for name in [
            "WEBKIT_INSPECTOR_SERVER",
            "WEBKIT_INSPECTOR_HTTP_SERVER",
            "WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS",
            "WEBKIT_FORCE_SANDBOX",
            "GTK_DEBUG",
            "GTK_MODULES",
            "GTK3_MODULES",
            "GTK_PATH",
            "GIO_EXTRA_MODULES",
            "GIO_MODULE_DIR",
            "WEBKIT_EXEC_PATH",
            "WEBKIT_INJECTED_BUNDLE_PATH",
            "JSC_useDollarVM",
        ] {
            assert!(is_switch(name), "{name}");
        }
        for name in ["HOME", "DISPLAY", "XDG_DATA_HOME", "PATH", "WEBKIT_X"] {
            assert!(!is_switch(name), "{name}");
        }
    }

    /// Read only by WebKit's developer builds, not by a distribution's;
    /// removed anyway.
    const DEVELOPER_BUILDS_ONLY: &[&str] = &["WEBKIT_EXEC_PATH"];

    /// Each listed switch is a name that the installed WebKitGTK, GTK, GIO
    /// or GStreamer libraries really read: a misspelt entry would remove
    /// nothing and look like protection.
    #[test]
    fn every_listed_switch_is_read_by_the_installed_libraries() {
        let dir = format!("/usr/lib/{}-linux-gnu", std::env::consts::ARCH);
        let libs: Vec<Vec<u8>> = [
            "libwebkit2gtk-4.1.so.0",
            "libgtk-3.so.0",
            "libgio-2.0.so.0",
            "libgstreamer-1.0.so.0",
        ]
        .iter()
        .map(|f| {
            std::fs::read(format!("{dir}/{f}"))
                .unwrap_or_else(|e| panic!("{dir}/{f} (make deps installs it): {e}"))
        })
        .collect();
        for (name, _) in SWITCHES {
            if DEVELOPER_BUILDS_ONLY.contains(name) {
                continue;
            }
            let needle = format!("{name}\0");
            let read = libs
                .iter()
                .any(|lib| memchr::memmem::find(lib, needle.as_bytes()).is_some());
            assert!(read, "{name} is in no installed library");
        }
    }
}
