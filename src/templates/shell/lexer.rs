//! Reads shell text as `sh` would — quotes, `$( )`, `${ }`, here-documents, comments, line
//! continuations, `case` patterns, pipelines — to know the context of each `{{ … }}`,
//! replace it by a variable where the shell expands it without reading it again, and
//! refuse it where that cannot hold.

use super::programs::{self, Code};
use super::{Placed, Refused, Tok, var_name};
use crate::templates::interpolate::Ref;

/// A word part that is not plain text (an expansion), so the word names no program.
const OPAQUE: char = '\u{1}';

/// A reference accepted in a pipeline stage, refused after all if the next stage reads its
/// input as code (`echo "{{ … }}" | sh`).
#[derive(Debug, Clone)]
struct Seen {
    line: usize,
    column: usize,
    raw: String,
}

/// A command context: the top level, `$( … )` or a subshell's `( … )`.
#[derive(Debug, Default)]
pub(super) struct Cmd {
    /// Ends at an unmatched `)` (command substitution).
    closes: bool,
    parens: usize,
    /// `case … esac` open here: a `)` ends a pattern, not the context.
    cases: usize,
    /// Inside `[[ … ]]`.
    test: bool,
    /// The finished words of the current simple command, as far as they are plain text.
    words: Vec<String>,
    /// The word being read, if one has started.
    word: Option<String>,
    /// References accepted in this pipeline stage, and in the stage piping into it.
    stage: Vec<Seen>,
    piped: Vec<Seen>,
}

impl Cmd {
    fn push_char(&mut self, c: char) {
        self.word.get_or_insert_with(String::new).push(c);
    }

    fn start_word(&mut self) {
        self.word.get_or_insert_with(String::new);
    }

    pub(super) fn end_word(&mut self) {
        let Some(w) = self.word.take() else { return };
        if self.words.is_empty() || (self.words.len() == 1 && self.words[0] == "!") {
            match w.as_str() {
                "case" => self.cases += 1,
                "esac" => self.cases = self.cases.saturating_sub(1),
                "[[" => self.test = true,
                _ => {}
            }
        }
        if w == "]]" {
            self.test = false;
        }
        self.words.push(w);
    }
}

/// `${ … }`: which part is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The parameter's name (`#` and `!` may lead it).
    Name,
    /// A substring's offset or length (`${x:1:2}`): bash evaluates it.
    Offset,
    /// The word of `:-`, `#`, `%`, `/` …
    Word,
}

#[derive(Debug)]
enum Frame {
    Cmd(Cmd),
    Double,
    Single,
    AnsiC,
    Backtick,
    /// `${ … }`; inside double quotes, `'` is an ordinary character.
    Param {
        in_double: bool,
        part: Part,
    },
    /// An array subscript, `[ … ]`: bash evaluates it.
    Subscript,
    /// `$(( … ))`, `(( … ))` or `$[ … ]`, ended by `close` at depth 0.
    Arith {
        depth: usize,
        close: char,
    },
    Comment,
}

const SINGLE: &str = "is inside single quotes, where the shell does not expand it";
const SINGLE_HINT: &str = "put it outside the single quotes, or in double quotes: \"…{{ … }}…\"";
const ARITH: &str = "which bash evaluates as an arithmetic expression, running any command in it";
const ARITH_HINT: &str = "check it is a number first, in a variable: n=\"{{ … }}\"; case $n in ''|*[!0-9]*) exit 2;; esac";
const STDIN_HINT: &str = "pass the value as an argument, or in the environment ($TASKER_CONTEXT_*)";

pub(super) struct Lexer<'t> {
    pub(super) toks: &'t [Placed],
    pub(super) at: usize,
    pub(super) out: String,
    pub(super) refs: Vec<Ref>,
    /// Variables numbered before this text's (other arguments of the same program).
    skip: usize,
    pub(super) refused: Vec<Refused>,
    stack: Vec<Frame>,
    /// Here-documents whose bodies start after the next newline: (delimiter, strip tabs,
    /// quoted).
    pub(super) heredocs: Vec<(String, bool, bool)>,
    /// The previous character was a `\` that escapes this one.
    pub(super) escaped: bool,
    /// The previous character was a `$` that opened nothing.
    after_dollar: bool,
}

