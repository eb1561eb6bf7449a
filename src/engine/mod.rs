//! What holds when WebKit itself is broken: a page that exploits a WebKit
//! memory bug runs code in the web content process, and a release build
//! launched by someone else may carry a debug switch in its environment.
//!
//! - [`sandbox`]: every web content process runs in WebKitGTK's
//!   bubblewrap sandbox (its own mount, PID and network namespaces, a
//!   seccomp filter, no `$HOME`), or the app does not start.
//! - [`switches`]: a release build removes from its environment every
//!   switch that WebKit, GTK, GLib or GIO would honour to inspect or weaken
//!   it, before GTK or any thread starts.
//!
//! Both change the process environment, which is only sound while no other
//! thread reads it: `Builder::run` calls them first, before the runtime,
//! GTK or WebKit start any thread. What stays outside the sandbox (the UI
//! process, which holds the scopes) is listed in `docs/threats.md`.

pub(crate) mod sandbox;
pub(crate) mod switches;
