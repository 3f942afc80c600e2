//! The task context: built from `--context` and `--set`, completed with the schema's
//! defaults and checked against it before anything is written.

use serde_json::{Map, Value};

use super::Template;

/// Parse `--context` text: a JSON object.
pub fn parse_context(text: &str, source: &str) -> Result<Value, String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("the context {source} is not valid JSON: {e}"))?;
    match value {
        Value::Object(_) => Ok(value),
        other => Err(format!(
            "the context {source} must be a JSON object, not {}",
            kind(&other)
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Apply one `--set key.path=value`: the value is JSON when it parses, else a string.
pub fn set(context: &mut Value, assignment: &str) -> Result<(), String> {
    let (path, raw) = assignment
        .split_once('=')
        .ok_or_else(|| format!("`--set {assignment}`: expected KEY=VALUE"))?;
    let keys: Vec<&str> = path.split('.').collect();
    if path.is_empty() || keys.iter().any(|k| k.is_empty()) {
        return Err(format!(
            "`--set {assignment}`: the key is empty; write `--set order.id=42`"
        ));
    }
    let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
    let mut node = context;
    for (depth, key) in keys.iter().enumerate() {
        let Value::Object(map) = node else {
            let parent = keys[..depth].join(".");
            return Err(format!(
                "`--set {assignment}`: `{parent}` is {}, not an object",
                kind(node)
            ));
        };
        if depth + 1 == keys.len() {
            map.insert((*key).to_owned(), value);
            return Ok(());
        }
        node = map
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    Ok(())
}

/// Insert the schema's `default`s where the context lacks them (following `properties`).
fn apply_defaults(schema: &Value, instance: &mut Value) {
    let (Some(Value::Object(props)), Value::Object(map)) = (schema.get("properties"), instance)
    else {
        return;
    };
    for (key, sub) in props {
        match map.get_mut(key) {
            Some(child) => apply_defaults(sub, child),
            None => {
                if let Some(default) = sub.get("default") {
                    map.insert(key.clone(), default.clone());
                }
            }
        }
    }
}

/// The context's validator: `format` is checked (`email`, `date`, `uuid` …), as users of a
/// schema expect, whatever the draft's default.
pub(super) fn validator(
    schema: &Value,
) -> Result<jsonschema::Validator, jsonschema::ValidationError<'static>> {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
}

/// Complete `context` with the schema's defaults and check it; every violation is listed
/// with the JSON pointer of the value at fault.
pub fn prepare(template: &Template, mut context: Value) -> Result<Value, Vec<String>> {
    let Some(schema) = &template.schema else {
        return Ok(context);
    };
    apply_defaults(schema, &mut context);
    let validator = validator(schema).map_err(|e| vec![e.to_string()])?;
    let errors: Vec<String> = validator
        .iter_errors(&context)
        .map(|e| {
            let pointer = e.instance_path().to_string();
            let at = if pointer.is_empty() {
                "/".to_owned()
            } else {
                pointer
            };
            // A secret-looking value is never printed, whatever the schema says of it.
            let secret = at.split('/').any(crate::secrets::is_secret);
            match e.kind() {
                jsonschema::error::ValidationErrorKind::Format { format } => {
                    let value = if secret {
                        "the value".to_owned()
                    } else {
                        e.instance().to_string()
                    };
                    format!(
                        "context `{at}`: {value} is not a valid {format} (the schema's `format: {format}`)"
                    )
                }
                kind if secret => format!(
                    "context `{at}`: the value does not satisfy the schema's `{}` (not shown: the key looks secret)",
                    kind.keyword()
                ),
                _ => format!("context `{at}`: {e}"),
            }
        })
        .collect();
    if errors.is_empty() {
        Ok(context)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_builds_nested_values() {
        let mut c = json!({});
        set(&mut c, "order.id=42").expect("set");
        set(&mut c, "order.express=true").expect("set");
        set(&mut c, "note=hello world").expect("set");
        set(&mut c, "items=[1,2]").expect("set");
        set(&mut c, "empty=").expect("set");
        assert_eq!(
            c,
            json!({"order": {"id": 42, "express": true}, "note": "hello world", "items": [1, 2], "empty": ""})
        );
        assert!(set(&mut c, "=1").unwrap_err().contains("the key is empty"));
        assert!(
            set(&mut c, "a..b=1")
                .unwrap_err()
                .contains("the key is empty")
        );
        assert!(set(&mut c, "noequals").unwrap_err().contains("KEY=VALUE"));
        assert!(
            set(&mut c, "note.x=1")
                .unwrap_err()
                .contains("`note` is a string")
        );
    }

    #[test]
    fn defaults_fill_nested_objects() {
        let schema = json!({"properties": {"express": {"default": false}, "ship": {"properties": {"carrier": {"default": "ups"}}}}});
        let mut c = json!({"ship": {}});
        apply_defaults(&schema, &mut c);
        assert_eq!(c, json!({"express": false, "ship": {"carrier": "ups"}}));
    }
}
