//! Retry and backoff as a pure policy: no clock, no randomness of its own.

use std::time::Duration;

use crate::templates::{Backoff, Retry};

/// Why an attempt failed, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// May succeed if tried again.
    Retryable,
    /// Will not succeed if tried again (permanent exit code, non-retryable error).
    Permanent,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Try again once `delay` has passed.
    RetryAfter(Duration),
    /// The step has failed for good.
    GiveUp(GiveUp),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    Permanent,
    NotRetryable,
    Exhausted,
}

/// Decide after attempt `attempt` (1-based) failed. `random` is a sample in `[0, 1)`;
/// `retry_after` is the delay the step itself asked for, capped by `backoff.max`.
pub fn decide(
    policy: &Retry,
    attempt: u32,
    failure: Failure,
    retry_after: Option<Duration>,
    random: f64,
) -> Decision {
    if failure == Failure::Permanent {
        return Decision::GiveUp(GiveUp::Permanent);
    }
    if !policy.retryable {
        return Decision::GiveUp(GiveUp::NotRetryable);
    }
    if attempt >= policy.limit {
        return Decision::GiveUp(GiveUp::Exhausted);
    }
    let delay = match retry_after {
        Some(d) => d.min(policy.backoff.max),
        None => delay(&policy.backoff, attempt, random),
    };
    Decision::RetryAfter(delay)
}

/// The wait before attempt `attempt + 1`: `min(base × multiplier^(attempt-1), max)`,
/// spread by ±`jitter` using `random` in `[0, 1)`, never above `max`.
pub fn delay(backoff: &Backoff, attempt: u32, random: f64) -> Duration {
    let exp = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
    let raw = backoff.base.as_secs_f64() * backoff.multiplier.powi(exp);
    let max = backoff.max.as_secs_f64();
    let capped = if raw.is_finite() { raw.min(max) } else { max };
    let spread = 1.0 + backoff.jitter * (2.0 * random.clamp(0.0, 1.0) - 1.0);
    Duration::from_secs_f64((capped * spread).clamp(0.0, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Retry {
        Retry::default()
    }

    #[test]
    fn exponential_without_jitter_at_the_midpoint() {
        let b = Backoff::default();
        assert_eq!(delay(&b, 1, 0.5), Duration::from_secs(1));
        assert_eq!(delay(&b, 2, 0.5), Duration::from_secs(2));
        assert_eq!(delay(&b, 3, 0.5), Duration::from_secs(4));
        assert_eq!(delay(&b, 10, 0.5), Duration::from_secs(30));
        assert_eq!(delay(&b, 1000, 0.5), Duration::from_secs(30));
    }

    #[test]
    fn jitter_spreads_both_ways_but_never_past_max() {
        let b = Backoff::default();
        assert_eq!(delay(&b, 2, 0.0), Duration::from_secs_f64(1.8));
        assert_eq!(delay(&b, 2, 1.0), Duration::from_secs_f64(2.2));
        assert_eq!(delay(&b, 20, 1.0), Duration::from_secs(30));
    }

    #[test]
    fn limit_counts_every_attempt() {
        let p = policy();
        assert!(matches!(
            decide(&p, 1, Failure::Retryable, None, 0.5),
            Decision::RetryAfter(_)
        ));
        assert!(matches!(
            decide(&p, 2, Failure::Retryable, None, 0.5),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            decide(&p, 3, Failure::Retryable, None, 0.5),
            Decision::GiveUp(GiveUp::Exhausted)
        );
    }

    #[test]
    fn permanent_and_not_retryable_give_up_at_once() {
        let mut p = policy();
        assert_eq!(
            decide(&p, 1, Failure::Permanent, None, 0.5),
            Decision::GiveUp(GiveUp::Permanent)
        );
        p.retryable = false;
        assert_eq!(
            decide(&p, 1, Failure::Retryable, None, 0.5),
            Decision::GiveUp(GiveUp::NotRetryable)
        );
    }

    #[test]
    fn retry_after_overrides_backoff_within_max() {
        let p = policy();
        assert_eq!(
            decide(&p, 1, Failure::Retryable, Some(Duration::from_secs(7)), 0.0),
            Decision::RetryAfter(Duration::from_secs(7))
        );
        assert_eq!(
            decide(
                &p,
                1,
                Failure::Retryable,
                Some(Duration::from_secs(600)),
                0.0
            ),
            Decision::RetryAfter(Duration::from_secs(30))
        );
    }
}