impl<'t> Lexer<'t> {
    pub(super) fn new(toks: &'t [Placed], skip: usize, capacity: usize) -> Self {
        Lexer {
            toks,
            at: 0,
            out: String::with_capacity(capacity),
            refs: Vec::new(),
            skip,
            refused: Vec::new(),
            stack: vec![Frame::Cmd(Cmd::default())],
            heredocs: Vec::new(),
            escaped: false,
            after_dollar: false,
        }
    }

    /// Whether a `\` and a newline join lines here (everywhere but in single quotes,
    /// `$'…'` and comments).
    fn joins_lines(&self) -> bool {
        !matches!(
            self.stack.last(),
            Some(Frame::Single | Frame::AnsiC | Frame::Comment)
        )
    }

    fn is_continuation(&self, i: usize) -> bool {
        matches!(self.toks.get(i).map(|p| &p.tok), Some(Tok::Char('\\')))
            && matches!(self.toks.get(i + 1).map(|p| &p.tok), Some(Tok::Char('\n')))
    }

    /// Past the line continuations at the reading position: the shell removes them before
    /// it reads, so they are left out.
    pub(super) fn skip_continuations(&mut self) {
        if !self.escaped && self.joins_lines() {
            while self.is_continuation(self.at) {
                self.at += 2;
            }
        }
    }

    /// The character `ahead` places on, line continuations left out.
    pub(super) fn peek(&self, ahead: usize) -> Option<char> {
        let joins = self.joins_lines();
        let mut i = self.at;
        let mut n = ahead;
        loop {
            while joins && self.is_continuation(i) {
                i += 2;
            }
            if n == 0 {
                return match self.toks.get(i).map(|p| &p.tok) {
                    Some(Tok::Char(c)) => Some(*c),
                    _ => None,
                };
            }
            i += 1;
            n -= 1;
        }
    }

    /// Write the next `n` characters as they are (line continuations left out).
    pub(super) fn take(&mut self, n: usize) {
        for _ in 0..n {
            self.skip_continuations();
            if let Some(Tok::Char(c)) = self.toks.get(self.at).map(|p| &p.tok) {
                self.out.push(*c);
            }
            self.at += 1;
        }
    }

    /// The innermost command context.
    pub(super) fn cmd(&mut self) -> &mut Cmd {
        for frame in self.stack.iter_mut().rev() {
            if let Frame::Cmd(c) = frame {
                return c;
            }
        }
        unreachable!("the bottom frame is a command context")
    }

    /// The command context a quote opened directly in, if any: its word takes the quote's
    /// plain text (`"sh" -c` names `sh`).
    fn word_of_quote(&mut self) -> Option<&mut Cmd> {
        let n = self.stack.len();
        match self.stack.get_mut(n.checked_sub(2)?) {
            Some(Frame::Cmd(c)) => Some(c),
            _ => None,
        }
    }

    fn refuse_at(&mut self, line: usize, column: usize, raw: &str, reason: &str, hint: &str) {
        self.refused.push(Refused {
            line,
            column,
            reference: raw.to_owned(),
            reason: reason.to_owned(),
            hint: hint.to_owned(),
        });
    }

    pub(super) fn refuse(&mut self, p: &Placed, raw: &str, reason: &str, hint: &str) {
        self.refuse_at(p.line, p.column, raw, reason, hint);
        self.out.push_str(raw);
    }

    /// The variable for `r`, numbered in order of first use.
    fn var(&mut self, r: &Ref) -> String {
        let n = match self.refs.iter().position(|x| x == r) {
            Some(i) => i + 1,
            None => {
                self.refs.push(r.clone());
                self.refs.len()
            }
        };
        var_name(self.skip + n)
    }

