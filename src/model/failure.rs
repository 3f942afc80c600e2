//! Why an attempt failed, as a class users see in `status`, events and spans.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The class of a failed attempt (its name is what users read and filter on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureClass {
    /// The process exited with a code other than 0.
    ExitCode,
    /// The process was killed by a signal it did not ask for.
    Signal,
    /// The attempt (or the task) ran past its timeout.
    Timeout,
    /// The process could not be started.
    Spawn,
    /// `TASKER_OUTPUT` could not be read as JSON.
    Output,
    /// A plugin broke its protocol or reported an error.
    Plugin,
    /// An HTTP step's request failed or was answered with an error status.
    Http,
    /// A reference had no value when the step started.
    Interpolation,
    /// The run stopped (Ctrl-C, SIGTERM, a dead runner): no failure of the step's.
    Interrupted,
    /// An operator cancelled it.
    Cancelled,
    /// The step's result was bigger than a result may be.
    ResultTooLarge,
}

const ALL: &[FailureClass] = &[
    FailureClass::ExitCode,
    FailureClass::Signal,
    FailureClass::Timeout,
    FailureClass::Spawn,
    FailureClass::Output,
    FailureClass::Plugin,
    FailureClass::Http,
    FailureClass::Interpolation,
    FailureClass::Interrupted,
    FailureClass::Cancelled,
    FailureClass::ResultTooLarge,
];

impl FailureClass {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::ExitCode => "exit_code",
            FailureClass::Signal => "signal",
            FailureClass::Timeout => "timeout",
            FailureClass::Spawn => "spawn",
            FailureClass::Output => "output",
            FailureClass::Plugin => "plugin",
            FailureClass::Http => "http",
            FailureClass::Interpolation => "interpolation",
            FailureClass::Interrupted => "interrupted",
            FailureClass::Cancelled => "cancelled",
            FailureClass::ResultTooLarge => "result_too_large",
        }
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FailureClass {
    type Err = String;

    fn from_str(s: &str) -> Result<FailureClass, String> {
        ALL.iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = ALL.iter().map(|c| c.as_str()).collect();
                format!(
                    "unknown failure class `{s}` (classes: {})",
                    names.join(", ")
                )
            })
    }
}

impl Serialize for FailureClass {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FailureClass {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FailureClass, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl PartialEq<&str> for FailureClass {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in ALL {
            assert_eq!(c.as_str().parse::<FailureClass>(), Ok(*c));
        }
        assert!("exploded".parse::<FailureClass>().is_err());
    }
}
