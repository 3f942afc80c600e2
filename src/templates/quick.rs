//! The quick reader: a positioned tree built straight from the YAML parser's events, for the
//! documents whose meaning it can be sure of. It gives up (`None`) on everything else —
//! tags, anchors and aliases, merge keys, directives, duplicate keys, numbers other than
//! decimal integers and finite floats, syntax errors, extremes of size and depth — and the
//! full reader
//! (serde-saphyr over the same parser) reads those, and says what is wrong. A differential
//! test holds the two to the same tree on every template, bad input and fuzz case there is.

use std::borrow::Cow;

use granit_parser::{Event, Parser, ScalarStyle, Span};

use super::node::{Node, Pos, Value};

/// The deepest nesting the quick reader builds (the full reader stops at 64 levels).
const MAX_DEPTH: usize = 60;
/// The most nodes it builds (the full reader's budget is 20 million).
const MAX_NODES: usize = 10_000_000;
/// The longest text it reads (the full reader's budgets are counted in scalar bytes).
const MAX_BYTES: usize = 32 * 1024 * 1024;

/// The tree of `text`, when the quick reader is sure of it.
pub(super) fn read(text: &str) -> Option<Node> {
    if text.len() > MAX_BYTES || text.starts_with('\u{feff}') {
        return None;
    }
    let options = granit_parser::options! { emit_comments: false };
    let mut events = Parser::new_from_str_with_options(text, options);
    let mut next = || -> Option<(Event<'_>, Span)> { events.next()?.ok() };
    if !matches!(next()?.0, Event::StreamStart) {
        return None;
    }
    if !matches!(next()?.0, Event::DocumentStart(_, None)) {
        return None;
    }
    let mut builder = Builder::default();
    let (first, span) = next()?;
    let root = builder.node(first, span, &mut next)?;
    if !matches!(next()?.0, Event::DocumentEnd) || !matches!(next()?.0, Event::StreamEnd) {
        return None;
    }
    Some(root)
}

#[derive(Default)]
struct Builder {
    depth: usize,
    nodes: usize,
}

impl Builder {
    /// The node that `event` starts, its children read from `next`.
    fn node<'a>(
        &mut self,
        event: Event<'a>,
        span: Span,
        next: &mut impl FnMut() -> Option<(Event<'a>, Span)>,
    ) -> Option<Node> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return None;
        }
        let pos = Pos {
            line: span.start.line() as u64,
            column: span.start.col() as u64 + 1,
        };
        let value = match event {
            Event::Scalar(text, style, 0, None) => scalar(text, style)?,
            Event::SequenceStart(_, 0, None) => {
                self.enter()?;
                let mut items = Vec::new();
                loop {
                    let (event, span) = next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, span, next)?);
                }
                self.depth -= 1;
                Value::Seq(items)
            }
            Event::MappingStart(_, 0, None) => {
                self.enter()?;
                let mut entries: Vec<(Node, Node)> = Vec::new();
                loop {
                    let (event, span) = next()?;
                    if matches!(event, Event::MappingEnd) {
                        break;
                    }
                    let key = self.key(event, span, &entries)?;
                    let (event, span) = next()?;
                    let value = self.node(event, span, next)?;
                    entries.push((key, value));
                }
                self.depth -= 1;
                Value::Map(entries)
            }
            _ => return None,
        };
        Some(Node { pos, value })
    }

    /// A mapping's key: a plain string, integer or boolean that no earlier key of the
    /// mapping spells alike, and not a merge (`<<`).
    fn key(&mut self, event: Event<'_>, span: Span, earlier: &[(Node, Node)]) -> Option<Node> {
        let Event::Scalar(text, style, 0, None) = event else {
            return None;
        };
        if text == "<<" || earlier.iter().any(|(k, _)| same_spelling(k, &text)) {
            return None;
        }
        let key = self.node(Event::Scalar(text, style, 0, None), span, &mut || None)?;
        matches!(key.value, Value::Str(_) | Value::Int(_) | Value::Bool(_)).then_some(key)
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }
}

/// Whether key `key` is written as `text` (whatever its kind): such keys are left to the
/// full reader, which decides whether they are duplicates.
pub(super) fn same_spelling(key: &Node, text: &str) -> bool {
    match &key.value {
        Value::Str(s) => s == text,
        Value::Int(i) => i.to_string() == text,
        Value::Bool(b) => text.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        _ => true,
    }
}

