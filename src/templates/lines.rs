//! The line reader: the block style templates are written in, read a line at a time —
//! mappings and sequences by indentation, one-line plain and quoted scalars, `|` and `>`
//! blocks, one-line flow collections, comments. About ten times faster than building the
//! tree from a YAML parser's events, since it never tokenises what it can read directly.
//!
//! It gives up (`None`) at the first thing outside that subset — characters YAML does not
//! print or reads as line breaks, tabs, carriage returns, anchors, tags, directives,
//! scalars over several lines, quoted keys, keys spelled twice, numbers other than the
//! quick reader's — and the quick reader (or the full one) reads the document instead.
//! Differential tests hold it to the full reader's tree, positions and all, on every
//! template, bad input and fuzz case there is, and on edits of the templates.

use super::node::{Node, Pos, Value};
use super::quick::{same_spelling, scalar_value};

/// The deepest nesting it builds (the quick reader's).
const MAX_DEPTH: usize = 60;
/// The most nodes it builds (the quick reader's).
const MAX_NODES: usize = 10_000_000;
/// The longest text it reads (the quick reader's).
const MAX_BYTES: usize = 32 * 1024 * 1024;
/// The longest plain key it reads: the full reader looks no further for a key's `:`.
const MAX_KEY: usize = 1000;

/// The tree of `text`, when the line reader is sure of it.
pub(super) fn read(text: &str) -> Option<Node> {
    let src = text.as_bytes();
    if src.len() > MAX_BYTES
        || !src
            .iter()
            .all(|&b| b == b'\n' || (0x20..0x7f).contains(&b) || b >= 0x80)
    {
        return None;
    }
    // Beyond ASCII, what YAML does not print or reads as a line break is left.
    if !text.is_ascii()
        && text.chars().any(|c| {
            matches!(
                c,
                '\u{80}'
                    ..='\u{a0}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            )
        })
    {
        return None;
    }
    let mut r = Reader {
        src,
        at: 0,
        line: 1,
        depth: 0,
        nodes: 0,
    };
    // A first `---` alone on its line starts the document; any other marker is left.
    let (indent, start) = r.peek()?;
    if indent == 0 && r.marker(start) {
        if r.rest_is_blank(start + 3) {
            r.next_line();
        } else {
            return None;
        }
    }
    let (indent, start) = r.peek()?;
    if indent != 0 || !r.is_entry(start) {
        return None;
    }
    let root = r.mapping(start, 0)?;
    r.peek().is_none().then_some(root)
}

struct Reader<'a> {
    src: &'a [u8],
    /// The start of the current line.
    at: usize,
    /// Its number, from 1.
    line: u64,
    depth: usize,
    nodes: usize,
}

/// Whether `b` may start a plain mapping key: what keys in templates are made of. Other
/// keys are left to the other readers.
fn key_start(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'$')
}

/// Whether `b` may be inside a plain key.
fn key_byte(b: u8) -> bool {
    key_start(b)
        || matches!(
            b,
            b'-' | b' ' | b'(' | b')' | b'+' | b'=' | b'~' | b';' | b'^' | b':'
        )
}

