//! Plugin steps: the input document on stdin, one JSON object on stdout —
//! `{"result": …}` or `{"error": {"message", "retryable", "retry_after", "code"}}`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;

use super::shell::{exit_failure, last_line, settle, spawn};
use super::{BoxFuture, Failure, Handler, Outcome, Request};
use crate::model::FailureClass;
use crate::templates::Action;

/// Runs `plugin:` steps.
#[derive(Debug)]
pub struct Plugin;

impl Handler for Plugin {
    fn execute(&self, req: Request) -> BoxFuture<Outcome> {
        Box::pin(run(req))
    }
}

/// What a plugin said on stdout.
#[derive(Debug, PartialEq)]
enum Said {
    Result(Json),
    Error(Failure),
}

async fn run(mut req: Request) -> Outcome {
    // Its stdout carries the result, which may be as big as any result.
    req.output_limit = req.output_limit.max(crate::limits::RESULT as usize + 1);
    let Action::Plugin(program) = &req.action else {
        return Outcome::failed(Failure::permanent(FailureClass::Spawn, "not a plugin step"));
    };
    let finished = match spawn(&req, program, Some(Arc::clone(&req.input))).await {
        Ok(f) => f,
        Err(outcome) => return *outcome,
    };
    let (mut outcome, status) = match settle(&req, finished) {
        Ok(pair) => pair,
        Err(outcome) => return *outcome,
    };
    // The result comes on stdout, so stdout may be as big as a result.
    if outcome.stdout.dropped > 0 || outcome.stdout.bytes.len() as u64 > crate::limits::RESULT {
        outcome.failure = Some(super::shell::too_large("the plugin's stdout"));
        return outcome;
    }
    let said = parse(&outcome.stdout.bytes);
    match (
        said,
        exit_failure(status, &req.retry, &outcome.stderr.bytes),
    ) {
        (Ok(Said::Error(failure)), _) => outcome.failure = Some(failure),
        (Ok(Said::Result(result)), None) => outcome.result = Some(result),
        (_, Some(failure)) => outcome.failure = Some(failure),
        (Err(message), None) => {
            let mut message = message;
            if let Some(line) = last_line(&outcome.stderr.bytes) {
                message.push_str(&format!(" (stderr: {line})"));
            }
            outcome.failure = Some(Failure::permanent(FailureClass::Plugin, message));
        }
    }
    outcome
}

/// Read a plugin's stdout: exactly one JSON object with `result` or `error`.
fn parse(stdout: &[u8]) -> Result<Said, String> {
    let mut docs = serde_json::Deserializer::from_slice(stdout).into_iter::<Json>();
    let doc =
        match docs.next() {
            None => return Err(
                "the plugin printed nothing on stdout; expected {\"result\": …} or {\"error\": …}"
                    .into(),
            ),
            Some(Err(e)) => return Err(format!("the plugin's stdout is not JSON: {e}")),
            Some(Ok(doc)) => doc,
        };
    if docs.next().is_some() {
        return Err("the plugin printed more than one JSON document on stdout".into());
    }
    let Json::Object(mut map) = doc else {
        return Err("the plugin's stdout is not a JSON object".into());
    };
    match (map.remove("result"), map.remove("error")) {
        (Some(result), None) => Ok(Said::Result(result)),
        (None, Some(Json::Object(error))) => {
            let message = error
                .get("message")
                .and_then(Json::as_str)
                .unwrap_or("the plugin reported an error")
                .to_owned();
            let message = match error.get("code").and_then(Json::as_str) {
                Some(code) => format!("{code}: {message}"),
                None => message,
            };
            let retryable = error
                .get("retryable")
                .and_then(Json::as_bool)
                .unwrap_or(true);
            let mut failure = if retryable {
                Failure::retryable(FailureClass::Plugin, message)
            } else {
                Failure::permanent(FailureClass::Plugin, message)
            };
            failure.retry_after = error
                .get("retry_after")
                .and_then(Json::as_f64)
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| Duration::from_secs_f64(s.min(1e9)));
            Ok(Said::Error(failure))
        }
        (None, Some(_)) => Err("the plugin's `error` must be an object with a `message`".into()),
        (Some(_), Some(_)) => Err("the plugin printed both `result` and `error`".into()),
        (None, None) => Err("the plugin's JSON has neither `result` nor `error`".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn results_and_errors() {
        assert_eq!(
            parse(br#"{"result": {"id": 1}}"#),
            Ok(Said::Result(json!({"id": 1})))
        );
        let Ok(Said::Error(f)) = parse(
            br#"{"error": {"message": "declined", "code": "CARD_DECLINED", "retryable": false}}"#,
        ) else {
            panic!("not an error")
        };
        assert_eq!(f.message, "CARD_DECLINED: declined");
        assert!(f.permanent);
        let Ok(Said::Error(f)) = parse(br#"{"error": {"message": "busy", "retry_after": 2}}"#)
        else {
            panic!("not an error")
        };
        assert_eq!(f.retry_after, Some(Duration::from_secs(2)));
        assert!(!f.permanent);
    }

    #[test]
    fn malformed_output() {
        assert!(parse(b"").unwrap_err().contains("printed nothing"));
        assert!(parse(b"hello").unwrap_err().contains("not JSON"));
        assert!(
            parse(b"{\"result\": 1}\n{\"result\": 2}")
                .unwrap_err()
                .contains("more than one")
        );
        assert!(parse(b"[1]").unwrap_err().contains("not a JSON object"));
        assert!(parse(b"{\"ok\": true}").unwrap_err().contains("neither"));
    }
}
