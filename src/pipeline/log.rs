//! A run's log on stderr: a line per event, as text for a person reading a
//! terminal or cron mail, or as JSON lines (`--log-format json`) for a log
//! collector. Every JSON line has `time`, `level`, `pipeline`, `run`,
//! `period` and `event`, plus the event's own keys.

use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    /// The format's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

pub struct Log<'a> {
    format: LogFormat,
    pipeline: String,
    run: i64,
    period: String,
    clock: &'a dyn Fn() -> NaiveDateTime,
}

impl<'a> Log<'a> {
    pub fn new(
        format: LogFormat,
        pipeline: &str,
        run: i64,
        period: &str,
        clock: &'a dyn Fn() -> NaiveDateTime,
    ) -> Log<'a> {
        Log {
            format,
            pipeline: pipeline.to_string(),
            run,
            period: period.to_string(),
            clock,
        }
    }

    fn emit(&self, level: &str, event: &str, fields: Map<String, Value>, text: &str) {
        let time = (self.clock)().format("%Y-%m-%dT%H:%M:%S").to_string();
        match self.format {
            LogFormat::Json => {
                let mut line = Map::new();
                line.insert("time".into(), json!(time));
                line.insert("level".into(), json!(level));
                line.insert("pipeline".into(), json!(self.pipeline));
                line.insert("run".into(), json!(self.run));
                line.insert("period".into(), json!(self.period));
                line.insert("event".into(), json!(event));
                line.extend(fields);
                eprintln!("{}", Value::Object(line));
            }
            LogFormat::Text => eprintln!(
                "{} {} {} run {}: {text}",
                &time[11..],
                self.pipeline,
                self.period,
                self.run
            ),
        }
    }

    pub fn info(&self, event: &str, fields: &[(&str, Value)]) {
        let map: Map<String, Value> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let text = fields
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k} {s}"),
                other => format!("{k} {other}"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        self.emit(
            "info",
            event,
            map,
            &format!("{} ({text})", event.replace('_', " ")),
        );
    }

    pub fn warn(&self, event: &str, message: &str) {
        let mut map = Map::new();
        map.insert("message".into(), json!(message));
        self.emit("warn", event, map, message);
    }

    pub fn step_started(&self, step: usize, of: usize, kind: &str) {
        let mut map = Map::new();
        map.insert("step".into(), json!(step));
        map.insert("kind".into(), json!(kind));
        self.emit(
            "info",
            "step_started",
            map,
            &format!("step {step}/{of} {kind} …"),
        );
    }

    pub fn step_finished(
        &self,
        step: usize,
        kind: &str,
        status: &str,
        seconds: f64,
        outputs: &[String],
        message: &str,
    ) {
        let mut map = Map::new();
        map.insert("step".into(), json!(step));
        map.insert("kind".into(), json!(kind));
        map.insert("status".into(), json!(status));
        map.insert("seconds".into(), json!((seconds * 1000.0).round() / 1000.0));
        map.insert("outputs".into(), json!(outputs));
        map.insert("message".into(), json!(message));
        let level = if status == "ok" { "info" } else { "error" };
        let mut text = format!("step {step} {kind} {status} in {seconds:.2} s: {message}");
        for output in outputs {
            text.push_str(&format!("\n    {output}"));
        }
        self.emit(level, "step_finished", map, &text);
    }
}
