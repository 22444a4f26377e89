//! The `aegisrt analyze` input format: [`parse_task_set_json`] turns
//! `{"tasks":[{"name","wcet_us","period_us","deadline_us","priority"}]}` into validated
//! [`TaskParams`], with errors that name the task and the field.
//!
//! Owns the input wire format and its validation messages; it must not run any analysis.
//! Rules: all five fields required, no other fields (top level: only `tasks`); times are
//! positive integers of microseconds (`wcet ≤ deadline ≤ period`); `priority` is a
//! non-negative integer, 0 highest, unique; names are non-empty and unique.

use crate::task::{TaskParams, TaskSetError, validate_task_set};
use aegis_trace::Duration;
use serde_json::Value;
use std::fmt;

/// Which task an input error is about: its position and, when readable, its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskRef {
    /// Index in the `tasks` array.
    pub index: usize,
    /// The `name` field, if it was a string.
    pub name: Option<String>,
}

impl fmt::Display for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "tasks[{}] ({n:?})", self.index),
            None => write!(f, "tasks[{}]", self.index),
        }
    }
}

/// Why an `analyze` input was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// Not JSON at all.
    #[error("input is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The top level is not `{"tasks": [...]}`.
    #[error("top level: {0}; expected {{\"tasks\": [ ... ]}}")]
    Shape(String),
    /// A field the format does not know.
    #[error(
        "{task}: unknown field {field:?}; allowed: name, wcet_us, period_us, deadline_us, priority"
    )]
    UnknownField {
        /// The task.
        task: TaskRef,
        /// The unknown key.
        field: String,
    },
    /// A required field is absent.
    #[error("{task}: missing field {field:?}")]
    MissingField {
        /// The task.
        task: TaskRef,
        /// The missing key.
        field: &'static str,
    },
    /// A field has the wrong type or value.
    #[error("{task}: field {field:?} = {value}: {problem}")]
    BadValue {
        /// The task.
        task: TaskRef,
        /// The key.
        field: &'static str,
        /// The value as written.
        value: String,
        /// What is wrong and the fix.
        problem: &'static str,
    },
    /// The values parse but do not form a valid task set.
    #[error("{0}")]
    Invalid(#[from] TaskSetError),
}

const FIELDS: [&str; 5] = ["name", "wcet_us", "period_us", "deadline_us", "priority"];

/// Parses and validates an `analyze` input document.
///
/// # Errors
/// [`InputError`] naming the task (index and name) and the field.
pub fn parse_task_set_json(input: &str) -> Result<Vec<TaskParams>, InputError> {
    let doc: Value = serde_json::from_str(input)?;
    let Value::Object(top) = doc else {
        return Err(InputError::Shape("not an object".into()));
    };
    if let Some(k) = top.keys().find(|k| k.as_str() != "tasks") {
        return Err(InputError::Shape(format!("unknown field {k:?}")));
    }
    let Some(Value::Array(items)) = top.get("tasks") else {
        return Err(InputError::Shape("field \"tasks\" missing or not an array".into()));
    };
    let tasks =
        items.iter().enumerate().map(|(i, v)| parse_task(i, v)).collect::<Result<Vec<_>, _>>()?;
    validate_task_set(&tasks, true)?;
    Ok(tasks)
}