impl Reader<'_> {
    fn end_of_line(&self, from: usize) -> usize {
        self.src[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.src.len(), |i| from + i)
    }

    fn next_line(&mut self) {
        let end = self.end_of_line(self.at);
        self.at = (end + 1).min(self.src.len());
        self.line += 1;
    }

    /// The next line with content (skipping blank and comment lines): its indentation and
    /// where its content starts; `None` at the end of the text. A document marker is such a
    /// line too: the callers leave the document there.
    fn peek(&mut self) -> Option<(usize, usize)> {
        while self.at < self.src.len() {
            let end = self.end_of_line(self.at);
            let line = &self.src[self.at..end];
            let indent = line.iter().take_while(|&&b| b == b' ').count();
            if indent == line.len() || line[indent] == b'#' {
                self.next_line();
                continue;
            }
            return Some((indent, self.at + indent));
        }
        None
    }

    /// Whether a `---` or `...` marker starts at `at` (the start of a line).
    fn marker(&self, at: usize) -> bool {
        let rest = &self.src[at..];
        (rest.starts_with(b"---") || rest.starts_with(b"..."))
            && rest.get(3).is_none_or(|&b| b == b' ' || b == b'\n')
    }

    /// Whether nothing but spaces and a comment (after a space) follow `from` on its line.
    fn rest_is_blank(&self, from: usize) -> bool {
        let end = self.end_of_line(from);
        let rest = &self.src[from..end];
        let spaces = rest.iter().take_while(|&&b| b == b' ').count();
        spaces == rest.len() || (rest[spaces] == b'#' && spaces > 0)
    }

    fn pos(&self, at: usize) -> Pos {
        Pos {
            line: self.line,
            column: self.column(at) + 1,
        }
    }

    /// The column of `at` on the current line, from 0, in characters.
    fn column(&self, at: usize) -> u64 {
        let before = &self.src[self.at..at];
        if before.is_ascii() {
            before.len() as u64
        } else {
            String::from_utf8_lossy(before).chars().count() as u64
        }
    }

    fn node(&mut self, pos: Pos, value: Value) -> Option<Node> {
        self.nodes += 1;
        (self.nodes <= MAX_NODES).then_some(Node { pos, value })
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// Where the key that starts at `at` ends (its `:`), if a mapping entry starts there.
    /// A key longer than the full reader looks ahead for one (1,024 characters) is left.
    fn key_colon(&self, at: usize) -> Option<usize> {
        let line_end = self.end_of_line(at);
        let end = line_end.min(at + MAX_KEY);
        let mut i = at;
        while i < end {
            match self.src[i] {
                b':' if i + 1 == line_end || self.src[i + 1] == b' ' => return Some(i),
                b'#' if i > at && self.src[i - 1] == b' ' => return None,
                _ => i += 1,
            }
        }
        None
    }

    /// Whether a mapping entry starts at `at`.
    fn is_entry(&self, at: usize) -> bool {
        self.key_colon(at).is_some()
    }

    /// Whether a sequence entry (`-` and a space or the line's end) starts at `at`.
    fn is_item(&self, at: usize) -> bool {
        self.src[at] == b'-'
            && self
                .src
                .get(at + 1)
                .is_none_or(|&b| b == b' ' || b == b'\n')
    }

    /// A block mapping whose first key starts at `at` on the current line, in column
    /// `indent` (counted from 0); the lines of its other keys start there too.
    fn mapping(&mut self, at: usize, indent: usize) -> Option<Node> {
        self.enter()?;
        let pos = self.pos(at);
        let mut entries: Vec<(Node, Node)> = Vec::new();
        let mut at = at;
        loop {
            let (key, value) = self.entry(at, indent, &entries)?;
            entries.push((key, value));
            match self.peek() {
                None => break,
                Some((i, start)) if i == indent => {
                    if self.is_item(start) || (i == 0 && self.marker(start)) {
                        return None;
                    }
                    at = start;
                }
                Some((i, _)) if i < indent => break,
                Some(_) => return None,
            }
        }
        self.depth -= 1;
        self.node(pos, Value::Map(entries))
    }

    /// One `key: value` entry of a mapping in column `indent`, its key at `at`.
    fn entry(
        &mut self,
        at: usize,
        indent: usize,
        earlier: &[(Node, Node)],
    ) -> Option<(Node, Node)> {
        let colon = self.key_colon(at)?;
        if !key_start(self.src[at]) {
            return None;
        }
        let raw = &self.src[at..colon];
        let text = std::str::from_utf8(raw).ok()?.trim_end_matches(' ');
        if !raw.iter().all(|&b| key_byte(b)) {
            return None;
        }
        let key = self.key(at, text, earlier)?;
        let value = self.value_after(colon, indent)?;
        Some((key, value))
    }

    /// The key `text` at `at`: a string, integer or boolean that no `earlier` key of its
    /// mapping spells alike, and not a merge (`<<`).
    fn key(&mut self, at: usize, text: &str, earlier: &[(Node, Node)]) -> Option<Node> {
        if text == "<<" || earlier.iter().any(|(k, _)| same_spelling(k, text)) {
            return None;
        }
        let value = scalar_value(text)?;
        if !matches!(value, Value::Str(_) | Value::Int(_) | Value::Bool(_)) {
            return None;
        }
        self.node(self.pos(at), value)
    }

    /// The value after an indicator (`:` of a key, `-` of an item) at `indicator`, in a
    /// collection in column `indent`: on the same line, on the lines below, or none.
    fn value_after(&mut self, indicator: usize, indent: usize) -> Option<Node> {
        let end = self.end_of_line(indicator);
        let mut v = indicator + 1;
        while v < end && self.src[v] == b' ' {
            v += 1;
        }
        if v == end || self.src[v] == b'#' {
            // Nothing here: the value is below, more indented (or a sequence in the same
            // column, under a key), or there is none.
            // The full reader places an empty value at its key's `:`, or at the end of its
            // `-` line.
            let empty = Pos {
                line: self.line,
                column: self.column(if self.src[indicator] == b'-' {
                    end
                } else {
                    indicator
                }) + 1,
            };
            // Where the full reader places an empty value followed by a comment is its own.
            let commented = v < end;
            self.next_line();
            return match self.peek() {
                Some((i, start)) if i > indent => {
                    if self.is_item(start) {
                        self.sequence(start, i, false)
                    } else if self.is_entry(start) {
                        self.mapping(start, i)
                    } else {
                        None
                    }
                }
                Some((i, start))
                    if i == indent && self.src[indicator] == b':' && self.is_item(start) =>
                {
                    self.sequence(start, i, true)
                }
                _ if commented => None,
                _ => self.node(empty, Value::Null),
            };
        }
        let node = match self.src[v] {
            b'|' | b'>' => return self.block_scalar(v, indent),
            b'[' | b'{' => {
                let (node, after) = self.flow(v)?;
                self.rest_is_blank(after).then_some(node)?
            }
            b'\'' | b'"' => {
                let (text, after) = self.quoted(v)?;
                if !self.rest_is_blank(after) {
                    return None;
                }
                self.node(self.pos(v), Value::Str(text))?
            }
            _ => self.plain(v, end)?,
        };
        self.next_line();
        // A more indented line below would continue the scalar (or be an error).
        match self.peek() {
            Some((i, _)) if i > indent => None,
            _ => Some(node),
        }
    }

    /// Whether a plain scalar this reader reads starts at `at`: not with an indicator, nor
    /// with a `-` that one would take for a sequence's (in a flow collection, for the end of
    /// an item too); `(`, `;` and `<` only outside flow collections.
    fn plain_starts(&self, at: usize, flow: bool) -> bool {
        let first = self.src[at];
        let after_dash: &[u8] = if flow { b" \n,[]{}" } else { b" \n" };
        first.is_ascii_alphanumeric()
            || first >= 0x80
            || matches!(
                first,
                b'_' | b'.' | b'/' | b'$' | b'+' | b'=' | b'~' | b'^' | b'\\'
            )
            || (!flow && matches!(first, b'(' | b';' | b'<'))
            || (first == b'-'
                && self
                    .src
                    .get(at + 1)
                    .is_some_and(|b| !after_dash.contains(b)))
    }

    /// A plain scalar from `at` to the line's end or its comment.
    fn plain(&mut self, at: usize, end: usize) -> Option<Node> {
        if !self.plain_starts(at, false) {
            return None;
        }
        let mut stop = end;
        for i in at..end {
            if self.src[i] == b'#' && self.src[i - 1] == b' ' {
                stop = i;
                break;
            }
        }
        let raw = &self.src[at..stop];
        let text = std::str::from_utf8(raw).ok()?.trim_end_matches(' ');
        if text.ends_with(':') || text.contains(": ") {
            return None;
        }
        let value = scalar_value(text)?;
        self.node(self.pos(at), value)
    }

    /// A quoted scalar starting at `at`, closed on its line: its text and where it ends.
    fn quoted(&self, at: usize) -> Option<(String, usize)> {
        let end = self.end_of_line(at);
        let quote = self.src[at];
        let mut out = String::new();
        let mut i = at + 1;
        while i < end {
            let b = self.src[i];
            if b >= 0x80 || (b != quote && b != b'\\') {
                // A run of plain text (UTF-8 sequences hold no ASCII byte).
                let run = self.src[i..end]
                    .iter()
                    .position(|&c| c == quote || c == b'\\')
                    .map_or(end, |n| i + n);
                out.push_str(std::str::from_utf8(&self.src[i..run]).ok()?);
                i = run;
                continue;
            }
            if b == quote {
                if quote == b'\'' && self.src.get(i + 1) == Some(&b'\'') {
                    out.push('\'');
                    i += 2;
                    continue;
                }
                return Some((out, i + 1));
            }
            if quote == b'"' && b == b'\\' {
                let e = *self.src.get(i + 1).filter(|_| i + 1 < end)?;
                let simple = match e {
                    b'\\' => Some('\\'),
                    b'"' => Some('"'),
                    b'/' => Some('/'),
                    b'n' => Some('\n'),
                    b't' => Some('\t'),
                    b'r' => Some('\r'),
                    b'0' => Some('\0'),
                    b'a' => Some('\u{7}'),
                    b'b' => Some('\u{8}'),
                    b'e' => Some('\u{1b}'),
                    b'f' => Some('\u{c}'),
                    b'v' => Some('\u{b}'),
                    b' ' => Some(' '),
                    _ => None,
                };
                if let Some(c) = simple {
                    out.push(c);
                    i += 2;
                    continue;
                }
                let digits = match e {
                    b'x' => 2,
                    b'u' => 4,
                    _ => return None,
                };
                let hex = self
                    .src
                    .get(i + 2..i + 2 + digits)
                    .filter(|_| i + 2 + digits <= end)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                let code = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                out.push(char::from_u32(code)?);
                i += 2 + digits;
                continue;
            }
            // A backslash in single quotes is itself.
            out.push('\\');
            i += 1;
        }
        None
    }

    /// A `|` or `>` block scalar whose header is at `at`, its lines more indented than
    /// `indent`. Only clip (`|`) and strip (`|-`) chomping, no indentation indicator, no
    /// blank first line and, folded, no more indented lines.
    fn block_scalar(&mut self, at: usize, indent: usize) -> Option<Node> {
        let folded = self.src[at] == b'>';
        let mut h = at + 1;
        let strip = self.src.get(h) == Some(&b'-');
        if strip {
            h += 1;
        }
        let end = self.end_of_line(at);
        if h < end && self.src[h] != b' ' {
            return None;
        }
        if !self.rest_is_blank(h) {
            return None;
        }
        self.next_line();
        if self.at >= self.src.len() {
            return None;
        }
        let first_end = self.end_of_line(self.at);
        let k = self.src[self.at..first_end]
            .iter()
            .take_while(|&&b| b == b' ')
            .count();
        if k <= indent || self.at + k == first_end {
            return None;
        }
        let pos = Pos {
            line: self.line,
            column: k as u64 + 1,
        };
        // The content lines, with blank ones between as empty lines.
        let mut lines: Vec<&str> = Vec::new();
        let mut blanks = 0usize;
        while self.at < self.src.len() {
            let end = self.end_of_line(self.at);
            let line = &self.src[self.at..end];
            let spaces = line.iter().take_while(|&&b| b == b' ').count();
            if spaces == line.len() {
                if spaces > k {
                    return None;
                }
                blanks += 1;
                self.next_line();
                continue;
            }
            if spaces < k {
                break;
            }
            if folded && spaces > k {
                return None;
            }
            lines.extend(std::iter::repeat_n("", blanks));
            blanks = 0;
            lines.push(std::str::from_utf8(&line[k..]).ok()?);
            self.next_line();
        }
        let mut text = String::new();
        if folded {
            let mut breaks = 0usize;
            for (n, line) in lines.iter().enumerate() {
                if line.is_empty() {
                    breaks += 1;
                    continue;
                }
                if n > 0 {
                    if breaks == 0 {
                        text.push(' ');
                    }
                    text.extend(std::iter::repeat_n('\n', breaks));
                }
                breaks = 0;
                text.push_str(line);
            }
        } else {
            text = lines.join("\n");
        }
        if !strip {
            text.push('\n');
        }
        // What follows must be in a column the enclosing collections know.
        match self.peek() {
            Some((i, _)) if i > indent => None,
            _ => self.node(pos, Value::Str(text)),
        }
    }

    /// A flow collection starting at `at` (`[` or `{`), closed on its line: the node and
    /// where it ends.
    fn flow(&mut self, at: usize) -> Option<(Node, usize)> {
        self.enter()?;
        let end = self.end_of_line(at);
        let pos = self.pos(at);
        let close = if self.src[at] == b'[' { b']' } else { b'}' };
        let mut i = at + 1;
        let skip = |this: &Self, mut i: usize| {
            while i < end && this.src[i] == b' ' {
                i += 1;
            }
            i
        };
        let mut items = Vec::new();
        let mut entries: Vec<(Node, Node)> = Vec::new();
        i = skip(self, i);
        // An empty collection closes at once.
        let mut closed = i < end && self.src[i] == close;
        while !closed {
            if i >= end {
                return None;
            }
            if close == b'}' {
                let key_at = i;
                if !key_start(self.src[i]) {
                    return None;
                }
                let mut k = i;
                while k < end && key_byte(self.src[k]) && !matches!(self.src[k], b' ' | b':') {
                    k += 1;
                }
                if k >= end
                    || k - key_at > MAX_KEY
                    || self.src[k] != b':'
                    || self.src.get(k + 1) != Some(&b' ')
                {
                    return None;
                }
                let text = std::str::from_utf8(&self.src[key_at..k]).ok()?;
                let key = self.key(key_at, text, &entries)?;
                i = skip(self, k + 1);
                if i >= end || matches!(self.src[i], b',' | b'}') {
                    return None;
                }
                let (value, after) = self.flow_node(i, end)?;
                entries.push((key, value));
                i = after;
            } else {
                let (item, after) = self.flow_node(i, end)?;
                items.push(item);
                i = after;
            }
            i = skip(self, i);
            if i >= end {
                return None;
            }
            match self.src[i] {
                b',' => {
                    i = skip(self, i + 1);
                    if i < end && matches!(self.src[i], b']' | b'}') {
                        return None;
                    }
                }
                b if b == close => closed = true,
                _ => return None,
            }
        }
        self.depth -= 1;
        let value = if close == b']' {
            Value::Seq(items)
        } else {
            Value::Map(entries)
        };
        Some((self.node(pos, value)?, i + 1))
    }

    /// One value inside a flow collection, at `at`: the node and where it ends.
    fn flow_node(&mut self, at: usize, end: usize) -> Option<(Node, usize)> {
        match self.src[at] {
            b'[' | b'{' => self.flow(at),
            b'\'' | b'"' => {
                let (text, after) = self.quoted(at)?;
                Some((self.node(self.pos(at), Value::Str(text))?, after))
            }
            _ => {
                if !self.plain_starts(at, true) {
                    return None;
                }
                let mut i = at;
                while i < end
                    && !matches!(self.src[i], b',' | b'[' | b']' | b'{' | b'}' | b':' | b'#')
                {
                    i += 1;
                }
                if i < end && matches!(self.src[i], b'[' | b'{' | b':' | b'#') {
                    return None;
                }
                let text = std::str::from_utf8(&self.src[at..i])
                    .ok()?
                    .trim_end_matches(' ');
                let value = scalar_value(text)?;
                Some((self.node(self.pos(at), value)?, i))
            }
        }
    }

    /// A block sequence whose first `-` is at `at`, in column `indent`; `indentless` when it
    /// sits in its key's column (`key:` then `- item` below it).
    fn sequence(&mut self, at: usize, indent: usize, indentless: bool) -> Option<Node> {
        self.enter()?;
        // Placed at its `-`, or, sitting in its key's column, where its first item's text
        // starts on that line (an empty first item is left).
        let pos = if indentless {
            let end = self.end_of_line(at);
            let first = (at + 1..end).find(|&i| self.src[i] != b' ')?;
            if self.src[first] == b'#' {
                return None;
            }
            self.pos(first)
        } else {
            self.pos(at)
        };
        let mut items = Vec::new();
        let mut at = at;
        loop {
            let end = self.end_of_line(at);
            let mut v = at + 1;
            while v < end && self.src[v] == b' ' {
                v += 1;
            }
            let item = if v < end && self.src[v] != b'#' && self.is_item(v) {
                return None;
            } else if v < end && self.src[v] != b'#' && key_start(self.src[v]) && self.is_entry(v) {
                self.mapping(v, v - self.at)?
            } else {
                self.value_after(at, indent)?
            };
            items.push(item);
            match self.peek() {
                Some((i, start)) if i == indent && self.is_item(start) => at = start,
                Some((i, _)) if i > indent => return None,
                _ => break,
            }
        }
        self.depth -= 1;
        self.node(pos, Value::Seq(items))
    }
}

