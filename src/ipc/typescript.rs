//! The app's commands as TypeScript (feature `typescript`): what each
//! takes, answers and fails with, from the Rust types it was registered
//! with ([`crate::Commands::sync_typed`], [`crate::Commands::asynchronous_typed`]),
//! so the page and Rust cannot drift apart. `<app> types` prints it
//! (`Builder::answer_command_line`); an app writes it where its frontend
//! imports it and checks in its tests that it is current.
//!
//! Types are rendered by `ts-rs` (derive `ts_rs::TS` beside `Deserialize`
//! and `Serialize`; serde's renames are followed). Moat's own types:
//! [`crate::NoArgs`] is `Record<string, never>`, [`crate::Bytes`] a
//! `Uint8Array`, [`crate::Channel`] the page's `moat.Channel`.

use std::collections::BTreeMap;

use ts_rs::{TypeVisitor, TS};

/// One command's types, as TypeScript: names (or inline types) of its
/// arguments, result and error, and the declarations they need.
#[derive(Debug, Clone, Default)]
pub(crate) struct Described {
    args: String,
    result: String,
    error: String,
    decls: BTreeMap<String, String>,
}

/// Describes a command taking `A`, answering `R` and failing with `E`.
pub(crate) fn describe<A, R, E>() -> Described
where
    A: TS + 'static,
    R: TS + 'static,
    E: TS + 'static,
{
    let mut decls = Decls(BTreeMap::new());
    decls.visit::<A>();
    decls.visit::<R>();
    decls.visit::<E>();
    Described {
        args: A::name(),
        result: R::name(),
        error: E::name(),
        decls: decls.0,
    }
}

/// The declarations of every named type reached, by name.
struct Decls(BTreeMap<String, String>);

impl TypeVisitor for Decls {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if T::output_path().is_some() && !self.0.contains_key(&T::ident()) {
            self.0.insert(T::ident(), T::decl());
            T::visit_dependencies(self);
        } else if T::output_path().is_none() {
            // A container (`Vec<T>`, `Option<T>`) or Moat's own: what it holds.
            T::visit_dependencies(self);
        }
    }
}

/// The declarations file: every named type, then `Commands` (each
/// command's `args`, `result` and `error`; `unknown` for one registered
/// without types) and `Invoke`, `window.moat.invoke` typed by it.
pub(crate) fn render<'a>(
    names: impl Iterator<Item = &'a String>,
    typed: &BTreeMap<String, Described>,
) -> String {
    let mut out = String::from(HEADER);
    let decls: BTreeMap<&String, &String> = typed.values().flat_map(|d| d.decls.iter()).collect();
    for decl in decls.values() {
        out.push_str("export ");
        out.push_str(decl.trim_end());
        out.push('\n');
    }
    out.push_str("\n/** The app's commands: what each takes, answers, and fails with (`MoatError.data` when its `code` is `'app'`). */\nexport interface Commands {\n");
    for name in names {
        let key = serde_json::to_string(name).unwrap_or_default();
        match typed.get(name) {
            Some(d) => out.push_str(&format!(
                "  {key}: {{ args: {}; result: {}; error: {} }};\n",
                d.args, d.result, d.error
            )),
            None => out.push_str(&format!(
                "  {key}: {{ args: Record<string, unknown>; result: unknown; error: unknown }};\n"
            )),
        }
    }
    out.push_str("}\n\n");
    out.push_str(INVOKE);
    out
}

const HEADER: &str = "// The app's commands, generated from their Rust types (`<app> types`).
// Do not edit: the app's tests check that this file is current.

/** A `moat.Channel` passed as an argument: its messages are `T`. */
export type Channel<T> = { readonly id: number; readonly __message?: T };

";

const INVOKE: &str = "/** `window.moat.invoke`, typed by the app's commands. */
export type Invoke = <K extends keyof Commands>(
  cmd: K,
  args: Commands[K]['args'],
  options?: { timeoutMs?: number | null },
) => Promise<Commands[K]['result']>;
";

/// `Record<string, never>`: a command that takes nothing.
impl TS for crate::NoArgs {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;

    fn name() -> String {
        "Record<string, never>".into()
    }
    fn inline() -> String {
        Self::name()
    }
    fn inline_flattened() -> String {
        "{}".into()
    }
    fn decl() -> String {
        format!("type NoArgs = {};", Self::name())
    }
    fn decl_concrete() -> String {
        Self::decl()
    }
}

/// A `Uint8Array` on the page's side.
impl TS for crate::Bytes {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;

    fn name() -> String {
        "Uint8Array".into()
    }
    fn inline() -> String {
        Self::name()
    }
    fn inline_flattened() -> String {
        Self::name()
    }
    fn decl() -> String {
        format!("type Bytes = {};", Self::name())
    }
    fn decl_concrete() -> String {
        Self::decl()
    }
}

/// The page's `moat.Channel` (declared in the generated file's header).
impl<T: TS + 'static> TS for crate::Channel<T> {
    type WithoutGenerics = crate::Channel<ts_rs::Dummy>;
    type OptionInnerType = Self;

    fn name() -> String {
        format!("Channel<{}>", T::name())
    }
    fn inline() -> String {
        Self::name()
    }
    fn inline_flattened() -> String {
        Self::name()
    }
    fn decl() -> String {
        "type Channel<T> = { readonly id: number; readonly __message?: T };".into()
    }
    fn decl_concrete() -> String {
        Self::decl()
    }
    fn visit_dependencies(v: &mut impl TypeVisitor)
    where
        Self: 'static,
    {
        v.visit::<T>();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, TS)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code, reason = "only its TypeScript declaration is under test")]
    struct Save {
        file_name: String,
        tags: Vec<Tag>,
        progress: crate::Channel<u32>,
        data: crate::Bytes,
    }

    #[derive(serde::Serialize, serde::Deserialize, TS)]
    struct Tag {
        label: String,
    }

    #[derive(serde::Serialize, TS)]
    #[allow(dead_code, reason = "only its TypeScript declaration is under test")]
    enum SaveError {
        Full,
    }

    #[test]
    fn a_commands_types_and_those_they_use_are_declared() {
        let typed = BTreeMap::from([(
            "save".to_owned(),
            describe::<Save, Option<Tag>, SaveError>(),
        )]);
        let names = ["ping".to_owned(), "save".to_owned()];
        let out = render(names.iter(), &typed);
        assert!(out.contains("export type Save = { fileName: string, tags: Array<Tag>, progress: Channel<number>, data: Uint8Array, };"), "{out}");
        assert!(
            out.contains("export type Tag = { label: string, };"),
            "{out}"
        );
        assert!(out.contains("export type SaveError = \"Full\";"), "{out}");
        assert!(
            out.contains(r#"  "save": { args: Save; result: Tag | null; error: SaveError };"#),
            "{out}"
        );
        assert!(
            out.contains(
                r#"  "ping": { args: Record<string, unknown>; result: unknown; error: unknown };"#
            ),
            "{out}"
        );
        assert_eq!(out.matches("export type Tag =").count(), 1, "declared once");
    }
}
