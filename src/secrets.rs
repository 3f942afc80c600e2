//! Secret-looking keys and their masking, for everything tasker shows or exports about a
//! task (spans, logs, events, hooks). Steps themselves always receive the real values.

use std::sync::OnceLock;

use serde_json::Value;

/// What a masked value becomes.
pub const FILTERED: &str = "[FILTERED]";

/// Words the user adds to those that mark a key as secret (`secret_keys` in the config
/// file, `TASKER_SECRET_KEYS`), set once at start.
static EXTRA: OnceLock<Vec<String>> = OnceLock::new();

/// Add `words` to those that mark a key as secret (compared like the built-in ones: case and
/// `-`/`_` do not matter, a key containing the word is secret). The first call wins.
pub fn add_words(words: &[String]) {
    let words = words
        .iter()
        .map(|w| normal(w.trim()))
        .filter(|w| !w.is_empty())
        .collect();
    let _ = EXTRA.set(words);
}

fn normal(key: &str) -> String {
    key.to_ascii_lowercase().replace('-', "_")
}

/// Whether a key looks like it names a secret: `password`, `secret`, `token`, `api_key`,
/// `authorization`, `credential`, `private_key`, anything ending in `_key`, or containing
/// one of the words added by [`add_words`].
pub fn is_secret(key: &str) -> bool {
    let k = normal(key);
    [
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "authorization",
        "credential",
        "private_key",
    ]
    .iter()
    .any(|p| k.contains(p))
        || k.ends_with("_key")
        || EXTRA
            .get()
            .is_some_and(|extra| extra.iter().any(|w| k.contains(w.as_str())))
}

/// `value` as shown when it sits under `key`: all of it `[FILTERED]` when the key looks
/// secret, else masked within (see [`mask`]).
pub fn mask_under(key: &str, value: &Value) -> Value {
    if is_secret(key) && !value.is_null() {
        Value::String(FILTERED.into())
    } else {
        mask(value)
    }
}

/// A copy of `value` with the values of secret-looking keys replaced by `[FILTERED]`, at
/// any depth.
pub fn mask(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_secret(k) && !v.is_null() {
                        Value::String(FILTERED.into())
                    } else {
                        mask(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(mask).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_secret_keys_at_any_depth() {
        let v = json!({"user": "a", "password": "p", "nested": {"api_key": "k", "Authorization": "Bearer x",
            "list": [{"access_token": "t", "id": 1}]}, "stripe_key": "s", "keyboard": "ok"});
        assert_eq!(
            mask(&v),
            json!({"user": "a", "password": FILTERED, "nested": {"api_key": FILTERED, "Authorization": FILTERED,
                "list": [{"access_token": FILTERED, "id": 1}]}, "stripe_key": FILTERED, "keyboard": "ok"})
        );
    }
}
