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

/// What the word after a redirection operator is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// A file to read or write: no argument of the command.
    File,
    /// A here-string (`<<<`): the command's standard input.
    Stdin,
}

/// A command context: the top level, `$( … )` or a subshell's `( … )`.
#[derive(Debug, Default)]
pub(super) struct Cmd {
    /// Ends at an unmatched `)` (command substitution).
    closes: bool,
    parens: usize,
    /// `case … esac` open here.
    cases: usize,
    /// After `case WORD`, waiting for its `in`.
    case_in: bool,
    /// Reading a `case` pattern (after `in` or `;;`, up to its `)`).
    pattern: bool,
    /// Inside `[[ … ]]`: where its words start, and the references in it, refused at its
    /// end if it compares numbers (which bash evaluates).
    test: Option<(usize, Vec<(Seen, usize)>)>,
    /// This context is the code of a program (`eval "$( … )"`) or an arithmetic
    /// expression: every reference in it is refused, for this reason.
    taint: Option<Code>,
    /// The finished words of the current simple command, as far as they are plain text.
    words: Vec<String>,
    /// The word being read, if one has started.
    word: Option<String>,
    /// The word being read has quotes in it, so it is no keyword.
    word_quoted: bool,
    /// The next word is a redirection's target; the word being read is one.
    target_next: Option<Target>,
    target: Option<Target>,
    /// References in this command's here-strings: its standard input.
    stdin: Vec<Seen>,
    /// References accepted in this pipeline stage, and in the stages piping into it.
    stage: Vec<Seen>,
    piped: Vec<Seen>,
    /// The references in each open `( … )` or `{ … }`, which reach a pipe after it.
    groups: Vec<Vec<Seen>>,
}

/// Words that start a command without being it.
const LEADERS: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "{", "time", "-p", ";;", "coproc",
];

impl Cmd {
    fn push_char(&mut self, c: char) {
        self.start_word();
        if let Some(w) = &mut self.word {
            w.push(c);
        }
    }

    fn start_word(&mut self) {
        if self.word.is_none() {
            self.word = Some(String::new());
            self.target = self.target_next.take();
        }
    }

    /// Whether the word being read stands where a command starts.
    fn at_command_start(&self) -> bool {
        // `function f {`: the group is the function's body.
        let words = match self.words.as_slice() {
            [f, _, rest @ ..] if f == "function" => rest,
            all => all,
        };
        words.iter().all(|w| LEADERS.contains(&w.as_str()))
    }

    fn accept(&mut self, seen: Seen) {
        for g in &mut self.groups {
            g.push(seen.clone());
        }
        match self.target {
            Some(Target::Stdin) => self.stdin.push(seen),
            _ => self.stage.push(seen),
        }
    }