#[cfg(test)]
mod tests {
    use super::read;

    /// The line reader's tree, where it gives one, is the full reader's, positions and all;
    /// whether it gave one.
    fn agrees(text: &str, name: &str) -> bool {
        super::super::quick::tests::agrees_by(read, "line", text, name)
    }

    /// Every template in the repository, the bad-input catalogue and the fuzz corpus: where
    /// the line reader gives a tree, it is the full reader's. It must take the repository's
    /// YAML templates, or the fast path is not the path they run through.
    #[test]
    fn the_readers_agree_on_every_template_there_is() {
        let (taken, files) =
            super::super::quick::tests::over_corpus(read, "line", &["yml", "yaml"]);
        // Most of the fuzz corpus is mangled past the block style; the templates are not.
        assert!(taken > files / 10, "{taken} of {files}");
    }

    /// Small edits of the repository's templates with the characters YAML gives meaning
    /// to: wherever the line reader still gives a tree, it is the full reader's.
    #[test]
    fn edited_templates_read_alike() {
        // The YAML templates of the repository and of the bad-input catalogue.
        let mut seeds: Vec<String> = super::super::quick::tests::corpus()
            .iter()
            .filter(|p| !p.to_string_lossy().contains("/fuzz/"))
            .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect();
        seeds.sort();
        seeds.push(
            "a: |\n  x\n\n  y\nb: >-\n  p\n  q\n\n\n  r\nc: [1, 'x', \"y\", {d: e}]\n".into(),
        );
        const PIECES: &[&str] = &[
            " ", "  ", ":", ": ", "-", "- ", "#", " #", "|", "|-", ">", "'", "\"", "''", "[", "]",
            "{", "}", ",", "\n", "\n  ", "\n- ", "a", "1", "-1", "0.5", "~", "true", "\\", "\\n",
            "\\u00e9", "é", "---\n", "...", "&", "*", "!", "?", "<<", "x: y", "0x1", "1e3", ".inf",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut random = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let (mut tried, mut taken) = (0, 0);
        for round in 0..8000 {
            let mut text = seeds[round % seeds.len()].clone();
            for _ in 0..1 + random(3) {
                let mut at = random(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let mut cut = at + random(4).min(text.len() - at);
                while !text.is_char_boundary(cut) {
                    cut += 1;
                }
                let piece = if random(3) == 0 {
                    ""
                } else {
                    PIECES[random(PIECES.len())]
                };
                text.replace_range(at..cut, piece);
            }
            tried += 1;
            taken += usize::from(agrees(&text, &format!("edit {round}")));
        }
        eprintln!("the line reader read {taken} of {tried} edited templates");
        assert!(taken > tried / 8, "{taken} of {tried}");
    }

    #[test]
    fn the_block_style_reads_as_the_full_reader_reads_it() {
        for yaml in [
            "a: 1",
            "a:\nb: 1\n",
            "a:   \n  # c\nb: 1\n",
            "a: |\n  x\n  y\nb: 1\n",
            "a: |-\n  x\n\n  y\n\nb: 1\n",
            "a: >-\n  x\n  y\n\n  z\nb: 1\n",
            "a: >\n  x\n  y\n",
            "s:\n- x\n- y: 1\n  z: 2\n-\n- [a, {b: c}]\n",
            "s:\n  - name: a\n    command: 'x'\n",
            "a: \"q\\tq\"\nb:\n",
            "---\na: 1\n",
            "# head\na: 1 # note\nb: 'x' # note\nc: [1, 2] # note\n",
            "a:\n  b:\n    c: d\n  e: f\ng: h\n",
            "steps:\n  - name: x\n    depends_on: [a, b]\n    env: { A: '1', B: x }\n",
            "a: -v\nb: --flag=1\nc: ./run.sh\nd: 1.0.0\ne: 30s\n",
            "a: 'it''s'\nb: \"\\u00e9\\x41\"\n",
            "a: []\nb: {}\n",
            "a: echo {x} [y]\n",
            "a: x#y\n",
            "s:\n  -\n    a: 1\n  - b\n",
            "a: |\n    indented\n      more\n    back\nb: 2\n",
            "# a comment — with a dash\na: é and ü # ça\nb: 'ß' # x\nc: [é, \"ö\"]\n",
            "a: 'back\\slash'\nb: \"a\\\\b\"\n",
        ] {
            assert!(agrees(yaml, yaml), "the line reader should read {yaml:?}");
        }
        for yaml in [
            "a: b: c\n",
            "a: x\n  y\n",
            "a: 'x\n  y'\n",
            "a: 1\na: 2\n",
            "a: &x 1\n",
            "a: !!str 1\n",
            "a: |+\n  x\n",
            "a: |2\n  x\n",
            "'a': 1\n",
            "? a\n: 1\n",
            "a: 1\r\n",
            "\ta: 1\n",
            "- a\n",
            "a: 1\n---\nb: 2\n",
            "a: [1,]\n",
            "a: [1\n",
            "a: 0x1f\n",
            "<<: {a: 1}\n",
            "",
            "# only\n",
            "a: |\n    indented\n  less\n",
            &format!("{}: 1\n", "k".repeat(1100)),
            &format!("a{}: 1\n", " ".repeat(1100)),
            &format!("x: {{{}: 1}}\n", "k".repeat(1100)),
            "a: \u{feff}\n",
            "a: x\u{85}y\n",
        ] {
            assert!(!agrees(yaml, yaml), "the line reader should leave {yaml:?}");
        }
    }
}
