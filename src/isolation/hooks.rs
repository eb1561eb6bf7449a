//! The app's hooks, checked before anything runs them. Every configured
//! hook, and every file it imports, must parse as an ES module, and every
//! import must name a file in the hooks folder by a relative path: the
//! isolation frame has no package resolution, no import map and no network
//! (its policy allows scripts from the hooks folder only). A mistake would
//! otherwise show only in the webview, after the app started, as
//! `hook_failed` on every call; here it stops startup (and is a finding of
//! `audit`) with the file, the line and the fix.
//!
//! An `import()` whose specifier is not a string literal cannot be checked
//! here; the frame's policy still confines it to the hooks folder.

use std::collections::BTreeSet;

use oxc_allocator::Allocator;
use oxc_parser::Parser;
use oxc_span::SourceType;

/// A hook, or a file a hook imports, that the frame could not load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HookError {
    /// Not UTF-8 text.
    NotText { file: String },
    /// Does not parse as an ES module.
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    /// `import … from 'zod'`: a package name, which nothing resolves.
    BareImport {
        file: String,
        line: usize,
        spec: String,
    },
    /// `import … from 'https://…'` (or `data:`, `blob:`): not in the folder.
    RemoteImport {
        file: String,
        line: usize,
        spec: String,
    },
    /// A relative import of a file that is not in the hooks folder.
    MissingImport {
        file: String,
        line: usize,
        spec: String,
    },
}

impl HookError {
    /// The file and line, as `hooks/<file>:<line>`.
    pub(crate) fn place(&self) -> String {
        match self {
            HookError::NotText { file } => format!("hooks/{file}"),
            HookError::Syntax { file, line, .. }
            | HookError::BareImport { file, line, .. }
            | HookError::RemoteImport { file, line, .. }
            | HookError::MissingImport { file, line, .. } => format!("hooks/{file}:{line}"),
        }
    }
}

impl std::fmt::Display for HookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let place = self.place();
        match self {
            HookError::NotText { .. } => write!(f, "{place}: a hook must be UTF-8 text"),
            HookError::Syntax { message, .. } => {
                write!(f, "{place}: not a valid ES module: {message}")
            }
            HookError::BareImport { spec, .. } => write!(
                f,
                "{place}: imports `{spec}`, a package name, which the isolation frame cannot \
                 resolve (no package resolution, no network): bundle the library into the \
                 hook, or copy its ESM build into the hooks folder and import it by a \
                 relative path, e.g. `./vendor/{}.js`",
                spec.rsplit('/').next().unwrap_or(spec)
            ),
            HookError::RemoteImport { spec, .. } => write!(
                f,
                "{place}: imports `{spec}`: the isolation frame loads scripts only from the \
                 hooks folder; copy the file there and import it by a relative path"
            ),
            HookError::MissingImport { spec, .. } => write!(
                f,
                "{place}: imports `{spec}`, which is not in the hooks folder (imports are \
                 relative to the importing file and cannot leave the folder)"
            ),
        }
    }
}

/// Checks each of `hooks` (paths in the hooks folder) and every file they
/// import, once each. `read` gives a file's bytes by its path in the folder.
pub(crate) fn check(
    hooks: &[String],
    read: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<(), HookError> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = hooks.iter().rev().cloned().collect();
    while let Some(file) = todo.pop() {
        if !seen.insert(file.clone()) {
            continue;
        }
        // A configured hook that is missing is the app's own error
        // (`Error::MissingHook`), reported before this check.
        let Some(bytes) = read(&file) else { continue };
        let text =
            String::from_utf8(bytes).map_err(|_| HookError::NotText { file: file.clone() })?;
        for (line, spec) in imports(&file, &text)? {
            match resolve(&file, &spec) {
                Target::File(path) if read(&path).is_some() => todo.push(path),
                Target::File(_) | Target::Outside => {
                    return Err(HookError::MissingImport { file, line, spec })
                }
                Target::Bare => return Err(HookError::BareImport { file, line, spec }),
                Target::Remote => return Err(HookError::RemoteImport { file, line, spec }),
            }
        }
    }
    Ok(())
}

/// The specifiers `text` imports (static imports, `export … from`, and
/// `import()` of a string literal), with their lines, in source order.
fn imports(file: &str, text: &str) -> Result<Vec<(usize, String)>, HookError> {
    let alloc = Allocator::default();
    let parsed = Parser::new(&alloc, text, SourceType::mjs()).parse();
    if let Some(e) = parsed.diagnostics.first() {
        let at = e.labels.first().map_or(0, |l| l.offset() as usize);
        return Err(HookError::Syntax {
            file: file.to_owned(),
            line: crate::source::line_of(text, at),
            message: e.message.to_string(),
        });
    }
    let record = &parsed.module_record;
    let mut found: Vec<(u32, String)> = record
        .requested_modules
        .iter()
        .flat_map(|(spec, uses)| uses.iter().map(move |u| (u.span.start, spec.to_string())))
        .collect();
    for d in record.dynamic_imports.iter() {
        let source = &text[d.module_request.start as usize..d.module_request.end as usize];
        if let Some(spec) = string_literal(source) {
            found.push((d.module_request.start, spec.to_owned()));
        }
    }
    found.sort();
    Ok(found
        .into_iter()
        .map(|(at, spec)| (crate::source::line_of(text, at as usize), spec))
        .collect())
}

/// The text of a quoted literal without escapes (`'./a.js'`), else `None`.
fn string_literal(source: &str) -> Option<&str> {
    let quote = source
        .chars()
        .next()
        .filter(|q| matches!(q, '\'' | '"' | '`'))?;
    let inner = source.strip_prefix(quote)?.strip_suffix(quote)?;
    // A template literal with a `$` may interpolate: not a fixed name.
    let interpolates = quote == '`' && inner.contains('$');
    (!inner.contains(['\\', quote]) && !interpolates).then_some(inner)
}

