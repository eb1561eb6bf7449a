//! The app's log, and why nothing the page sends can forge a line in it.
//!
//! Threat: much of what Moat logs came from the page (a command name, a
//! path, a URL, the page's own address, a serde message quoting an
//! argument). A newline in one writes a line of the page's choosing, a
//! terminal escape sequence reaches the terminal, bidirectional controls
//! reorder what a reader sees, and a 1 MiB command name makes a 2 MiB line.
//! So every field of every event (and of every span) is written through
//! [`LogFields`]: control, line-separator and bidi/format characters become
//! `\u{…}` escapes, and each value stops after [`MAX_FIELD_CHARS`]
//! characters with a note of how much was left out. This holds for whatever
//! reaches the log, including events that do not know their text is the
//! page's.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::FormatFields;

/// The longest a field's value may be in the log, in characters. Long
/// enough for a path or a URL that is worth reading, short enough that a
/// page cannot make the log grow by more than this per field.
pub(crate) const MAX_FIELD_CHARS: usize = 512;

/// Installs Moat's log for this process (stderr), unless the app has
/// installed a subscriber of its own: then Moat's events go to it, and a
/// warning says so when it does not format with [`LogFields`] (text from
/// pages would reach it unescaped).
///
/// Default: `moat=info`, where refusals and warnings are logged (each inside
/// its call's `ipc.call` span, so with the command and call id) but a call
/// that succeeds prints nothing: a line per call cost the UI thread tens of
/// microseconds of formatting and a `write` on every call. With `RUST_LOG`
/// set, every call's span is printed when it closes, with its outcome and
/// duration.
pub(crate) fn init() {
    use tracing_subscriber::{fmt::format::FmtSpan, EnvFilter};
    if tracing::dispatcher::has_been_set() {
        let escaped = tracing::dispatcher::get_default(|d| d.downcast_ref::<LogFields>().is_some());
        if !escaped {
            tracing::warn!("the app's own tracing subscriber does not format with moat::log_layer() or moat::LogFields: text from pages (command names, paths, URLs) reaches its log unescaped; add moat::log_layer() to it");
        }
        return;
    }
    let (filter, spans) = match EnvFilter::try_from_default_env() {
        Ok(f) => (f, FmtSpan::CLOSE),
        Err(_) => (EnvFilter::new("moat=info"), FmtSpan::NONE),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(spans)
        .fmt_fields(LogFields)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Moat's log format as a layer for an app that installs its own
/// `tracing` subscriber: events written to stderr with every field escaped
/// and bounded ([`LogFields`]).
///
/// ```no_run
/// use tracing_subscriber::prelude::*;
/// tracing_subscriber::registry()
///     .with(tracing_subscriber::EnvFilter::new("moat=info,my_app=debug"))
///     .with(moat::log_layer())
///     .init();
/// ```
pub fn log_layer<S>() -> impl tracing_subscriber::Layer<S> + Send + Sync + 'static
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .fmt_fields(LogFields)
        .with_writer(std::io::stderr)
}

/// Formats fields as `message name=value …`, every value escaped (control,
/// line-separator and bidi characters as `\u{…}`) and cut after 512
/// characters: what the page sends cannot forge a line of the log or reach
/// the terminal. For an app's own `fmt` layer:
/// `tracing_subscriber::fmt::layer().fmt_fields(moat::LogFields)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogFields;

impl<'writer> FormatFields<'writer> for LogFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = SafeVisitor {
            writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct SafeVisitor<'writer> {
    writer: Writer<'writer>,
    first: bool,
    result: fmt::Result,
}

impl SafeVisitor<'_> {
    fn field(&mut self, field: &Field, value: &str, quoted: bool) {
        if self.result.is_err() {
            return;
        }
        let mut out = String::new();
        if !self.first {
            out.push(' ');
        }
        self.first = false;
        if field.name() != "message" {
            out.push_str(field.name());
            out.push('=');
        }
        if quoted {
            out.push('"');
        }
        escape_into(&mut out, value, quoted);
        if quoted {
            out.push('"');
        }
        self.result = self.writer.write_str(&out);
    }
}