/// A plain scalar's value, as [`scalar`] resolves it.
pub(super) fn scalar_value(text: &str) -> Option<Value> {
    scalar(Cow::Borrowed(text), ScalarStyle::Plain)
}

/// An untagged scalar's value, as YAML 1.2's core schema with strict booleans resolves it;
/// `None` for the numbers this reader leaves to the full one.
fn scalar(text: Cow<'_, str>, style: ScalarStyle) -> Option<Value> {
    if style != ScalarStyle::Plain {
        return Some(Value::Str(text.into_owned()));
    }
    let t: &str = &text;
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    if !looks_numeric(t) {
        return Some(Value::Str(text.into_owned()));
    }
    // Plain decimal integers: `0`, `-12`, `340`; the other integer forms (`+1`, `012`,
    // `0x1f`, `1_000`) go to the full reader.
    let digits = t.strip_prefix('-').unwrap_or(t);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && digits.len() <= 18;
    if canonical && !(t.starts_with('-') && digits == "0") {
        return t.parse::<i64>().ok().map(Value::Int);
    }
    // A finite float in a spelling no integer form takes (`0.1`, `2.5e-3`, `.5`): read as
    // the full reader reads it, with Rust's float parser.
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    let integer_form = matches!(
        unsigned.get(..2),
        Some("0x" | "0X" | "0o" | "0O" | "0b" | "0B")
    ) || unsigned.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && !integer_form => Some(Value::Float(v)),
        _ => None,
    }
}

