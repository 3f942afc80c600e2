//! Which words of a simple command another program reads as code: the script of `sh -c`,
//! any word after `eval` or `trap`, the program of `awk`, a `python -c` string, a name bash
//! evaluates (`let`, `declare -i`, `printf -v`, `read`). A value there would be run, so a
//! reference is refused. Tasker can only know the programs named here: the list is a
//! safety net for common mistakes, not the guarantee (which is that the shell tasker starts
//! never reads a value as its own code).

/// Shells: `-c` makes their first operand a script; without a script they read code from
/// their standard input.
pub(super) const SHELLS: &[&str] = &["sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash"];

pub(super) fn is_shell(program: &str) -> bool {
    SHELLS.contains(&program)
}

/// Words that start a command without being its program.
const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "{", "time", "-p", "coproc",
];

/// Programs that run another program given by their operands, passing tasker's environment
/// on, with the options that take a value.
const WRAPPERS: &[(&str, &[&str])] = &[
    ("exec", &["-a"]),
    ("command", &[]),
    ("builtin", &[]),
    ("nohup", &[]),
    ("setsid", &[]),
    ("nice", &["-n"]),
    ("ionice", &["-c", "-n", "-p"]),
    ("stdbuf", &["-i", "-o", "-e"]),
    ("time", &["-f", "-o"]),
    ("timeout", &["-s", "-k", "--signal", "--kill-after"]),
    ("chrt", &[]),
    ("xargs", &["-I", "-n", "-P", "-d", "-L", "-s", "-E", "-a"]),
    ("env", &["-u", "-C", "--unset", "--chdir"]),
];

/// Programs that run another one but may not pass tasker's environment on to it.
const ISOLATING: &[(&str, &[&str])] = &[
    (
        "sudo",
        &["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"],
    ),
    ("doas", &["-u", "-C"]),
];

/// How many operands a wrapper takes before the command it runs (`timeout 5 cmd`).
fn wrapper_operands(name: &str) -> usize {
    match name {
        "timeout" | "chrt" => 1,
        _ => 0,
    }
}

pub(super) fn base(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

pub(super) fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// Why a reference is refused where a program would read it as code, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Code {
    pub program: String,
    pub reason: String,
    pub hint: String,
}

fn code(program: &str, reason: String, hint: &str) -> Option<Code> {
    Some(Code {
        program: program.to_owned(),
        reason,
        hint: hint.to_owned(),
    })
}

const ARG_HINT: &str = "pass it as an argument, or read it from the environment ($TASKER_CONTEXT_*) or from $TASKER_INPUT";
const ARITH_HINT: &str = "check it is a number first, in a variable: n=\"{{ … }}\"; case $n in ''|*[!0-9]*) exit 2;; esac";
const NAME_HINT: &str = "write the variable's name in the template; a value is no name";

fn runs_code(program: &str) -> String {
    format!("is in the code given to `{program}`, which would run the value as code")
}

fn shell_hint(program: &str) -> String {
    format!(
        "pass it as an argument and use \"$1\" in the script: {program} -c '… \"$1\" …' {program} \"{{{{ … }}}}\""
    )
}

/// How an interpreter takes code on its command line.
struct Flags {
    /// Short options that take the code (in a cluster: `-Sc CODE`, `-pe CODE`, `-eCODE`).
    short: &'static [char],
    /// Long ones (`--eval CODE`, `--eval=CODE`).
    long: &'static [&'static str],
    /// Options that take the next word as their value (`python -W ignore`).
    valued: &'static [&'static str],
    /// Its first operand ends its own options (a script file's options are the script's).
    operand_ends_options: bool,
}

fn interpreter_flags(program: &str) -> Option<Flags> {
    let flags = |short, long, valued, operand_ends_options| Flags {
        short,
        long,
        valued,
        operand_ends_options,
    };
    Some(match program {
        p if is_shell(p) => flags(
            &['c'],
            &[],
            &["-o", "+o", "-O", "+O", "--rcfile", "--init-file"],
            true,
        ),
        p if p.starts_with("python") && p[6..].chars().all(|c| c.is_ascii_digit() || c == '.') => {
            flags(&['c'], &[], &["-W", "-X", "-Q"], true)
        }
        "perl" => flags(&['e', 'E'], &[], &["-I", "-M", "-m"], true),
        "ruby" => flags(&['e'], &[], &["-I", "-r", "-C"], true),
        "node" | "nodejs" => flags(
            &['e', 'p'],
            &["--eval", "--print"],
            &["-r", "--require", "--import"],
            true,
        ),
        "php" => flags(&['r'], &[], &["-c", "-d"], true),
        // `su USER -c CMD`, `flock FILE -c CMD`: the flag may follow an operand.
        "su" | "runuser" | "flock" | "script" => {
            flags(&['c'], &["--command"], &["-s", "-g", "-G", "-w"], false)
        }
        _ => return None,
    })
}