    pub(super) fn run(&mut self) {
        loop {
            self.skip_continuations();
            let Some(p) = self.toks.get(self.at) else {
                break;
            };
            self.at += 1;
            match &p.tok {
                Tok::Ref { r, raw } => {
                    self.reference(p, r, raw);
                    self.after_dollar = false;
                }
                Tok::Char(c) => {
                    let c = *c;
                    self.after_dollar = false;
                    if std::mem::take(&mut self.escaped) {
                        self.out.push(c);
                        match self.stack.last_mut() {
                            Some(Frame::Cmd(cmd)) => cmd.push_char(c),
                            Some(Frame::Double) => {
                                if let Some(cmd) = self.word_of_quote() {
                                    cmd.push_char(c);
                                }
                            }
                            _ => {}
                        }
                        continue;
                    }
                    self.char(c);
                }
            }
        }
        // The text ends a command too: its pipeline's last stage may read code.
        self.end_command(false);
    }

    fn reference(&mut self, p: &Placed, r: &Ref, raw: &str) {
        if std::mem::take(&mut self.escaped) {
            return self.refuse(
                p,
                raw,
                "follows a `\\`, so the shell would not expand it",
                "remove the backslash",
            );
        }
        if self.after_dollar {
            return self.refuse(
                p,
                raw,
                "follows a `$`, which would change what the shell reads",
                "remove the `$`: the value is given as it is",
            );
        }
        let quoted = match self.stack.last() {
            Some(Frame::Cmd(_)) => false,
            Some(Frame::Double) => true,
            Some(Frame::Param {
                part: Part::Word, ..
            }) => false,
            Some(Frame::Param {
                part: Part::Name, ..
            }) => {
                return self.refuse(
                    p,
                    raw,
                    "is in a parameter's name",
                    "write the name in the template; the value goes outside `${…}`",
                );
            }
            Some(Frame::Param {
                part: Part::Offset, ..
            }) => {
                return self.refuse(
                    p,
                    raw,
                    &format!("is a substring offset, {ARITH}"),
                    ARITH_HINT,
                );
            }
            Some(Frame::Subscript) => {
                return self.refuse(
                    p,
                    raw,
                    &format!("is in an array subscript, {ARITH}"),
                    ARITH_HINT,
                );
            }
            Some(Frame::Arith { .. }) => {
                return self.refuse(
                    p,
                    raw,
                    "is in an arithmetic expression, which the shell evaluates itself (bash runs any command in it)",
                    ARITH_HINT,
                );
            }
            Some(Frame::Comment) => {
                self.out.push_str(raw);
                return;
            }
            Some(Frame::Single) => return self.refuse(p, raw, SINGLE, SINGLE_HINT),
            Some(Frame::AnsiC) => {
                return self.refuse(
                    p,
                    raw,
                    "is inside `$'…'`, where the shell does not expand it",
                    "put it outside the quotes, or in double quotes: \"…{{ … }}…\"",
                );
            }
            Some(Frame::Backtick) => {
                return self.refuse(
                    p,
                    raw,
                    "is inside backticks, where tasker cannot keep it from being read as code",
                    "write the command substitution as `$(…)`",
                );
            }
            None => false,
        };
        if matches!(self.stack.last(), Some(Frame::Cmd(_))) {
            self.cmd().start_word();
        }
        let cmd = self.cmd();
        if cmd.test {
            return self.refuse(
                p,
                raw,
                "is inside `[[ … ]]`, where bash evaluates a value compared with -eq, -lt, … as an arithmetic expression, running any command in it",
                "use `[ … ]`, where values are compared as text or whole numbers",
            );
        }
        let current = cmd.word.clone().unwrap_or_default();
        if opens_subscript(&current) {
            return self.refuse(
                p,
                raw,
                &format!("is in an array subscript, {ARITH}"),
                ARITH_HINT,
            );
        }
        if let Some(Code { reason, hint, .. }) = programs::code_word(&cmd.words, &current) {
            return self.refuse(p, raw, &reason, &hint);
        }
        cmd.push_char(OPAQUE);
        cmd.stage.push(Seen {
            line: p.line,
            column: p.column,
            raw: raw.to_owned(),
        });
        let var = self.var(r);
        // Quoted, the value stays one word whatever it holds; inside `"…"` it already is.
        if quoted {
            self.out.push_str(&format!("${{{var}}}"));
        } else {
            self.out.push_str(&format!("\"${{{var}}}\""));
        }
    }

