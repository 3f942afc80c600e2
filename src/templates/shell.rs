//! `{{ … }}` references in shell command lines. A value never becomes shell text: each
//! reference is replaced by an environment variable (`TASKER_REF_1`, …) holding the value,
//! which the shell expands — quoted, so it stays one word — and never reads again as code.
//! This holds by construction wherever the reference sits. Where the shell would not expand
//! the variable (single quotes, `$'…'`, a here-document, backticks), would evaluate its
//! value (`$((…))`), or hands the text to a program that reads it as code (`eval`,
//! `sh -c`, `python -c`, `awk`, `sed`, `ssh`, …), the reference is refused when the
//! template is checked, naming its line and column in the command.

use super::interpolate::{self, Ref, Scope};
use super::model::Program;

/// The variable that holds the value of the `n`-th (1-based) distinct reference.
pub fn var_name(n: usize) -> String {
    format!("TASKER_REF_{n}")
}

/// A shell line with its references replaced by variables: `refs[n - 1]` is held by
/// [`var_name`]`(n)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    pub line: String,
    pub refs: Vec<Ref>,
}

/// A reference refused where it sits, located in the command's own text (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub line: usize,
    pub column: usize,
    /// The reference as written, `{{ context.x }}`.
    pub reference: String,
    pub reason: String,
    pub hint: String,
}

impl Refused {
    /// Where, as a message prefix: `{{ context.x }} at column 12` (and the line when the
    /// command has several).
    pub fn message(&self, multiline: bool) -> String {
        let place = if multiline {
            format!("line {}, column {}", self.line, self.column)
        } else {
            format!("column {}", self.column)
        };
        format!("`{}` at {place} {}", self.reference, self.reason)
    }
}

/// One unit of the command: a character, or a whole `{{ … }}`.
#[derive(Debug, Clone)]
enum Tok {
    Char(char),
    Ref { r: Ref, raw: String },
}

#[derive(Debug, Clone)]
struct Placed {
    tok: Tok,
    line: usize,
    column: usize,
}

fn tokens(text: &str) -> Result<Vec<Placed>, String> {
    let mut out = Vec::with_capacity(text.len());
    let (mut line, mut column) = (1, 1);
    let mut rest = text;
    while !rest.is_empty() {
        if rest.starts_with("{{") {
            let close = rest[2..]
                .find("}}")
                .ok_or_else(|| format!("unclosed `{{{{` in {text:?}"))?;
            let raw = &rest[..close + 4];
            let r = match interpolate::parse(raw)?.pop() {
                Some(interpolate::Piece::Ref(r)) => r,
                _ => return Err(format!("bad reference {raw:?}")),
            };
            out.push(Placed {
                tok: Tok::Ref {
                    r,
                    raw: raw.to_owned(),
                },
                line,
                column,
            });
            column += raw.chars().count();
            rest = &rest[raw.len()..];
            continue;
        }
        let c = rest.chars().next().unwrap_or_default();
        out.push(Placed {
            tok: Tok::Char(c),
            line,
            column,
        });
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
        rest = &rest[c.len_utf8()..];
    }
    Ok(out)
}

/// A command context: the top level, `$( … )` or a subshell's `( … )`.
#[derive(Debug, Default)]
struct Cmd {
    /// Ends at an unmatched `)` (command substitution).
    closes: bool,
    parens: usize,
    /// The finished words of the current simple command, as far as they are plain text.
    words: Vec<String>,
    /// The word being read, if one has started.
    word: Option<String>,
}

impl Cmd {
    fn end_word(&mut self) {
        if let Some(w) = self.word.take() {
            self.words.push(w);
        }
    }

    fn end_command(&mut self) {
        self.end_word();
        self.words.clear();
    }

    fn push_char(&mut self, c: char) {
        self.word.get_or_insert_with(String::new).push(c);
    }

    fn start_word(&mut self) {
        self.word.get_or_insert_with(String::new);
    }
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
    },
    /// `$(( … ))`.
    Arith {
        depth: usize,
    },
    Comment,
}

/// Rewrite `text` for `sh -c`: every reference becomes a variable, or is refused.
pub fn compile(text: &str) -> Result<Compiled, Vec<Refused>> {
    compile_from(text, 0)
}