/// Whether `current` (the word at index `words.len()` of a command) is the code of the
/// interpreter at `k`, by its flags: `Some(true)` it is, `Some(false)` it is not, `None` the
/// word at `k` is no interpreter.
fn code_by_flags(words: &[String], k: usize, current: &str) -> Option<bool> {
    let program = base(&words[k]);
    let f = interpreter_flags(program)?;
    // Shells read `-c`'s script as their first operand; the others take the word after
    // the flag.
    let shell_like = is_shell(program);
    let mut flagged = false;
    let mut skip_value = false;
    let all = words[k + 1..].iter().map(String::as_str).chain([current]);
    for (i, w) in (k + 1..).zip(all) {
        let is_current = i == words.len();
        if std::mem::take(&mut skip_value) {
            continue;
        }
        if flagged && !shell_like {
            return Some(is_current);
        }
        if let Some(l) = f
            .long
            .iter()
            .find(|l| w == **l || w.starts_with(&format!("{l}=")))
        {
            if w.len() > l.len() {
                // `--eval=CODE`
                return Some(is_current);
            }
            flagged = true;
        } else if f.valued.contains(&w) {
            skip_value = true;
        } else if shell_like && w.starts_with('+') && w.len() > 1 {
            // `+x`: an option turned off.
        } else if w.starts_with('-') && !w.starts_with("--") && w.len() > 1 {
            let cluster = &w[1..];
            if cluster.ends_with(|c| f.short.contains(&c)) {
                // `-e`, `-pe`, `-Sc`: the code follows.
                flagged = true;
            } else if cluster.contains(|c| f.short.contains(&c)) {
                if !shell_like {
                    // `-eCODE`: the rest of the cluster.
                    return Some(is_current);
                }
                flagged = true;
            }
        } else if w != "-" && !w.starts_with("--") && f.operand_ends_options {
            // The first operand: the script if flagged, else a file to run.
            return Some(flagged && is_current);
        }
    }
    Some(false)
}

/// The program at the command position of `words` (past assignments, reserved words and
/// wrappers such as `nice` or `timeout 5`), if the command is that far: its index.
fn command_at(words: &[String]) -> Option<usize> {
    let mut k = 0;
    while let Some(w) = words.get(k) {
        if is_assignment(w) || RESERVED.contains(&w.as_str()) {
            k += 1;
            continue;
        }
        if w == "function" {
            // `function NAME`: its body's first command follows.
            k += 2;
            continue;
        }
        let name = base(w);
        let Some((_, valued)) = WRAPPERS.iter().chain(ISOLATING).find(|(n, _)| *n == name) else {
            return Some(k);
        };
        k = past_wrapper(words, k, name, valued, words.len());
    }
    None
}