/// Whether a plain scalar may be a number as the full reader reads them: a decimal integer
/// (`1_000` too), one with a radix (`0x1f`), anything Rust reads as a float (`1e3`, `.5`,
/// `inf`), or YAML's `.inf` and `.nan`. `1.0.0`, `30s` and `./run.sh` are strings.
fn looks_numeric(t: &str) -> bool {
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    let Some(&first) = unsigned.as_bytes().first() else {
        return false;
    };
    if !(first.is_ascii_digit() || matches!(first, b'.' | b'i' | b'I' | b'n' | b'N')) {
        return false;
    }
    matches!(
        unsigned.get(..2),
        Some("0x" | "0X" | "0o" | "0O" | "0b" | "0B")
    ) || first.is_ascii_digit() && unsigned.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        || t.parse::<f64>().is_ok()
        || matches!(
            unsigned,
            ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN"
        )
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::node::parse_fully;
    use super::*;

    /// The quick reader's tree, where it gives one, is the full reader's, positions and all;
    /// whether it gave one.
    fn agrees(text: &str, name: &str) -> bool {
        agrees_by(read, "quick", text, name)
    }

    /// Reader `reader`'s tree (`read`), where it gives one, is the full reader's, positions
    /// and all; whether it gave one.
    pub(in super::super) fn agrees_by(
        read: fn(&str) -> Option<Node>,
        reader: &str,
        text: &str,
        name: &str,
    ) -> bool {
        let Some(tree) = read(text) else {
            return false;
        };
        match parse_fully(text) {
            Ok(full) => assert_eq!(tree, full, "{name}: the readers disagree on\n{text}"),
            Err(e) => {
                panic!("{name}: the {reader} reader took what the full one refuses ({e}):\n{text}")
            }
        }
        true
    }

    #[test]
    fn scalars_resolve_as_the_full_reader_resolves_them() {
        let took = |yaml: &str| agrees(yaml, yaml);
        for yaml in [
            "a: 1",
            "a: -12",
            "a: 0",
            "a: true",
            "a: False",
            "a: NO",
            "a: yes",
            "a: ~",
            "a: null",
            "a:",
            "a: '12'",
            "a: \"true\"",
            "a: 30s",
            "a: 2.5m",
            "a: ./run.sh",
            "a: .env",
            "a: -v",
            "a: --flag=1",
            "a: 1st",
            "a: [1, x, {b: c}]",
            "a: |\n  line\n",
            "a: >\n  folded\n  text\n",
            "1: one\n2: two",
            "true: t",
            "a: 'it''s'",
            "a: \"tab\\there\"",
            "a: 1.0.0",
            "a: 10.0.0.1",
            "a: 0.1",
            "a: 1e3",
            "a: -2.5E-3",
            "a: .5",
            "a: 1.5",
            "a: infra",
            "a: none",
            "a: .",
            "steps:\n  - name: x\n    command: 'true'\n",
        ] {
            assert!(took(yaml), "the quick reader should read {yaml:?}");
        }
        // Left to the full reader, which reads them (or refuses them) its own way.
        for yaml in [
            "a: 0x1f",
            "a: 1_000",
            "a: -.inf",
            "a: .NaN",
            "a: +1",
            "a: 012",
            "a: -0",
            "a: 99999999999999999999",
            "a: 1e999",
            "a: !!str 12",
            "a: &x 1\nb: *x",
            "<<: {a: 1}",
            "a: 1\na: 2",
            "a: 1\n'a': 2",
            "%YAML 1.2\n---\na: 1",
            "a: 1\n---\nb: 2",
            "a: [1",
            "? [a]\n: 1",
            "\u{feff}a: 1",
            "",
            "a: inf",
            "a: -Infinity",
            "a: 0b101",
            "0x1f: x",
        ] {
            assert!(!took(yaml), "the quick reader should leave {yaml:?}");
        }
    }

    /// Odd documents, whichever reader takes them: the two agree.
    #[test]
    fn odd_documents_read_alike() {
        for yaml in [
            "---\n",
            "~",
            "--- a: 1\n",
            "---\na: 1\n...\n",
            "a: 1 # note\n",
            "# only a comment\n",
            "a:\n  - \n  - x\n",
            "[1, 2]\n",
            "'just text'\n",
            "a: {}\nb: []\n",
            "a: b: c\n",
            "a: 'x\n  y'\n",
            "a: \"\\u00e9\"\n",
            "? a\n: 1\n",
            "a: 1\r\nb: 2\r\n",
            "\ta: 1\n",
            "a: !!int 3\n",
            "a: *x\n",
            "a: [&x 1, *x]\n",
            "key with spaces: v\n",
            "a: -1\nb: -0.5\n",
        ] {
            agrees(yaml, yaml);
        }
    }

    /// Every template in the repository, the bad-input catalogue and the fuzz corpus: where
    /// the quick reader gives a tree, it is the full reader's. It must take the repository's
    /// templates, or the quick path is not the path they run through.
    #[test]
    fn the_readers_agree_on_every_template_there_is() {
        let (taken, files) = over_corpus(read, "quick", &["yml", "yaml", "json"]);
        assert!(taken > files / 4, "{taken} of {files}");
    }

    /// Reader `reader` (`read`) over the corpus, held to the full reader wherever it gives a
    /// tree: how many files it read, of how many. It must read every repository template
    /// whose extension is one of `templates`, or the fast path is not the path they run
    /// through.
    pub(in super::super) fn over_corpus(
        read: fn(&str) -> Option<Node>,
        reader: &str,
        templates: &[&str],
    ) -> (usize, usize) {
        let files = corpus();
        let (mut taken, mut workflows, mut workflows_taken) = (0, 0, 0);
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let name = path.display().to_string();
            let took = agrees_by(read, reader, &text, &name);
            taken += usize::from(took);
            let template = templates
                .iter()
                .any(|ext| path.extension().is_some_and(|e| e == *ext));
            if name.contains("/workflows/") && template {
                workflows += 1;
                workflows_taken += usize::from(took);
            }
        }
        assert!(
            workflows >= 4 && workflows_taken == workflows,
            "the {reader} reader read {workflows_taken} of {workflows} templates"
        );
        eprintln!("the {reader} reader read {taken} of {} files", files.len());
        (taken, files.len())
    }

    /// Every template in the repository, the bad-input catalogue and the fuzz corpus.
    pub(in super::super) fn corpus() -> Vec<std::path::PathBuf> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["workflows", "tests/fixtures", "fuzz/corpus"] {
            collect(&root.join(dir), &mut files);
        }
        assert!(files.len() > 1000, "{} files", files.len());
        files
    }

    fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                collect(&path, out);
            } else {
                out.push(path);
            }
        }
    }
}