/// Where a specifier leads, from a file in the hooks folder.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// A path in the hooks folder.
    File(String),
    /// A relative path that climbs out of the folder.
    Outside,
    /// A package name.
    Bare,
    /// A URL with a scheme, or an absolute path outside `/hooks/`.
    Remote,
}

/// Resolves `spec` as the frame would, relative to `from` (both paths in
/// the hooks folder, served at `isolation://localhost/hooks/`).
fn resolve(from: &str, spec: &str) -> Target {
    let path = spec.split(['?', '#']).next().unwrap_or(spec);
    let (mut segments, rest): (Vec<&str>, &str) =
        if let Some(rest) = path.strip_prefix("isolation://localhost/hooks/") {
            (Vec::new(), rest)
        } else if let Some(rest) = path.strip_prefix("/hooks/") {
            (Vec::new(), rest)
        } else if path.starts_with("./") || path.starts_with("../") {
            let mut dir: Vec<&str> = from.split('/').collect();
            dir.pop();
            (dir, path)
        } else if path.starts_with('/') || path.contains(':') {
            return Target::Remote;
        } else {
            return Target::Bare;
        };
    for seg in rest.split('/') {
        match seg {
            "." | "" => {}
            ".." => {
                if segments.pop().is_none() {
                    return Target::Outside;
                }
            }
            s => segments.push(s),
        }
    }
    Target::File(segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(files: &[(&str, &str)], hooks: &[&str]) -> Result<(), HookError> {
        let map: HashMap<String, Vec<u8>> = files
            .iter()
            .map(|(p, t)| ((*p).to_owned(), t.as_bytes().to_vec()))
            .collect();
        let hooks: Vec<String> = hooks.iter().map(|h| (*h).to_owned()).collect();
        check(&hooks, &|p| map.get(p).cloned())
    }

    #[test]
    fn relative_imports_inside_the_folder_are_followed() {
        let files = [
            (
                "a.js",
                "import { v } from './lib/v.js';\nexport default () => v;",
            ),
            (
                "lib/v.js",
                "export * from '../util.js';\nexport const v = await import('./x.js');",
            ),
            ("util.js", "export const u = 1;"),
            ("lib/x.js", "export default 1;"),
        ];
        assert_eq!(run(&files, &["a.js"]), Ok(()));
    }

    #[test]
    fn a_bare_name_stops_with_the_fix() {
        let e = run(
            &[(
                "a.js",
                "// validation\nimport { z } from 'zod';\nexport default () => {};",
            )],
            &["a.js"],
        )
        .unwrap_err();
        assert_eq!(e.place(), "hooks/a.js:2");
        let text = e.to_string();
        assert!(
            text.contains("`zod`") && text.contains("./vendor/zod.js"),
            "{text}"
        );
    }

    #[test]
    fn remote_and_missing_imports_are_named() {
        let e = run(&[("a.js", "import 'https://cdn.example/v.js';")], &["a.js"]).unwrap_err();
        assert!(matches!(e, HookError::RemoteImport { .. }), "{e:?}");
        let e = run(&[("a.js", "\n\nimport './nope.js';")], &["a.js"]).unwrap_err();
        assert_eq!(
            e,
            HookError::MissingImport {
                file: "a.js".into(),
                line: 3,
                spec: "./nope.js".into()
            }
        );
        let e = run(
            &[("a.js", "import '../../etc/x.js';"), ("x.js", "")],
            &["a.js"],
        )
        .unwrap_err();
        assert!(matches!(e, HookError::MissingImport { .. }), "{e:?}");
    }

    #[test]
    fn an_error_in_an_imported_file_names_that_file() {
        let e = run(
            &[
                ("a.js", "import './b.js';"),
                (
                    "b.js",
                    "export const x = 1;\nexport default function (  {\n",
                ),
            ],
            &["a.js"],
        )
        .unwrap_err();
        assert!(
            matches!(e, HookError::Syntax { ref file, .. } if file == "b.js"),
            "{e:?}"
        );
    }

    #[test]
    fn a_syntax_error_has_its_line() {
        let e = run(
            &[(
                "a.js",
                "const a = 1;\nexport default function (  {\n  return a;\n}\n",
            )],
            &["a.js"],
        )
        .unwrap_err();
        let HookError::Syntax { line, .. } = e else {
            panic!("{e:?}")
        };
        assert!((2..=5).contains(&line), "line {line}");
    }

    #[test]
    fn computed_dynamic_imports_are_left_to_the_frame() {
        assert_eq!(
            run(
                &[("a.js", "const n = './x.js';\nimport(n);\nimport(`./${n}`);")],
                &["a.js"]
            ),
            Ok(())
        );
    }

    #[test]
    fn specifiers_resolve_as_the_frame_resolves_them() {
        assert_eq!(resolve("a/b.js", "./c.js"), Target::File("a/c.js".into()));
        assert_eq!(
            resolve("a/b.js", "../c.js?v=1"),
            Target::File("c.js".into())
        );
        assert_eq!(resolve("b.js", "/hooks/c.js"), Target::File("c.js".into()));
        assert_eq!(
            resolve("b.js", "isolation://localhost/hooks/d/c.js"),
            Target::File("d/c.js".into())
        );
        assert_eq!(resolve("b.js", "../c.js"), Target::Outside);
        assert_eq!(resolve("b.js", "/app.js"), Target::Remote);
        assert_eq!(resolve("b.js", "data:text/javascript,1"), Target::Remote);
        assert_eq!(resolve("b.js", "@scope/pkg"), Target::Bare);
        assert_eq!(resolve("b.js", "zod"), Target::Bare);
    }
}