/// As [`compile`], numbering the variables after the first `skip`.
fn compile_from(text: &str, skip: usize) -> Result<Compiled, Vec<Refused>> {
    let toks = match tokens(text) {
        Ok(t) => t,
        Err(reason) => {
            return Err(vec![Refused {
                line: 1,
                column: 1,
                reference: String::new(),
                reason,
                hint: String::new(),
            }]);
        }
    };
    let mut lexer = Lexer {
        toks: &toks,
        at: 0,
        out: String::with_capacity(text.len() + 32),
        refs: Vec::new(),
        skip,
        refused: Vec::new(),
        stack: vec![Frame::Cmd(Cmd::default())],
        heredocs: Vec::new(),
        escaped: false,
    };
    lexer.run();
    if lexer.refused.is_empty() {
        Ok(Compiled {
            line: lexer.out,
            refs: lexer.refs,
        })
    } else {
        Err(lexer.refused)
    }
}

struct Lexer<'t> {
    toks: &'t [Placed],
    at: usize,
    out: String,
    refs: Vec<Ref>,
    /// Variables numbered before this text's (other arguments of the same program).
    skip: usize,
    refused: Vec<Refused>,
    stack: Vec<Frame>,
    /// Here-documents whose bodies start after the next newline: (delimiter, strip tabs).
    heredocs: Vec<(String, bool)>,
    /// The previous character was a `\` that escapes this one.
    escaped: bool,
}

