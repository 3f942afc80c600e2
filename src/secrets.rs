//! Secret-looking keys and their masking, for everything tasker shows or exports about a
//! task (spans, logs, events, hooks). Steps themselves always receive the real values.

use serde_json::Value;

/// What a masked value becomes.
pub const FILTERED: &str = "[FILTERED]";

/// Whether a key looks like it names a secret: `password`, `secret`, `token`, `api_key`,
/// `authorization`, `credential`, `private_key`, or anything ending in `_key`.
pub fn is_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace('-', "_");
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