    /// The word read ends; what it ends when it is a keyword. The references of a `[[ … ]]`
    /// that compares numbers come back, to be refused.
    fn end_word(&mut self) -> Vec<Seen> {
        let Some(w) = self.word.take() else {
            return Vec::new();
        };
        let quoted = std::mem::take(&mut self.word_quoted);
        if self.target.take().is_some() {
            return Vec::new();
        }
        let keyword = !quoted && w.chars().all(|c| c != OPAQUE);
        if keyword && self.pattern {
            if w == "esac" {
                self.cases = self.cases.saturating_sub(1);
                self.pattern = false;
                self.words.clear();
            }
            // A pattern is no command.
            return Vec::new();
        }
        if keyword && self.case_in && w == "in" {
            self.case_in = false;
            self.pattern = true;
            self.words.clear();
            return Vec::new();
        }
        let mut refused = Vec::new();
        if keyword && self.at_command_start() {
            match w.as_str() {
                "case" => {
                    self.cases += 1;
                    self.case_in = true;
                }
                "esac" => self.cases = self.cases.saturating_sub(1),
                "[[" => self.test = Some((self.words.len() + 1, Vec::new())),
                "{" => self.groups.push(Vec::new()),
                "}" => {
                    if let Some(g) = self.groups.pop() {
                        self.stage.extend(g);
                    }
                }
                _ => {}
            }
        }
        if keyword
            && w == "]]"
            && let Some((start, seen)) = self.test.take()
        {
            // A reference is an operand of a number comparison when an operator is next
            // to it (`{{ … }} -eq 1`, `1 -lt {{ … }}`, `-v {{ … }}`).
            const NUMERIC: &[&str] = &["-eq", "-ne", "-lt", "-le", "-gt", "-ge"];
            let words = &self.words;
            refused = seen
                .into_iter()
                .filter(|(_, k)| {
                    let at = |i: Option<usize>| {
                        i.filter(|i| *i >= start)
                            .and_then(|i| words.get(i))
                            .map(String::as_str)
                    };
                    let before = at(k.checked_sub(1));
                    let after = at(Some(k + 1));
                    before.is_some_and(|b| NUMERIC.contains(&b) || b == "-v")
                        || after.is_some_and(|a| NUMERIC.contains(&a))
                })
                .map(|(s, _)| s)
                .collect();
        }
        self.words.push(w);
        refused
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
    Cmd(Box<Cmd>),
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
    Subscript {
        depth: usize,
    },
    /// The elements of `a=( … )`; `[k]=v` gives a subscript.
    ArrayLit,
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
const TEST: &str = "is inside a `[[ … ]]` that compares numbers (-eq, -lt, …), where bash evaluates a value as an arithmetic expression, running any command in it";
const TEST_HINT: &str = "use `[ … ]`, where numbers are compared without being evaluated";

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
    /// Variables the text declares integers (`declare -i n`): an assignment to one is an
    /// arithmetic expression.
    int_vars: Vec<String>,
    /// Text that `sh` and `bash` read differently came before (`$'…\'…'`).
    ambiguous: bool,
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
            stack: vec![Frame::Cmd(Box::default())],
            heredocs: Vec::new(),
            escaped: false,
            after_dollar: false,
            int_vars: Vec::new(),
            ambiguous: false,
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
        if self.ambiguous {
            return self.refuse(
                p,
                raw,
                "follows `$'…'` text holding `\\'`, which `sh` (dash) and bash read differently, so tasker cannot tell where it stands",
                "write that text without `$'…'`",
            );
        }
        if !self.int_vars.is_empty() {
            return self.refuse(
                p,
                raw,
                &format!(
                    "follows `declare -i {}`: bash evaluates whatever reaches an integer variable as an arithmetic expression, running any command in it",
                    self.int_vars.join(" ")
                ),
                ARITH_HINT,
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
        // Evaluated or run with all it holds: an arithmetic expression, a subscript, an
        // offset, or a command context that is another program's code.
        for frame in self.stack.iter().rev() {
            let (why, hint) = match frame {
                Frame::Arith { .. } => (
                    "is in an arithmetic expression, which the shell evaluates itself (bash runs any command in it)".to_owned(),
                    ARITH_HINT.to_owned(),
                ),
                Frame::Subscript { .. } => {
                    (format!("is in an array subscript, {ARITH}"), ARITH_HINT.to_owned())
                }
                Frame::Param {
                    part: Part::Offset, ..
                } => (format!("is a substring offset, {ARITH}"), ARITH_HINT.to_owned()),
                Frame::Cmd(cmd) => match &cmd.taint {
                    Some(code) => (code.reason.clone(), code.hint.clone()),
                    None => continue,
                },
                _ => continue,
            };
            return self.refuse(p, raw, &why, &hint);
        }
        let quoted = match self.stack.last() {
            Some(Frame::Cmd(_) | Frame::ArrayLit) => false,
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
            _ => false,
        };
        if matches!(self.stack.last(), Some(Frame::Cmd(_))) {
            self.cmd().start_word();
        }
        let cmd = self.cmd();
        let current = cmd.word.clone().unwrap_or_default();
        let assigning = cmd.target.is_none()
            && cmd
                .words
                .iter()
                .all(|w| LEADERS.contains(&w.as_str()) || programs::is_assignment(w));
        if assigning && !cmd.word_quoted && opens_subscript(&current) {
            return self.refuse(
                p,
                raw,
                &format!("is in an array subscript, {ARITH}"),
                ARITH_HINT,
            );
        }
        let in_array = self.stack.iter().any(|f| matches!(f, Frame::ArrayLit));
        let cmd = self.cmd();
        let declaring = programs::declares(&cmd.words);
        if (assigning || declaring.is_some())
            && let Some((name, _)) = current.split_once('=')
            && let Some(why) = assigned(name.trim_end_matches('+'))
        {
            return self.refuse(p, raw, &why, ARITH_HINT);
        }
        if declaring == Some(true) && quoted && !in_array && current.contains('=') {
            return self.refuse(
                p,
                raw,
                "is in a quoted array value of `declare -a`, which bash reads as code for the array",
                "write the array's elements unquoted in parentheses: a=(\"{{ … }}\")",
            );
        }
        if cmd.target.is_none()
            && let Some(Code { reason, hint, .. }) = programs::code_word(&cmd.words, &current)
        {
            return self.refuse(p, raw, &reason, &hint);
        }
        cmd.push_char(OPAQUE);
        let seen = Seen {
            line: p.line,
            column: p.column,
            raw: raw.to_owned(),
        };
        let index = cmd.words.len();
        if let Some((_, in_test)) = &mut cmd.test {
            in_test.push((seen.clone(), index));
        }
        cmd.accept(seen);
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
            Frame::AnsiC => {
                // `dash` has no `$'…'`: there `\'` ends the quotes, in bash it does not.
                // Past such text the two shells read differently, so nothing after it is
                // trusted.
                if c == '\\' && self.peek(0) == Some('\'') {
                    self.ambiguous = true;
                }
                if c != '\''
                    && c != '\\'
                    && let Some(cmd) = self.word_of_quote()
                {
                    cmd.push_char(c);
                }
                self.quoted(c, '\'', true);
            }
            Frame::Backtick => self.quoted(c, '`', true),
            Frame::Param { in_double, part } => {
                let (in_double, part) = (*in_double, *part);
                self.param_char(c, in_double, part);
            }
            Frame::Subscript { depth } => {
                self.out.push(c);
                match c {
                    '[' => *depth += 1,
                    ']' if *depth > 0 => *depth -= 1,
                    ']' => {
                        self.stack.pop();
                    }
                    _ => self.nested(c),
                }
            }
            Frame::ArrayLit => {
                self.out.push(c);
                match c {
                    ')' => {
                        self.stack.pop();
                    }
                    '[' => self.stack.push(Frame::Subscript { depth: 0 }),
                    _ => self.nested(c),
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
                } else {
                    self.nested(c);
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

    /// In an arithmetic expression, a subscript or an array's elements: what quotes,
    /// `$` and backticks open (whatever is in them is refused with their container).
    fn nested(&mut self, c: char) {
        match c {
            '\\' => self.escaped = true,
            '"' => self.stack.push(Frame::Double),
            '\'' => self.stack.push(Frame::Single),
            '`' => self.stack.push(Frame::Backtick),
            '$' => self.dollar(false),
            _ => {}
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
                '#' | '!' | '@' | '*' if first => return,
                '[' => {
                    self.stack.push(Frame::Subscript { depth: 0 });
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
                // Inside a word that is code (`eval "$( … )"`), all of it is code.
                let taint = self.enclosing_code();
                self.stack.push(Frame::Cmd(Box::new(Cmd {
                    closes: true,
                    taint,
                    ..Cmd::default()
                })));
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

    /// Whether the word being read in the innermost command is code for some program.
    fn enclosing_code(&mut self) -> Option<Code> {
        let cmd = self.cmd();
        let current = cmd.word.clone().unwrap_or_default();
        programs::code_word(&cmd.words, &current)
    }

    /// The end of a simple command; `pipe` when a `|` feeds the next one.
    fn end_command(&mut self, pipe: bool) {
        let cmd = self.cmd();
        let mut refused: Vec<(Seen, String)> = cmd
            .end_word()
            .into_iter()
            .map(|s| (s, TEST.to_owned()))
            .collect();
        let reader = (!cmd.piped.is_empty() || !cmd.stdin.is_empty())
            .then(|| programs::reads_code_from_stdin(&cmd.words))
            .flatten();
        let ints = programs::declared_integers(&cmd.words);
        let mut piped = std::mem::take(&mut cmd.piped);
        let stdin = std::mem::take(&mut cmd.stdin);
        let stage = std::mem::take(&mut cmd.stage);
        cmd.words.clear();
        cmd.target_next = None;
        if pipe {
            // Every stage before a reader reaches it (`echo … | cat | sh`).
            cmd.piped = piped.iter().cloned().chain(stage).collect();
        }
        if let Some(program) = reader {
            piped.extend(stdin);
            let why = format!("reaches `{program}` on its standard input, which it reads as code");
            refused.extend(piped.into_iter().map(|s| (s, why.clone())));
        }
        self.int_vars.extend(ints);
        for (s, why) in refused {
            let hint = if why == TEST { TEST_HINT } else { STDIN_HINT };
            self.refuse_at(s.line, s.column, &s.raw, &why, hint);
        }
    }

    /// A word ends at a blank; a `[[ … ]]` that compares numbers has its references refused.
    pub(super) fn end_word(&mut self) {
        for s in self.cmd().end_word() {
            self.refuse_at(s.line, s.column, &s.raw, TEST, TEST_HINT);
        }
    }

    /// A redirection operator (its first character written): the rest of it, and the next
    /// word as its target.
    fn redirection(&mut self, c: char) {
        let cmd = self.cmd();
        // `2>`, `{fd}>`: the word names a descriptor, not an argument.
        if cmd.word.as_deref().is_some_and(|w| {
            (!w.is_empty() && w.chars().all(|d| d.is_ascii_digit()))
                || (w.starts_with('{') && w.ends_with('}') && w.len() > 2)
        }) {
            cmd.word = None;
        }
        if self.peek(0) == Some('(') {
            // bash's process substitution, `<( … )` or `>( … )`: a command in a word.
            self.take(1);
            let taint = self.enclosing_code();
            self.cmd().push_char(OPAQUE);
            self.stack.push(Frame::Cmd(Box::new(Cmd {
                closes: true,
                taint,
                ..Cmd::default()
            })));
            return;
        }
        self.end_word();
        let target = if c == '<' && self.peek(0) == Some('<') && self.peek(1) == Some('<') {
            self.take(2);
            Target::Stdin
        } else {
            if matches!(self.peek(0), Some('>' | '&' | '|')) {
                self.take(1);
            }
            Target::File
        };
        self.cmd().target_next = Some(target);
    }

    fn cmd_char(&mut self, c: char) {
        self.out.push(c);
        if self.cmd().test.is_some() && "&|()<>".contains(c) {
            // Inside `[[ … ]]` these are its operators and grouping, not the shell's.
            self.end_word();
            let mut op = c.to_string();
            if matches!((c, self.peek(0)), ('&', Some('&')) | ('|', Some('|'))) {
                self.take(1);
                op.push(c);
            }
            let cmd = self.cmd();
            cmd.words.push(op);
            return;
        }
        match c {
            ' ' | '\t' => self.end_word(),
            '\n' => {
                self.end_command(false);
                self.heredoc_bodies();
            }
            // In a `case` pattern, `|` separates alternatives.
            '|' if self.cmd().pattern => self.end_word(),
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
            // bash's `&>`.
            '&' if self.peek(0) == Some('>') => self.redirection('&'),
            ';' => {
                let ends_item = matches!(self.peek(0), Some(';' | '&'));
                if ends_item {
                    self.take(1);
                    if self.peek(0) == Some('&') {
                        self.take(1);
                    }
                }
                self.end_command(false);
                let cmd = self.cmd();
                if ends_item && cmd.cases > 0 {
                    // `;;`: the next `case` pattern follows.
                    cmd.pattern = true;
                }
            }
            '&' => self.end_command(false),
            '(' => {
                let cmd = self.cmd();
                if cmd.pattern {
                    // A pattern's leading `(`.
                    return;
                }
                // `((` where a command starts (also after `if`, `while`, `!`, …, and as
                // `for ((`) is bash's arithmetic command.
                let arith = cmd.word.is_none()
                    && (cmd.at_command_start()
                        || cmd.words.last().is_some_and(|w| w == "for" || w == "-p"));
                let array = cmd.word.as_deref().is_some_and(|w| w.ends_with('='));
                if arith && self.peek(0) == Some('(') {
                    self.take(1);
                    self.stack.push(Frame::Arith {
                        depth: 0,
                        close: ')',
                    });
                    return;
                }
                if array {
                    // `a=( … )`: an array's elements.
                    self.stack.push(Frame::ArrayLit);
                    return;
                }
                self.end_command(false);
                let cmd = self.cmd();
                cmd.parens += 1;
                cmd.groups.push(Vec::new());
            }
            ')' => {
                // The word before may be the `esac` that ends the patterns.
                self.end_word();
                let cmd = self.cmd();
                if cmd.pattern {
                    // The end of a `case` pattern: the commands of its branch follow.
                    cmd.pattern = false;
                    cmd.words.clear();
                    return;
                }
                self.end_command(false);
                let cmd = self.cmd();
                if cmd.parens > 0 {
                    cmd.parens -= 1;
                    if let Some(g) = cmd.groups.pop() {
                        cmd.stage.extend(g);
                    }
                } else if cmd.closes {
                    self.stack.pop();
                }
            }
            '<' if self.peek(0) == Some('<') && self.peek(1) != Some('<') => self.heredoc(),
            '<' | '>' => self.redirection(c),
            '#' if self.cmd().word.is_none() => self.stack.push(Frame::Comment),
            '\\' => {
                self.cmd().start_word();
                self.escaped = true;
            }
            '\'' => {
                let cmd = self.cmd();
                cmd.start_word();
                cmd.word_quoted = true;
                self.stack.push(Frame::Single);
            }
            '"' => {
                let cmd = self.cmd();
                cmd.start_word();
                cmd.word_quoted = true;
                self.stack.push(Frame::Double);
            }
            '`' => {
                self.cmd().push_char(OPAQUE);
                self.stack.push(Frame::Backtick);
            }
            '$' if matches!(self.peek(0), Some('\'' | '"')) => {
                // `$'eval'`, `$"sh"`: quoted text, which may name a program.
                let cmd = self.cmd();
                cmd.start_word();
                cmd.word_quoted = true;
                self.dollar(false);
            }
            '$' => {
                self.cmd().push_char(OPAQUE);
                self.dollar(false);
            }
            c => self.cmd().push_char(c),
        }
    }
}

/// Why assigning a value to the variable `name` would run it: a variable bash reads as
/// code (`BASH_ENV`, `PS4`, `PROMPT_COMMAND`, …) or picks programs by (`PATH`,
/// `LD_PRELOAD`). (Integer variables are refused before: see [`Lexer::reference`].)
fn assigned(name: &str) -> Option<String> {
    const CODE: &[&str] = &[
        "BASH_ENV",
        "ENV",
        "PS1",
        "PS2",
        "PS3",
        "PS4",
        "PROMPT_COMMAND",
        "SHELLOPTS",
        "BASHOPTS",
        "PATH",
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "LD_AUDIT",
        "PYTHONSTARTUP",
        "PYTHONPATH",
        "PERL5OPT",
        "PERL5LIB",
        "RUBYOPT",
        "NODE_OPTIONS",
        "GIT_SSH_COMMAND",
        "EDITOR",
        "VISUAL",
        "PAGER",
    ];
    (CODE.contains(&name) || name.starts_with("BASH_FUNC_")).then(|| {
        format!(
            "is assigned to `{name}`, which the shell or the programs it starts read as code or as where to find code"
        )
    })
}

/// Whether `word` (as far as it is read) is an assignment to an array element whose
/// subscript is still open: `a[` … before `]`.
fn opens_subscript(word: &str) -> bool {
    word.split_once('[').is_some_and(|(name, rest)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && rest.matches('[').count() + 1 > rest.matches(']').count()
    })
}
