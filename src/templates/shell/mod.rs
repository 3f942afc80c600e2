//! `{{ … }}` references in shell command lines. A value never becomes shell text: each
//! reference is replaced by an environment variable (`TASKER_REF_1`, …) holding the value,
//! which the shell expands — quoted, so it stays one word — and never reads again as code.
//! This holds by construction wherever the reference sits. Where the shell would not expand
//! the variable (single quotes, `$'…'`, a here-document, backticks), would evaluate its
//! value (`$((…))`), or hands the text to a program that reads it as code (`eval`,
//! `sh -c`, `python -c`, `awk`, `sed`, `ssh`, …), the reference is refused when the
//! template is checked, naming its line and column in the command.

mod heredoc;
mod lexer;
mod programs;

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
    let mut lexer = lexer::Lexer::new(&toks, skip, text.len() + 32);
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

/// Which argument of an argv program is a shell script (`[sh, -c, SCRIPT, …]`), and
/// which is code for another interpreter, where references may not go.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arg {
    Plain,
    Script,
    Code(programs::Code),
}

fn argv_kinds(argv: &[String]) -> Vec<Arg> {
    (0..argv.len())
        .map(|j| match programs::code_word(&argv[..j], &argv[j]) {
            None => Arg::Plain,
            Some(c) if programs::is_shell(&c.program) => {
                // A shell that gets tasker's environment reads its values from variables;
                // behind one that may not pass it on, the value could not reach it.
                let k = argv[..j].iter().rposition(|w| programs::base(w) == c.program);
                if k.is_some_and(|k| programs::inherits_environment(argv, k)) {
                    Arg::Script
                } else {
                    Arg::Code(programs::Code {
                        reason: format!(
                            "is in the script of `{}`, which runs behind another program that may not pass tasker's environment on, so the value could not reach it",
                            c.program
                        ),
                        ..c
                    })
                }
            }
            Some(c) => Arg::Code(c),
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
            for (j, kind) in argv_kinds(argv).into_iter().enumerate() {
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
                    Arg::Code(code) => {
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
                                    reason: code.reason,
                                    hint: code.hint,
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

/// The most the `TASKER_REF_n` variables of one step hold together: with the rest of the
/// environment and the arguments, well inside the kernel's limit for a new program.
const MAX_VARS: usize = 1024 * 1024;

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
    // Most programs hold no reference: nothing to read or resolve at each start.
    if !program.texts().iter().any(|t| t.contains("{{")) {
        return Ok((program.clone(), Vec::new()));
    }
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
        let total: usize = vars.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
        if total > MAX_VARS {
            return Err(format!(
                "the values of this step's references hold {total} bytes together, more than the {} KiB tasker puts in a step's environment; read the big ones from $TASKER_INPUT",
                MAX_VARS / 1024
            ));
        }
        Ok(compiled.line)
    };
    let program = match program {
        Program::Shell(line) => Program::Shell(script(line, &mut vars)?),
        Program::Argv(argv) => Program::Argv(
            argv.iter()
                .zip(argv_kinds(argv))
                .map(|(text, kind)| match kind {
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
mod tests;