    fn char(&mut self, c: char) {
        let Some(top) = self.stack.last_mut() else {
            return;
        };
        match top {
            Frame::Cmd(_) => self.cmd_char(c),
            Frame::Double => {
                self.out.push(c);
                match c {
                    '\\' => self.escaped = true,
                    '"' => {
                        self.stack.pop();
                        return;
                    }
                    '`' => self.stack.push(Frame::Backtick),
                    '$' => self.dollar(true),
                    _ => {}
                }
                if let Some(cmd) = self.word_of_quote() {
                    cmd.push_char(if matches!(c, '$' | '`') { OPAQUE } else { c });
                }
            }
            Frame::Single => {
                self.out.push(c);
                if c == '\'' {
                    self.stack.pop();
                } else if let Some(cmd) = self.word_of_quote() {
                    cmd.push_char(c);
                }
            }
            Frame::AnsiC => self.quoted(c, '\'', true),
            Frame::Backtick => self.quoted(c, '`', true),
            Frame::Param { in_double, part } => {
                let (in_double, part) = (*in_double, *part);
                self.param_char(c, in_double, part);
            }
            Frame::Subscript => {
                self.out.push(c);
                if c == ']' {
                    self.stack.pop();
                }
            }
            Frame::Arith { depth, close } => {
                self.out.push(c);
                let open = if *close == ']' { '[' } else { '(' };
                if c == open {
                    *depth += 1;
                } else if c == *close && *depth > 0 {
                    *depth -= 1;
                } else if c == *close {
                    let close = *close;
                    self.stack.pop();
                    if close == ')' && self.peek(0) == Some(')') {
                        self.take(1);
                    }
                }
            }
            Frame::Comment => {
                if c == '\n' {
                    self.stack.pop();
                    self.cmd_char(c);
                } else {
                    self.out.push(c);
                }
            }
        }
    }

    /// A character inside quotes that nothing opens within: `close` ends them; with
    /// `escapes`, a `\` makes the next character ordinary.
    fn quoted(&mut self, c: char, close: char, escapes: bool) {
        self.out.push(c);
        if escapes && c == '\\' {
            self.escaped = true;
        } else if c == close {
            self.stack.pop();
        }
    }

    /// A character of `${ … }`.
    fn param_char(&mut self, c: char, in_double: bool, part: Part) {
        self.out.push(c);
        let set = |lexer: &mut Self, to: Part| {
            if let Some(Frame::Param { part, .. }) = lexer.stack.last_mut() {
                *part = to;
            }
        };
        if c == '}' {
            self.stack.pop();
            return;
        }
        if part == Part::Name {
            let first = self.out.ends_with(&format!("${{{c}"));
            match c {
                c if c.is_ascii_alphanumeric() || c == '_' => return,
                '#' | '!' if first => return,
                '[' => {
                    self.stack.push(Frame::Subscript);
                    return;
                }
                ':' if !matches!(self.peek(0), Some('-' | '=' | '?' | '+')) => {
                    set(self, Part::Offset);
                    return;
                }
                _ => set(self, Part::Word),
            }
        }
        match c {
            '\\' => self.escaped = true,
            '"' => self.stack.push(Frame::Double),
            '\'' if !in_double => self.stack.push(Frame::Single),
            '`' => self.stack.push(Frame::Backtick),
            '$' => self.dollar(in_double),
            _ => {}
        }
    }

    /// After a `$`: what it opens, if anything.
    fn dollar(&mut self, in_double: bool) {
        match (self.peek(0), self.peek(1)) {
            (Some('('), Some('(')) => {
                self.take(2);
                self.stack.push(Frame::Arith {
                    depth: 0,
                    close: ')',
                });
            }
            (Some('('), _) => {
                self.take(1);
                self.stack.push(Frame::Cmd(Cmd {
                    closes: true,
                    ..Cmd::default()
                }));
            }
            (Some('['), _) => {
                self.take(1);
                self.stack.push(Frame::Arith {
                    depth: 0,
                    close: ']',
                });
            }
            (Some('{'), _) => {
                self.take(1);
                self.stack.push(Frame::Param {
                    in_double,
                    part: Part::Name,
                });
            }
            (Some('\''), _) if !in_double => {
                self.take(1);
                self.stack.push(Frame::AnsiC);
            }
            (Some('"'), _) if !in_double => {
                self.take(1);
                self.stack.push(Frame::Double);
            }
            _ => self.after_dollar = true,
        }
    }

