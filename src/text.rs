//! Text from outside (a step's output, a value) made safe to print on a terminal.

/// Text from a step (or a value) made safe to print on a terminal: control characters —
/// escape sequences, carriage returns, backspaces, line breaks — and the bidirectional
/// overrides that reorder what is seen are shown as escapes (`\x1b`, `\r`, `\n`,
/// `\u{202e}`), so nothing a step writes can move the cursor, retitle the window or
/// hide text. Tabs stay.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    escape(text, false)
}

/// As [`printable`], keeping line breaks (for text shown as several lines).
pub fn printable_lines(text: &str) -> std::borrow::Cow<'_, str> {
    escape(text, true)
}

fn unsafe_char(c: char, keep_newlines: bool) -> bool {
    (c.is_control() && c != '\t' && !(keep_newlines && c == '\n'))
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape(text: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| unsafe_char(c, keep_newlines)) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !unsafe_char(c, keep_newlines) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `1 step`, `2 steps`: a count with its noun (plural by `s`).
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `n` in decimal appended to `out`, without `fmt` (which costs some hundreds of
/// instructions a number: file names and variables are made so at every step's start).
pub fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
}

/// `n` in decimal, without `fmt`.
pub fn decimal(n: u64) -> String {
    let mut out = String::with_capacity(20);
    push_decimal(&mut out, n);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(
            super::printable("a\x1b]0;title\x07b\x1b[2J\rc\td\u{202e}e\u{9b}"),
            "a\\x1b]0;title\\x07b\\x1b[2J\\rc\td\\u{202e}e\\x9b"
        );
        assert_eq!(super::printable_lines("a\nb\r"), "a\nb\\r");
        assert_eq!(super::printable("plain"), "plain");
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        for n in [0, 7, 10, 4_194_304, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(super::decimal(n), n.to_string());
            let mut s = String::from("x-");
            super::push_decimal(&mut s, n);
            assert_eq!(s, format!("x-{n}"));
        }
    }
}