const SINGLE: &str = "is inside single quotes, where the shell does not expand it";
const SINGLE_HINT: &str = "put it outside the single quotes, or in double quotes: \"…{{ … }}…\"";

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> Option<char> {
        match self.toks.get(self.at + ahead).map(|p| &p.tok) {
            Some(Tok::Char(c)) => Some(*c),
            _ => None,
        }
    }

    /// The innermost command context.
    fn cmd(&mut self) -> &mut Cmd {
        for frame in self.stack.iter_mut().rev() {
            if let Frame::Cmd(c) = frame {
                return c;
            }
        }
        unreachable!("the top frame is a command context")
    }

    fn refuse(&mut self, p: &Placed, raw: &str, reason: &str, hint: &str) {
        self.refused.push(Refused {
            line: p.line,
            column: p.column,
            reference: raw.to_owned(),
            reason: reason.to_owned(),
            hint: hint.to_owned(),
        });
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

    fn run(&mut self) {
        while self.at < self.toks.len() {
            let p = &self.toks[self.at];
            self.at += 1;
            match &p.tok {
                Tok::Ref { r, raw } => self.reference(p, r, raw),
                Tok::Char(c) => {
                    if std::mem::take(&mut self.escaped) {
                        self.out.push(*c);
                        if let Some(Frame::Cmd(cmd)) = self.stack.last_mut() {
                            cmd.push_char(*c);
                        }
                        continue;
                    }
                    self.char(*c);
                }
            }
        }
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
        if self.out.ends_with('$') && !self.out.ends_with("\\$") {
            return self.refuse(
                p,
                raw,
                "follows a `$`, which would change what the shell reads",
                "remove the `$`: the value is given as it is",
            );
        }
        let (wrap, in_cmd) = match self.stack.last() {
            Some(Frame::Cmd(_)) => (true, true),
            Some(Frame::Double) => (false, false),
            Some(Frame::Param { in_double }) => (!in_double, false),
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
            Some(Frame::Arith { .. }) => {
                return self.refuse(
                    p,
                    raw,
                    "is inside `$((…))`, where the shell would evaluate the value as an expression",
                    "check it is a number first, in a variable: n=\"{{ … }}\"; case $n in ''|*[!0-9]*) exit 2;; esac",
                );
            }
            None => (true, true),
        };
        if in_cmd {
            self.cmd().start_word();
        }
        let cmd = self.cmd();
        let current = cmd.word.as_deref().unwrap_or("");
        if let Some(program) = code_word(&cmd.words, current) {
            let hint = if is_shell(&program) {
                format!(
                    "pass it as an argument and use \"$1\" in the script: {program} -c '… \"$1\" …' {program} \"{{{{ … }}}}\""
                )
            } else {
                "pass it as an argument, or read it from the environment ($TASKER_CONTEXT_*) or from $TASKER_INPUT".to_owned()
            };
            return self.refuse(
                p,
                raw,
                &format!("is in the code given to `{program}`, which would run the value as code"),
                &hint,
            );
        }
        let var = self.var(r);
        if wrap {
            self.out.push_str(&format!("\"${{{var}}}\""));
        } else {
            self.out.push_str(&format!("${{{var}}}"));
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
                    }
                    '`' => self.stack.push(Frame::Backtick),
                    '$' => self.dollar(true),
                    _ => {}
                }
            }
            Frame::Single => self.quoted(c, '\'', false),
            Frame::AnsiC => self.quoted(c, '\'', true),
            Frame::Backtick => self.quoted(c, '`', true),
            Frame::Param { in_double } => {
                let in_double = *in_double;
                self.out.push(c);
                match c {
                    '\\' => self.escaped = true,
                    '}' => {
                        self.stack.pop();
                    }
                    '"' => self.stack.push(Frame::Double),
                    '\'' if !in_double => self.stack.push(Frame::Single),
                    '`' => self.stack.push(Frame::Backtick),
                    '$' => self.dollar(in_double),
                    _ => {}
                }
            }
            Frame::Arith { depth } => {
                self.out.push(c);
                match c {
                    '(' => *depth += 1,
                    ')' if *depth > 0 => *depth -= 1,
                    ')' => {
                        if self.peek(0) == Some(')') {
                            self.at += 1;
                            self.out.push(')');
                        }
                        self.stack.pop();
                    }
                    _ => {}
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

    /// After a `$`: what it opens, if anything.
    fn dollar(&mut self, in_double: bool) {
        match (self.peek(0), self.peek(1)) {
            (Some('('), Some('(')) => {
                self.at += 2;
                self.out.push_str("((");
                self.stack.push(Frame::Arith { depth: 0 });
            }
            (Some('('), _) => {
                self.at += 1;
                self.out.push('(');
                self.stack.push(Frame::Cmd(Cmd {
                    closes: true,
                    ..Cmd::default()
                }));
            }
            (Some('{'), _) => {
                self.at += 1;
                self.out.push('{');
                self.stack.push(Frame::Param { in_double });
            }
            (Some('\''), _) if !in_double => {
                self.at += 1;
                self.out.push('\'');
                self.stack.push(Frame::AnsiC);
            }
            (Some('"'), _) if !in_double => {
                self.at += 1;
                self.out.push('"');
                self.stack.push(Frame::Double);
            }
            _ => {}
        }
    }

    fn cmd_char(&mut self, c: char) {
        self.out.push(c);
        match c {
            ' ' | '\t' => self.cmd().end_word(),
            '\n' => {
                self.cmd().end_command();
                self.heredoc_bodies();
            }
            ';' | '&' | '|' => self.cmd().end_command(),
            '(' => {
                let cmd = self.cmd();
                cmd.end_command();
                cmd.parens += 1;
            }
            ')' => {
                let cmd = self.cmd();
                cmd.end_command();
                if cmd.parens > 0 {
                    cmd.parens -= 1;
                } else if cmd.closes {
                    self.stack.pop();
                }
            }
            '<' if self.peek(0) == Some('<') && self.peek(1) != Some('<') => self.heredoc(),
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
                self.cmd().start_word();
                self.stack.push(Frame::Backtick);
            }
            '$' => {
                self.cmd().push_char('$');
                self.dollar(false);
            }
            c => self.cmd().push_char(c),
        }
    }

    /// `<<` seen (the first `<` written): read the operator's rest and the delimiter.
    fn heredoc(&mut self) {
        self.cmd().end_word();
        self.at += 1;
        self.out.push('<');
        let strip = self.peek(0) == Some('-');
        if strip {
            self.at += 1;
            self.out.push('-');
        }
        while matches!(self.peek(0), Some(' ' | '\t')) {
            self.at += 1;
            self.out.push(' ');
        }
        let mut delimiter = String::new();
        let mut quote: Option<char> = None;
        while let Some(p) = self.toks.get(self.at) {
            match &p.tok {
                Tok::Ref { raw, .. } => {
                    self.at += 1;
                    self.refuse(
                        p,
                        raw,
                        "is in a here-document's delimiter",
                        "write the delimiter as plain text",
                    );
                }
                Tok::Char(c) => {
                    let c = *c;
                    match quote {
                        Some(q) if c == q => quote = None,
                        Some(_) => delimiter.push(c),
                        None if c == '\'' || c == '"' => quote = Some(c),
                        None if c == '\\' => {}
                        None if c.is_whitespace() || ";&|<>()".contains(c) => break,
                        None => delimiter.push(c),
                    }
                    self.at += 1;
                    self.out.push(c);
                }
            }
        }
        self.heredocs.push((delimiter, strip));
    }

    /// After a newline: the bodies of the here-documents opened on the line just ended.
    fn heredoc_bodies(&mut self) {
        for (delimiter, strip) in std::mem::take(&mut self.heredocs) {
            loop {
                if self.at >= self.toks.len() {
                    return;
                }
                let start = self.at;
                let mut end = start;
                while end < self.toks.len() && !matches!(self.toks[end].tok, Tok::Char('\n')) {
                    end += 1;
                }
                let line: Option<String> = self.toks[start..end]
                    .iter()
                    .map(|p| match p.tok {
                        Tok::Char(c) => Some(c),
                        Tok::Ref { .. } => None,
                    })
                    .collect();
                let closes = line.as_deref().is_some_and(|l| {
                    let l = if strip { l.trim_start_matches('\t') } else { l };
                    l == delimiter
                });
                for p in &self.toks[start..end.min(self.toks.len())] {
                    match &p.tok {
                        Tok::Char(c) => self.out.push(*c),
                        Tok::Ref { raw, .. } => self.refuse(
                            p,
                            raw,
                            "is inside a here-document, whose text the program it feeds may read as code",
                            "pass it as an argument, or read it from the environment ($TASKER_CONTEXT_*) or from $TASKER_INPUT",
                        ),
                    }
                }
                self.at = end;
                if self.at < self.toks.len() {
                    self.at += 1;
                    self.out.push('\n');
                }
                if closes {
                    break;
                }
            }
        }
    }
}