    /// The end of a simple command; `pipe` when a `|` feeds the next one.
    fn end_command(&mut self, pipe: bool) {
        let cmd = self.cmd();
        cmd.end_word();
        let reader = (!cmd.piped.is_empty())
            .then(|| programs::reads_code_from_stdin(&cmd.words))
            .flatten();
        let piped = std::mem::take(&mut cmd.piped);
        let stage = std::mem::take(&mut cmd.stage);
        cmd.words.clear();
        if pipe {
            cmd.piped = stage;
        }
        if let Some(program) = reader {
            for s in piped {
                self.refuse_at(
                    s.line,
                    s.column,
                    &s.raw,
                    &format!("is piped into `{program}`, which reads its input as code"),
                    STDIN_HINT,
                );
            }
        }
    }

    fn cmd_char(&mut self, c: char) {
        self.out.push(c);
        match c {
            ' ' | '\t' => self.cmd().end_word(),
            '\n' => {
                self.end_command(false);
                self.heredoc_bodies();
            }
            '|' if self.peek(0) == Some('|') => {
                self.take(1);
                self.end_command(false);
            }
            '|' => {
                if self.peek(0) == Some('&') {
                    self.take(1);
                }
                self.end_command(true);
            }
            '&' if self.peek(0) == Some('&') => {
                self.take(1);
                self.end_command(false);
            }
            ';' | '&' => self.end_command(false),
            '(' => {
                let cmd = self.cmd();
                // `((` where a command starts (also after `if`, `while`, `!`, …, and as
                // `for ((`) is bash's arithmetic command.
                let at_start = cmd.word.is_none()
                    && cmd.words.iter().all(|w| {
                        matches!(
                            w.as_str(),
                            "if" | "then"
                                | "else"
                                | "elif"
                                | "do"
                                | "while"
                                | "until"
                                | "!"
                                | "{"
                                | "for"
                                | "time"
                        )
                    });
                if at_start && self.peek(0) == Some('(') {
                    // bash's `(( … ))`.
                    self.take(1);
                    self.stack.push(Frame::Arith {
                        depth: 0,
                        close: ')',
                    });
                    return;
                }
                self.end_command(false);
                self.cmd().parens += 1;
            }
            ')' => {
                self.end_command(false);
                let cmd = self.cmd();
                if cmd.parens > 0 {
                    cmd.parens -= 1;
                } else if cmd.cases > 0 {
                    // The end of a `case` pattern.
                } else if cmd.closes {
                    self.stack.pop();
                }
            }
            '<' if self.peek(0) == Some('<') && self.peek(1) == Some('<') => {
                // A here-string: the next word is data.
                self.take(2);
                self.cmd().end_word();
            }
            '<' if self.peek(0) == Some('<') => self.heredoc(),
            '<' | '>' => self.cmd().end_word(),
            '#' if self.cmd().word.is_none() => self.stack.push(Frame::Comment),
            '\\' => {
                self.cmd().start_word();
                self.escaped = true;
            }
            '\'' => {
                self.cmd().start_word();
                self.stack.push(Frame::Single);
            }
            '"' => {
                self.cmd().start_word();
                self.stack.push(Frame::Double);
            }
            '`' => {
                self.cmd().push_char(OPAQUE);
                self.stack.push(Frame::Backtick);
            }
            '$' => {
                self.cmd().push_char(OPAQUE);
                self.dollar(false);
            }
            c => self.cmd().push_char(c),
        }
    }
}

/// Whether `word` (as far as it is read) is an assignment to an array element whose
/// subscript is still open: `a[` … before `]`.
fn opens_subscript(word: &str) -> bool {
    word.split_once('[').is_some_and(|(name, rest)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !rest.contains(']')
    })
}
