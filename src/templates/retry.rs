//! `retry:` — limits, exit-code rules and backoff, as written at each level, merged from the
//! built-in defaults through `defaults.retry` to the step.

use std::time::Duration;

use super::check::{Checker, at};
use super::model::{Backoff, Retry};
use super::node::{Node, Value};

const RETRY_KEYS: &[&str] = &[
    "limit",
    "retryable",
    "backoff",
    "retry_on_exit_codes",
    "permanent_exit_codes",
];
const BACKOFF_KEYS: &[&str] = &["base", "multiplier", "max", "jitter"];

/// Retry settings as written at one level (defaults, step); unset fields inherit.
#[derive(Default, Clone)]
pub(super) struct RetryPatch {
    pub(super) limit: Option<u32>,
    pub(super) retryable: Option<bool>,
    pub(super) base: Option<Duration>,
    pub(super) multiplier: Option<f64>,
    pub(super) max: Option<Duration>,
    pub(super) jitter: Option<f64>,
    pub(super) retry_on_exit_codes: Option<Vec<i32>>,
    pub(super) permanent_exit_codes: Option<Vec<i32>>,
}

impl RetryPatch {
    pub(super) fn over(&self, base: &RetryPatch) -> RetryPatch {
        RetryPatch {
            limit: self.limit.or(base.limit),
            retryable: self.retryable.or(base.retryable),
            base: self.base.or(base.base),
            multiplier: self.multiplier.or(base.multiplier),
            max: self.max.or(base.max),
            jitter: self.jitter.or(base.jitter),
            retry_on_exit_codes: self
                .retry_on_exit_codes
                .clone()
                .or_else(|| base.retry_on_exit_codes.clone()),
            permanent_exit_codes: self
                .permanent_exit_codes
                .clone()
                .or_else(|| base.permanent_exit_codes.clone()),
        }
    }

    pub(super) fn resolve(&self) -> Retry {
        let d = Retry::default();
        Retry {
            limit: self.limit.unwrap_or(d.limit),
            retryable: self.retryable.unwrap_or(d.retryable),
            backoff: Backoff {
                base: self.base.unwrap_or(d.backoff.base),
                multiplier: self.multiplier.unwrap_or(d.backoff.multiplier),
                max: self.max.unwrap_or(d.backoff.max),
                jitter: self.jitter.unwrap_or(d.backoff.jitter),
            },
            retry_on_exit_codes: self.retry_on_exit_codes.clone(),
            permanent_exit_codes: self
                .permanent_exit_codes
                .clone()
                .unwrap_or(d.permanent_exit_codes),
        }
    }
}

impl Checker<'_> {
    pub(super) fn retry(&mut self, node: &Node, step: Option<&str>, field: &str) -> RetryPatch {
        let mut patch = RetryPatch::default();
        if let Value::Int(_) = node.value {
            patch.limit = self.positive(node, at(step, &join(field, "limit")));
            return patch;
        }
        let Some(rf) = self.fields(node, RETRY_KEYS, at(step, field)) else {
            return patch;
        };
        if let Some(n) = rf.get("limit") {
            patch.limit = self.positive(n, at(step, &join(field, "limit")));
        }
        if let Some(n) = rf.get("retryable") {
            patch.retryable = self.boolean(n, at(step, &join(field, "retryable")));
        }
        if let Some(n) = rf.get("retry_on_exit_codes") {
            patch.retry_on_exit_codes =
                self.exit_codes(n, at(step, &join(field, "retry_on_exit_codes")));
        }
        if let Some(n) = rf.get("permanent_exit_codes") {
            patch.permanent_exit_codes =
                self.exit_codes(n, at(step, &join(field, "permanent_exit_codes")));
        }
        if let Some(b) = rf.get("backoff") {
            let bfield = join(field, "backoff");
            if let Some(bf) = self.fields(b, BACKOFF_KEYS, at(step, &bfield)) {
                if let Some(n) = bf.get("base") {
                    patch.base = self.duration(n, at(step, &join(&bfield, "base")));
                }
                if let Some(n) = bf.get("max") {
                    patch.max = self.duration(n, at(step, &join(&bfield, "max")));
                }
                if let Some(n) = bf.get("multiplier") {
                    let f = join(&bfield, "multiplier");
                    patch.multiplier = self.number(n, at(step, &f)).filter(|m| {
                        let ok = *m >= 1.0 && *m <= 100.0;
                        if !ok {
                            self.problem(
                                n.pos,
                                at(step, &f),
                                format!("must be between 1 and 100, found {m}"),
                            );
                        }
                        ok
                    });
                }
                if let Some(n) = bf.get("jitter") {
                    let f = join(&bfield, "jitter");
                    patch.jitter = self.number(n, at(step, &f)).filter(|j| {
                        let ok = (0.0..=1.0).contains(j);
                        if !ok {
                            self.problem(
                                n.pos,
                                at(step, &f),
                                format!("must be between 0 and 1, found {j}"),
                            );
                        }
                        ok
                    });
                }
            }
        }
        patch
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}