impl Visit for SafeVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        // Strings are quoted (as the default formatter does), the message
        // is not.
        let quoted = field.name() != "message";
        self.field(field, value, quoted);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `%x` fields arrive here too (as Display wrapped in Debug), with
        // whatever characters the value holds.
        let mut text = String::new();
        if write!(text, "{value:?}").is_err() {
            text = "<unformattable>".into();
        }
        self.field(field, &text, false);
    }
}

/// Whether `c` must not reach the log as itself: control characters (C0,
/// DEL, C1, so newlines and ESC), line and paragraph separators, and the
/// invisible format characters that reorder or hide text (bidi overrides and
/// isolates, zero-width characters, the BOM).
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

/// Appends `value` to `out` with every unsafe character escaped (and, in a
/// quoted value, `"` and `\`), stopping after [`MAX_FIELD_CHARS`].
fn escape_into(out: &mut String, value: &str, quoted: bool) {
    for (n, (i, c)) in value.char_indices().enumerate() {
        if n == MAX_FIELD_CHARS {
            let _ = write!(out, "…(+{} bytes)", value.len() - i);
            return;
        }
        if unsafe_char(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else if quoted && (c == '"' || c == '\\') {
            out.push('\\');
            out.push(c);
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Everything logged while `f` runs, formatted as the app formats it.
    fn logged(f: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .fmt_fields(LogFields)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        let bytes = buf.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn page_text_cannot_forge_a_line_or_reach_the_terminal() {
        let forged =
            "x\n2026-01-01T00:00:00Z  INFO moat: all good\r\x1b[2J\u{202e}gnp.exe\u{0}\u{85}";
        let out = logged(|| {
            let span = tracing::info_span!("ipc.call", cmd = tracing::field::Empty);
            span.record("cmd", forged);
            tracing::warn!(parent: &span, code = "unknown_command", url = %forged, reason = ?forged, "refused {forged}");
        });
        assert_eq!(out.matches('\n').count(), 1, "{out}");
        assert!(out.ends_with('\n'));
        for bad in ['\r', '\x1b', '\u{202e}', '\0', '\u{85}'] {
            assert!(!out.contains(bad), "{bad:?} in {out}");
        }
        assert!(out.contains(r"x\u{a}2026"), "{out}");
        assert!(out.contains(r#"code="unknown_command""#), "{out}");
    }

    #[test]
    fn a_huge_value_is_cut_and_says_how_much_was_left_out() {
        let huge = "A".repeat(1 << 20);
        let out = logged(|| tracing::warn!(cmd = %huge, name = huge.as_str(), "refused"));
        assert!(out.len() < 4 * MAX_FIELD_CHARS, "{} bytes", out.len());
        let rest = (1 << 20) - MAX_FIELD_CHARS;
        assert_eq!(
            out.matches(&format!("…(+{rest} bytes)")).count(),
            2,
            "{out}"
        );
    }

    #[test]
    fn an_apps_own_subscriber_is_seen_with_or_without_moats_fields() {
        use tracing_subscriber::prelude::*;
        let ours = tracing_subscriber::registry().with(log_layer());
        tracing::subscriber::with_default(ours, || {
            assert!(tracing::dispatcher::get_default(|d| d
                .downcast_ref::<LogFields>()
                .is_some()));
        });
        let plain = tracing_subscriber::registry().with(tracing_subscriber::fmt::layer());
        tracing::subscriber::with_default(plain, || {
            assert!(!tracing::dispatcher::get_default(|d| d
                .downcast_ref::<LogFields>()
                .is_some()));
        });
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        let out = logged(|| tracing::info!(path = "/home/ä/notes.txt", n = 3, "read é ok"));
        assert!(
            out.contains(r#"read é ok path="/home/ä/notes.txt" n=3"#),
            "{out}"
        );
    }
}
