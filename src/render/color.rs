//! Whether to colour output, and the colours of states.

use std::io::IsTerminal;

use crate::model::State;

/// `--color auto|always|never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// Resolve the choice for stdout (or stderr): `NO_COLOR` and `CLICOLOR_FORCE` are honoured
/// under `auto`.
pub fn enabled(choice: ColorChoice, stderr: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                return false;
            }
            if std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0") {
                return true;
            }
            if stderr {
                std::io::stderr().is_terminal()
            } else {
                std::io::stdout().is_terminal()
            }
        }
    }
}

/// ANSI colour code of a state.
pub fn state_code(state: State) -> &'static str {
    match state {
        State::Pending => "2",
        State::InProgress => "36",
        State::Complete => "32",
        State::Error => "31",
        State::Cancelled => "33",
        State::ResolvedManually => "35",
    }
}

/// `text` in the colour of `state`, when `on`.
pub fn paint(on: bool, state: State, text: &str) -> String {
    if on {
        format!("\x1b[{}m{text}\x1b[0m", state_code(state))
    } else {
        text.to_owned()
    }
}