fn parse_task(index: usize, v: &Value) -> Result<TaskParams, InputError> {
    let Value::Object(obj) = v else {
        return Err(InputError::Shape(format!("tasks[{index}] is not an object")));
    };
    let task = TaskRef { index, name: obj.get("name").and_then(Value::as_str).map(str::to_string) };
    if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(InputError::UnknownField { task, field: k.clone() });
    }
    let get = |field: &'static str| {
        obj.get(field).ok_or_else(|| InputError::MissingField { task: task.clone(), field })
    };
    let bad = |field, value: &Value, problem| InputError::BadValue {
        task: task.clone(),
        field,
        value: value.to_string(),
        problem,
    };
    let name = match get("name")? {
        Value::String(s) if !s.is_empty() => s.clone(),
        other => return Err(bad("name", other, "give a non-empty string")),
    };
    let int = |field: &'static str| -> Result<u64, InputError> {
        let v = get(field)?;
        match v {
            Value::Number(n) if n.is_u64() => n.as_u64().ok_or_else(|| bad(field, v, "")),
            Value::Number(n) if n.is_i64() => {
                Err(bad(field, v, "negative; give a non-negative integer"))
            }
            Value::Number(_) => Err(bad(field, v, "not an integer; give a whole number")),
            _ => Err(bad(field, v, "not a number; give an integer")),
        }
    };
    let micros = |field: &'static str| -> Result<Duration, InputError> {
        let us = int(field)?;
        us.checked_mul(1_000).map(Duration::from_nanos).ok_or_else(|| {
            bad(field, get(field).unwrap_or(&Value::Null), "too large (over u64 nanoseconds)")
        })
    };
    let wcet = micros("wcet_us")?;
    let period = micros("period_us")?;
    let deadline = micros("deadline_us")?;
    let prio_raw = int("priority")?;
    let priority = u32::try_from(prio_raw).map_err(|_| {
        bad("priority", get("priority").unwrap_or(&Value::Null), "too large; use 0 ..= 4294967295")
    })?;
    Ok(TaskParams { name: name.into(), wcet, period, deadline, priority })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        match parse_task_set_json(s) {
            Err(e) => e.to_string(),
            Ok(t) => panic!("accepted {t:?}"),
        }
    }

    const OK: &str = r#"{"tasks":[{"name":"cam","wcet_us":2000,"period_us":10000,"deadline_us":8000,"priority":0}]}"#;

    #[test]
    fn valid_input_parses_to_nanoseconds() {
        let t = parse_task_set_json(OK).unwrap();
        assert_eq!(t[0].wcet, Duration::from_millis(2));
        assert_eq!(t[0].deadline, Duration::from_millis(8));
        assert!(parse_task_set_json(r#"{"tasks":[]}"#).unwrap().is_empty());
    }

    #[test]
    fn errors_name_task_and_field() {
        let f = |k: &str, v: &str| {
            OK.replace(&format!("\"{k}\":{}", default(k)), &format!("\"{k}\":{v}"))
        };
        fn default(k: &str) -> &'static str {
            match k {
                "wcet_us" => "2000",
                "period_us" => "10000",
                "deadline_us" => "8000",
                "priority" => "0",
                _ => "\"cam\"",
            }
        }
        assert!(
            err(&f("wcet_us", "-5"))
                .contains("tasks[0] (\"cam\"): field \"wcet_us\" = -5: negative")
        );
        assert!(err(&f("period_us", "1.5")).contains("\"period_us\" = 1.5: not an integer"));
        assert!(err(&f("deadline_us", "\"8\"")).contains("not a number"));
        assert!(err(&f("priority", "4294967296")).contains("too large"));
        assert!(err(&f("wcet_us", "18446744073709551615")).contains("over u64"));
        assert!(err(&f("name", "\"\"")).contains("non-empty"));
        assert!(err(&f("period_us", "0")).contains("task cam: period is zero"));
        assert!(err(&f("wcet_us", "9000")).contains("exceeds deadline"));
        assert!(err(&f("period_us", "7000")).contains("deadline 8.000 ms exceeds period"));
        assert!(
            err(&OK.replace("\"priority\":0", "\"priority\":0,\"jitter_us\":1"))
                .contains("unknown field \"jitter_us\"")
        );
        assert!(err(&OK.replace(",\"priority\":0", "")).contains("missing field \"priority\""));
        let two = OK.replace(
            "}]}",
            "},{\"name\":\"cam\",\"wcet_us\":1,\"period_us\":2,\"deadline_us\":2,\"priority\":1}]}",
        );
        assert!(err(&two).contains("appears twice"));
        let two = OK.replace(
            "}]}",
            "},{\"name\":\"b\",\"wcet_us\":1,\"period_us\":2,\"deadline_us\":2,\"priority\":0}]}",
        );
        assert!(err(&two).contains("share priority 0"));
        assert!(err("[1]").contains("not an object"));
        assert!(err("{\"tasks\":[],\"x\":1}").contains("unknown field \"x\""));
        assert!(err("{\"tasks\":3}").contains("not an array"));
        assert!(err("{\"tasks\":[3]}").contains("tasks[0] is not an object"));
        assert!(err("{\"tasks\":[{\"wcet_us\":1}]}").contains("tasks[0]: missing field \"name\""));
        assert!(err("{").contains("not valid JSON"));
    }
}
