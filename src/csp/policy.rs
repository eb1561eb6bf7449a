//! Content-Security-Policy text: parse, complete, render.
//!
//! The grammar is the CSP3 one at its simplest: directives separated by `;`,
//! each a name followed by whitespace-separated sources. Names are
//! case-insensitive; when one repeats, the first wins (as browsers do).

/// A parsed policy, directives in their original order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Policy {
    directives: Vec<(String, Vec<String>)>,
}

impl Policy {
    pub(crate) fn parse(text: &str) -> Self {
        let mut directives: Vec<(String, Vec<String>)> = Vec::new();
        for part in text.split(';') {
            let mut tokens = part.split_ascii_whitespace();
            let Some(name) = tokens.next() else { continue };
            let name = name.to_ascii_lowercase();
            if directives.iter().any(|(n, _)| *n == name) {
                continue;
            }
            directives.push((name, tokens.map(str::to_owned).collect()));
        }
        Self { directives }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&[String]> {
        self.directives
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.as_slice())
    }

    /// Every directive with its sources, for the audit.
    pub(crate) fn directives(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.directives
            .iter()
            .map(|(n, s)| (n.as_str(), s.as_slice()))
    }

    fn get_mut_or_fallback(&mut self, name: &str) -> &mut Vec<String> {
        if let Some(i) = self.directives.iter().position(|(n, _)| n == name) {
            return &mut self.directives[i].1;
        }
        // A missing fetch directive falls back to default-src: start from it
        // so adding a source does not widen what the app allowed.
        let base = self
            .get("default-src")
            .map(<[String]>::to_vec)
            .unwrap_or_else(|| vec!["'self'".to_owned()]);
        self.directives.push((name.to_owned(), base));
        let last = self.directives.len() - 1;
        &mut self.directives[last].1
    }

    /// Adds `source` to `directive` unless it is already there. A directive
    /// that is `'none'` becomes just `source`.
    pub(crate) fn add_source(&mut self, directive: &str, source: &str) {
        let sources = self.get_mut_or_fallback(directive);
        if sources.len() == 1 && sources[0] == "'none'" {
            sources.clear();
        }
        if !sources.iter().any(|s| s == source) {
            sources.push(source.to_owned());
        }
    }

    /// Sets `directive` to `sources` if the app did not set it.
    pub(crate) fn default_directive(&mut self, directive: &str, sources: &[&str]) {
        if self.get(directive).is_none() {
            self.directives.push((
                directive.to_owned(),
                sources.iter().map(|s| (*s).to_owned()).collect(),
            ));
        }
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        for (name, sources) in &self.directives {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(name);
            for s in sources {
                out.push(' ');
                out.push_str(s);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders() {
        let p = Policy::parse("default-src 'self';  img-src  data: 'self' ;");
        assert_eq!(p.render(), "default-src 'self'; img-src data: 'self'");
    }

    #[test]
    fn first_of_repeated_directives_wins_and_names_are_case_insensitive() {
        let p = Policy::parse("Script-Src 'none'; script-src *");
        assert_eq!(p.get("script-src"), Some(&["'none'".to_owned()][..]));
    }

    #[test]
    fn adding_to_a_missing_directive_starts_from_default_src() {
        let mut p = Policy::parse("default-src 'self' https://cdn.example");
        p.add_source("script-src", "'nonce-abc'");
        assert_eq!(
            p.get("script-src").unwrap(),
            ["'self'", "https://cdn.example", "'nonce-abc'"]
        );
    }

    #[test]
    fn adding_to_none_replaces_it() {
        let mut p = Policy::parse("style-src 'none'");
        p.add_source("style-src", "'nonce-x'");
        assert_eq!(p.get("style-src").unwrap(), ["'nonce-x'"]);
    }

    #[test]
    fn defaults_do_not_override_the_app() {
        let mut p = Policy::parse("object-src 'self'");
        p.default_directive("object-src", &["'none'"]);
        p.default_directive("base-uri", &["'none'"]);
        assert_eq!(p.render(), "object-src 'self'; base-uri 'none'");
    }
}