/// When the word after `words` (`current`, as far as it is read) is code some program
/// would run, or a name bash would evaluate: why.
pub(super) fn code_word(words: &[String], current: &str) -> Option<Code> {
    let j = words.len();
    // `env -S LINE` splits LINE into a command: it runs it.
    if let Some(k) = words.iter().position(|w| base(w) == "env")
        && (words[k + 1..]
            .last()
            .is_some_and(|w| w == "-S" || w == "--split-string")
            || current.starts_with("--split-string=")
            || current.starts_with("-S"))
    {
        return code("env", runs_code("env -S"), ARG_HINT);
    }
    if let Some(k) = command_at(words) {
        let program = base(&words[k]);
        let after = &words[k + 1..];
        match program {
            "eval" | "trap" | "alias" | "." | "source" | "watch" | "ssh" => {
                return code(program, runs_code(program), ARG_HINT);
            }
            "let" => {
                return code(
                    program,
                    "is in a `let` expression, which bash evaluates as code".into(),
                    ARITH_HINT,
                );
            }
            "declare" | "typeset" | "local" | "readonly" | "export"
                if after
                    .iter()
                    .any(|w| w.starts_with('-') && w.contains(['i', 'n'])) =>
            {
                return code(
                    program,
                    format!("is given to `{program}` with an option that makes bash evaluate it"),
                    ARITH_HINT,
                );
            }
            "declare" | "typeset" | "local" | "readonly" | "export"
                if !current.contains('=') && !current.starts_with('-') =>
            {
                return code(
                    program,
                    format!(
                        "names what `{program}` declares, which bash evaluates (with its subscript)"
                    ),
                    NAME_HINT,
                );
            }
            "compgen" | "complete" => {
                return code(program, runs_code(program), ARG_HINT);
            }
            "printf" | "test" | "[" if current.starts_with("-v") => {
                return code(
                    program,
                    "names a variable, which bash evaluates (with its subscript)".into(),
                    NAME_HINT,
                );
            }
            "printf" | "test" | "[" if after.last().is_some_and(|w| w == "-v") => {
                return code(
                    program,
                    "names a variable, which bash evaluates (with its subscript)".into(),
                    NAME_HINT,
                );
            }
            "read" | "mapfile" | "readarray" | "unset" | "getopts" => {
                return code(
                    program,
                    format!(
                        "is given to `{program}`, which takes variable names that bash evaluates"
                    ),
                    NAME_HINT,
                );
            }
            "sed" if sed_script(after, current) => {
                return code("sed", runs_code("sed"), ARG_HINT);
            }
            p if matches!(p, "awk" | "gawk" | "mawk" | "nawk") && awk_program(after, current) => {
                return code(p, runs_code(p), ARG_HINT);
            }
            _ => {}
        }
    }
    // An interpreter anywhere in the command (`docker exec c1 sh -c …`, `xargs sh -c …`)
    // followed by its code flag.
    for k in 0..j {
        let program = base(&words[k]);
        if interpreter_flags(program).is_some() && code_by_flags(words, k, current) == Some(true) {
            let hint = if is_shell(program) {
                shell_hint(program)
            } else {
                ARG_HINT.to_owned()
            };
            return code(program, runs_code(program), &hint);
        }
    }
    None
}

/// Whether the word after `after` (`current`) is the script of `sed`.
fn sed_script(after: &[String], current: &str) -> bool {
    if current.starts_with("--expression=") || (current.starts_with("-e") && current.len() > 2) {
        return true;
    }
    if after
        .last()
        .is_some_and(|w| w == "-e" || w == "--expression")
    {
        return true;
    }
    let scripts = after.iter().any(|w| {
        w.starts_with("-e")
            || w.starts_with("--expression")
            || w.starts_with("-f")
            || w.starts_with("--file")
    });
    !scripts && first_operand(after, current, &["-l", "--line-length"])
}

/// Whether the word after `after` (`current`) is the program of `awk`.
fn awk_program(after: &[String], current: &str) -> bool {
    if after.iter().any(|w| w.starts_with("-f") || w == "--file") {
        return false;
    }
    first_operand(
        after,
        current,
        &["-F", "-v", "--assign", "--field-separator"],
    )
}

/// Whether `current` is the first operand after the options `after`, where `valued`
/// options take the next word as their value.
fn first_operand(after: &[String], current: &str, valued: &[&str]) -> bool {
    let mut i = 0;
    while i < after.len() {
        let w = after[i].as_str();
        if !w.starts_with('-') || w == "-" {
            return false;
        }
        if w == "--" {
            return i + 1 == after.len();
        }
        if valued.contains(&w) {
            i += 1;
        }
        i += 1;
    }
    i == after.len() && (!current.starts_with('-') || current == "-")
}