fn base(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

const SHELLS: &[&str] = &["sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "su"];

fn is_shell(program: &str) -> bool {
    SHELLS.contains(&program)
}

/// When the word after `words` (`current`, as far as it is read) is code for a program
/// that would run it — the script of `sh -c`, any word after `eval` — that program.
pub fn code_word(words: &[String], current: &str) -> Option<String> {
    let j = words.len();
    let option = current.starts_with('-');
    let (k, program) = words.iter().enumerate().find_map(|(k, w)| {
        let b = base(w);
        let known = SHELLS.contains(&b)
            || matches!(
                b,
                "eval" | "ssh" | "watch" | "perl" | "ruby" | "node" | "nodejs" | "php" | "sed"
            )
            || b.starts_with("python")
            || b.ends_with("awk");
        known.then(|| (k, b.to_owned()))
    })?;
    let after = &words[k + 1..];
    let code = match program.as_str() {
        // Each joins its arguments into a line another shell reads.
        "eval" | "ssh" | "watch" => true,
        p if is_shell(p) => {
            // The script is the first operand after an option holding `c`.
            let flag = after
                .iter()
                .position(|w| w.starts_with('-') && !w.starts_with("--") && w.contains('c'));
            match flag {
                Some(f) => {
                    let operand = after[f + 1..].iter().position(|w| !w.starts_with('-'));
                    match operand {
                        Some(o) => k + 1 + f + 1 + o == j,
                        None => !option,
                    }
                }
                None => false,
            }
        }
        "sed" => {
            let scripts = after.iter().any(|w| {
                w.starts_with("-e") || w.starts_with("--expression") || w.starts_with("-f")
            });
            if scripts {
                after
                    .last()
                    .is_some_and(|w| w == "-e" || w == "--expression")
                    || (current.starts_with("-e") && current.len() > 2)
            } else {
                operand_is_next(after, option, &[])
            }
        }
        p if p.ends_with("awk") => {
            if after.iter().any(|w| w.starts_with("-f")) {
                false
            } else {
                operand_is_next(after, option, &["-F", "-v"])
            }
        }
        p => {
            let flags: &[&str] = match p {
                "perl" => &["-e", "-E"],
                "ruby" => &["-e"],
                "node" | "nodejs" => &["-e", "-p", "--eval", "--print"],
                "php" => &["-r"],
                _ => &["-c"],
            };
            after.last().is_some_and(|w| flags.contains(&w.as_str()))
                || flags
                    .iter()
                    .any(|f| f.len() == 2 && current.starts_with(f) && current.len() > 2)
        }
    };
    code.then_some(program)
}

/// Whether the next word is the first operand after `after`, where `valued` options take
/// the following word as their value.
fn operand_is_next(after: &[String], option: bool, valued: &[&str]) -> bool {
    let mut i = 0;
    while i < after.len() {
        let w = &after[i];
        if !w.starts_with('-') {
            return false;
        }
        if valued.contains(&w.as_str()) {
            i += 1;
        }
        i += 1;
    }
    // A valued option waiting for its value takes this word.
    i == after.len() && !option
}

/// Which argument of an argv program is a shell script (`[sh, -c, SCRIPT, …]`), and
/// which is code for another interpreter, where references may not go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    Plain,
    Script,
    Code,
}

fn argv_kinds(argv: &[String]) -> Vec<(Arg, Option<String>)> {
    (0..argv.len())
        .map(|j| match code_word(&argv[..j], &argv[j]) {
            Some(p) if is_shell(&p) && p != "su" => (Arg::Script, Some(p)),
            Some(p) => (Arg::Code, Some(p)),
            None => (Arg::Plain, None),
        })
        .collect()
}

/// The references of `program` that are refused where they sit, each with the argument
/// (0-based) it is in for an argv program. Text whose references do not parse is left to
/// the reference check.
pub fn check(program: &Program) -> Vec<(Option<usize>, Refused)> {
    let mut out = Vec::new();
    match program {
        Program::Shell(line) => {
            if line.contains("{{")
                && interpolate::refs(line).is_ok()
                && let Err(refused) = compile(line)
            {
                out.extend(refused.into_iter().map(|r| (None, r)));
            }
        }
        Program::Argv(argv) => {
            for (j, (kind, program)) in argv_kinds(argv).into_iter().enumerate() {
                let text = &argv[j];
                if !text.contains("{{") || interpolate::refs(text).is_err() {
                    continue;
                }
                match kind {
                    Arg::Plain => {}
                    Arg::Script => {
                        if let Err(refused) = compile(text) {
                            out.extend(refused.into_iter().map(|r| (Some(j), r)));
                        }
                    }
                    Arg::Code => {
                        let program = program.unwrap_or_default();
                        if let Ok(toks) = tokens(text)
                            && let Some(p) = toks.iter().find(|p| matches!(p.tok, Tok::Ref { .. }))
                            && let Tok::Ref { raw, .. } = &p.tok
                        {
                            out.push((
                                Some(j),
                                Refused {
                                    line: p.line,
                                    column: p.column,
                                    reference: raw.clone(),
                                    reason: format!("is in the code given to `{program}`, which would run the value as code"),
                                    hint: "pass it as an argument, or read it from the environment ($TASKER_CONTEXT_*) or from $TASKER_INPUT".into(),
                                },
                            ));
                        }
                    }
                }
            }
        }
    }
    out
}

/// The most a single argument or environment variable may hold, with its terminating NUL
/// (Linux's `MAX_ARG_STRLEN`).
pub const MAX_ARG: usize = 128 * 1024;

/// The text of a resolved value, when a program can be given it.
fn passable(r: &Ref, value: &serde_json::Value, room: usize) -> Result<String, String> {
    let text = interpolate::text_of(value);
    if text.contains('\0') {
        return Err(format!(
            "`{{{{ {} }}}}` holds a NUL byte, which no argument or environment variable can carry; read it from $TASKER_INPUT",
            interpolate::describe(r)
        ));
    }
    if text.len() + 1 > room {
        return Err(format!(
            "`{{{{ {} }}}}` is {} bytes, more than the {} KiB an argument or environment variable can hold; read it from $TASKER_INPUT",
            interpolate::describe(r),
            text.len(),
            MAX_ARG / 1024
        ));
    }
    Ok(text)
}

/// `program` with every reference resolved, and the variables its shell text reads.
pub fn render(
    program: &Program,
    scope: &dyn Scope,
) -> Result<(Program, Vec<(String, String)>), String> {
    let mut vars = Vec::new();
    let script = |text: &str, vars: &mut Vec<(String, String)>| -> Result<String, String> {
        if !text.contains("{{") {
            return Ok(text.to_owned());
        }
        let compiled = compile_from(text, vars.len()).map_err(|refused| {
            let multiline = text.contains('\n');
            refused
                .iter()
                .map(|r| r.message(multiline))
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        for r in &compiled.refs {
            let name = var_name(vars.len() + 1);
            let value = interpolate::resolve(r, scope)?;
            let text = passable(r, &value, MAX_ARG - name.len() - 1)?;
            vars.push((name, text));
        }
        Ok(compiled.line)
    };
    let program = match program {
        Program::Shell(line) => Program::Shell(script(line, &mut vars)?),
        Program::Argv(argv) => Program::Argv(
            argv.iter()
                .zip(argv_kinds(argv))
                .map(|(text, (kind, _))| match kind {
                    Arg::Script => script(text, &mut vars),
                    _ => render_arg(text, scope),
                })
                .collect::<Result<_, _>>()?,
        ),
    };
    Ok((program, vars))
}

/// One argument of an argv program, its references replaced by their values.
fn render_arg(text: &str, scope: &dyn Scope) -> Result<String, String> {
    let out = interpolate::render_with(text, scope, &mut |out, r, v| {
        out.push_str(&passable(r, &v, MAX_ARG)?);
        Ok(())
    })?;
    if out.len() + 1 > MAX_ARG {
        return Err(format!(
            "an argument is {} bytes once its references are resolved, more than the {} KiB a program can be given; read the values from $TASKER_INPUT",
            out.len(),
            MAX_ARG / 1024
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> String {
        compile(text).expect(text).line
    }

    fn refused(text: &str) -> String {
        let r = compile(text).expect_err(text);
        r[0].message(false)
    }

    #[test]
    fn values_become_variables_in_every_expanding_context() {
        assert_eq!(ok("echo {{ context.a }}"), r#"echo "${TASKER_REF_1}""#);
        assert_eq!(
            ok(r#"echo "Hello {{ context.a }}!" {{ context.a }}"#),
            r#"echo "Hello ${TASKER_REF_1}!" "${TASKER_REF_1}""#
        );
        assert_eq!(
            ok("x=$(echo {{ context.a }}) y=\"$(printf '%s' \"{{ task.id }}\")\""),
            "x=$(echo \"${TASKER_REF_1}\") y=\"$(printf '%s' \"${TASKER_REF_2}\")\""
        );
        assert_eq!(
            ok("echo ${X:-{{ context.a }}} \"${X:-{{ context.a }}}\""),
            "echo ${X:-\"${TASKER_REF_1}\"} \"${X:-${TASKER_REF_1}}\""
        );
        assert_eq!(
            ok("echo its # it's a comment {{ context.a }}\necho {{ context.b }}"),
            "echo its # it's a comment {{ context.a }}\necho \"${TASKER_REF_1}\""
        );
        // Refused text does not end a word or quote in the wrong place.
        assert_eq!(
            ok("cat <<'EOF'\n$(not code)\nEOF\necho {{ context.a }}"),
            "cat <<'EOF'\n$(not code)\nEOF\necho \"${TASKER_REF_1}\""
        );
        // Positional arguments of `sh -c` are data.
        assert_eq!(
            ok("sh -c 'echo \"$1\"' sh {{ context.a }}"),
            "sh -c 'echo \"$1\"' sh \"${TASKER_REF_1}\""
        );
    }

    #[test]
    fn contexts_that_cannot_hold_are_refused() {
        for (text, why) in [
            ("echo '{{ context.a }}'", "single quotes"),
            ("echo \"'x'\" '{{ context.a }}'", "single quotes"),
            ("echo $'{{ context.a }}'", "`$'…'`"),
            ("echo `echo {{ context.a }}`", "backticks"),
            ("echo $(( {{ context.a }} + 1 ))", "`$((…))`"),
            ("cat <<EOF\nhi {{ context.a }}\nEOF", "here-document"),
            ("cat <<-'EOF'\n\thi {{ context.a }}\n\tEOF", "here-document"),
            ("echo \\{{ context.a }}", "`\\`"),
            ("echo ${{ context.a }}", "`$`"),
            ("sh -c \"echo {{ context.a }}\"", "`sh`"),
            ("bash -ec 'x' && bash -e -c \"{{ context.a }}\"", "`bash`"),
            ("eval echo {{ context.a }}", "`eval`"),
            ("ssh host echo \"{{ context.a }}\"", "`ssh`"),
            ("python3 -c \"print('{{ context.a }}')\"", "`python3`"),
            ("awk -F, \"{print \\\"{{ context.a }}\\\"}\"", "`awk`"),
            ("sed -n -e \"s/x/{{ context.a }}/p\"", "`sed`"),
            ("sed \"s/x/{{ context.a }}/\" file", "`sed`"),
        ] {
            let m = refused(text);
            assert!(m.contains(why), "{text}: {m}");
        }
        assert!(refused("echo '{{ context.a }}'").starts_with("`{{ context.a }}` at column 7"));
        let r = compile("echo ok\n  echo '{{ context.a }}'").unwrap_err();
        assert_eq!((r[0].line, r[0].column), (2, 9));
    }

    #[test]
    fn arguments_that_are_not_code_stay_allowed() {
        for text in [
            "awk -F, '{print $1}' {{ context.file }}",
            "sed -e 's/a/b/' {{ context.file }}",
            "python3 script.py --name {{ context.a }}",
            "sh ./script.sh {{ context.a }}",
            "grep -e {{ context.a }} file",
            "echo sh; echo {{ context.a }}",
        ] {
            assert!(compile(text).is_ok(), "{text}");
        }
    }
}