/// Whether a command reads code from its standard input: a shell with no script (`| sh`),
/// an interpreter with no program, `xargs -I` handing its input to an interpreter's code.
pub(super) fn reads_code_from_stdin(words: &[String]) -> Option<String> {
    let k = command_at(words)?;
    let program = base(&words[k]);
    let after = &words[k + 1..];
    if program == "xargs" {
        return None;
    }
    // `| . /dev/stdin`, `| source -`, `| eval "$(cat)"`: the input is run.
    if matches!(program, "." | "source" | "eval") {
        return Some(program.to_owned());
    }
    // `xargs -I{} sh -c '… {} …'`, `xargs sh -c`: the input becomes code (given as the
    // script, or put into it).
    if let Some(x) = words.iter().position(|w| base(w) == "xargs") {
        let replaces = words[x + 1..]
            .iter()
            .any(|w| w.starts_with("-I") || w.starts_with("-i") || w.starts_with("--replace"));
        let runs_code = (x + 1..words.len()).any(|k| {
            let flagged = words[k + 1..].iter().any(|w| {
                (w.starts_with('-') && !w.starts_with("--") && w.contains(['c', 'e', 'r']))
                    || w.starts_with("--eval")
            });
            // Without `-I`, the input is the code when the code operand is missing.
            let script_given = (k + 1..words.len())
                .any(|j| code_by_flags(&words[..j], k, &words[j]) == Some(true));
            interpreter_flags(base(&words[k])).is_some() && flagged && (replaces || !script_given)
        });
        if runs_code {
            return Some("xargs".into());
        }
    }
    let interpreter = is_shell(program)
        || matches!(program, "perl" | "ruby" | "node" | "nodejs" | "php")
        || program.starts_with("python");
    if !interpreter {
        return None;
    }
    let f = interpreter_flags(program)?;
    let has_code = after.iter().any(|w| {
        f.long.iter().any(|l| w.starts_with(l))
            || (w.starts_with('-') && !w.starts_with("--") && w[1..].contains(f.short))
    });
    // A script operand that is the standard input itself.
    let stdin_names = ["-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"];
    let mut operand = None;
    let mut i = 0;
    while i < after.len() {
        let w = after[i].as_str();
        if f.valued.contains(&w) {
            i += 2;
            continue;
        }
        if !(w.starts_with('-') || w.starts_with('+')) || w == "-" {
            operand = Some(w);
            break;
        }
        i += 1;
    }
    (!has_code && operand.is_none_or(|o| stdin_names.contains(&o))).then(|| program.to_owned())
}

/// For an argv program: whether the shell at `k` gets tasker's environment (it is the
/// program, or comes after wrappers that pass the environment on).
pub(super) fn inherits_environment(argv: &[String], k: usize) -> bool {
    let mut i = 0;
    while i < k {
        let name = base(&argv[i]);
        let Some((_, valued)) = WRAPPERS.iter().find(|(n, _)| *n == name) else {
            return false;
        };
        let next = past_wrapper(argv, i, name, valued, k);
        let clears = |w: &String| {
            w == "-i" || w == "-" || w == "--ignore-environment" || w.starts_with("-S")
        };
        if name == "env" && argv[i + 1..next.min(k)].iter().any(clears) {
            return false;
        }
        i = next;
    }
    i == k
}

/// Past the wrapper `name` at `k` — its options, their values, its fixed operands, and
/// for `env` its assignments — up to `end`: where the command it runs starts.
fn past_wrapper(words: &[String], mut k: usize, name: &str, valued: &[&str], end: usize) -> usize {
    k += 1;
    let mut operands = wrapper_operands(name);
    while k < end {
        let w = words[k].as_str();
        if valued.contains(&w) {
            k += 2;
        } else if w.starts_with('-') || (name == "env" && is_assignment(w)) {
            k += 1;
        } else if operands > 0 {
            operands -= 1;
            k += 1;
        } else {
            break;
        }
    }
    k
}

/// The variables a `declare -i` (or `typeset`, `local`, `readonly`, `export`) command
/// makes integers: assigning one later is an arithmetic expression.
pub(super) fn declared_integers(words: &[String]) -> Vec<String> {
    let Some(k) = command_at(words) else {
        return Vec::new();
    };
    let program = base(&words[k]);
    let after = &words[k + 1..];
    let integer = matches!(
        program,
        "declare" | "typeset" | "local" | "readonly" | "export"
    ) && after
        .iter()
        .any(|w| w.starts_with('-') && w[1..].contains('i'));
    if !integer {
        return Vec::new();
    }
    after
        .iter()
        .filter(|w| !w.starts_with('-'))
        .map(|w| w.split('=').next().unwrap_or(w).to_owned())
        .collect()
}

/// Whether `words` are a command that declares variables (`declare`, `typeset`, `local`,
/// `readonly`, `export`, `env`): `Some(true)` when it declares arrays (`-a`, `-A`).
pub(super) fn declares(words: &[String]) -> Option<bool> {
    let k = words.iter().position(|w| {
        matches!(
            base(w),
            "declare" | "typeset" | "local" | "readonly" | "export" | "env"
        )
    })?;
    Some(
        words[k + 1..]
            .iter()
            .any(|w| w.starts_with('-') && w.contains(['a', 'A'])),
    )
}
