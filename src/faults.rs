//! Fail points: named steps of a load (and of a pipeline run) where a test
//! makes the process fail on purpose — killed with SIGKILL, as a power cut
//! or an out-of-memory killer would, or paused until the test says go — to
//! prove that the warehouse survives every step. The command line reads
//! them from `OPSKPI_FAIL_POINTS` (`after_insert=kill`,
//! `after_stage=pause:/tmp/go`, several separated by `,`); the library only
//! receives them. Without any, a fail point costs a look-up in an empty
//! list.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};

/// What happens at a fail point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The process is killed with SIGKILL: nothing after it runs.
    Kill,
    /// The step fails with an error.
    Fail,
    /// The process creates this file and waits until it is removed.
    Pause(PathBuf),
    /// (At `checkpoint` only.) The load's commit checkpoints at once with
    /// DuckDB's `debug_checkpoint_abort` set to this step of the
    /// checkpoint, and the process is killed after it.
    CheckpointAbort(String),
}

/// The steps of a checkpoint DuckDB can abort at (`debug_checkpoint_abort`).
pub const CHECKPOINT_STEPS: [&str; 6] = [
    "before_truncate",
    "before_header",
    "after_free_list_write",
    "before_wal_finish",
    "before_moving_recovery",
    "before_deleting_checkpoint_wal",
];

/// The fail points in force: (step name, its n-th time or every time,
/// action).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    points: Vec<(String, Option<u32>, Action)>,
    /// How many times each point was reached so far.
    seen: std::sync::Arc<std::sync::Mutex<Vec<(String, u32)>>>,
}

impl Faults {
    /// No fail point at all.
    pub fn none() -> Faults {
        Faults::default()
    }

    /// Reads `name=action` items separated by `,`: `kill`, `fail` or
    /// `pause:PATH`; `name#n=action` acts at the n-th time the step is
    /// reached only (the first is 1).
    pub fn parse(text: &str) -> Result<Faults> {
        let mut points = Vec::new();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let bad = || {
                Error::config_hint(
                    format!("cannot read the fail point `{item}`"),
                    "write NAME=kill, NAME=fail, NAME=pause:PATH (NAME#N=… for its N-th time) or checkpoint=abort:STEP",
                )
            };
            let (name, action) = item.split_once('=').ok_or_else(bad)?;
            let (name, nth) = match name.split_once('#') {
                Some((name, nth)) => (name, Some(nth.parse::<u32>().map_err(|_| bad())?)),
                None => (name, None),
            };
            let action = match action {
                "kill" => Action::Kill,
                "fail" => Action::Fail,
                _ => match (action.strip_prefix("pause:"), action.strip_prefix("abort:")) {
                    (Some(path), _) if !path.is_empty() => Action::Pause(PathBuf::from(path)),
                    (_, Some(step)) if name == "checkpoint" && CHECKPOINT_STEPS.contains(&step) => {
                        Action::CheckpointAbort(step.to_string())
                    }
                    _ => return Err(bad()),
                },
            };
            points.push((name.to_string(), nth, action));
        }
        Ok(Faults {
            points,
            seen: Default::default(),
        })
    }

    /// Reached the step `name`: acts if a fail point says so.
    pub fn at(&self, name: &str) -> Result<()> {
        if self.points.is_empty() {
            return Ok(());
        }
        let count = {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            match seen.iter_mut().find(|(seen, _)| seen == name) {
                Some((_, count)) => {
                    *count += 1;
                    *count
                }
                None => {
                    seen.push((name.to_string(), 1));
                    1
                }
            }
        };
        let action = self
            .points
            .iter()
            .find(|(point, nth, _)| point == name && nth.is_none_or(|nth| nth == count))
            .map(|(_, _, action)| action);
        match action {
            None => Ok(()),
            Some(Action::Kill) => kill(),
            // Acted on by the commit (`checkpoint_abort`), not here.
            Some(Action::CheckpointAbort(_)) => Ok(()),
            Some(Action::Fail) => Err(Error::config(format!("fail point `{name}`"))),
            Some(Action::Pause(path)) => {
                fs_err::write(path, name)?;
                while path.exists() {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(())
            }
        }
    }
}

impl Faults {
    /// The step of the checkpoint a load's commit is to abort at, if a
    /// `checkpoint=abort:STEP` fail point is set.
    pub fn checkpoint_abort(&self) -> Option<&str> {
        self.points
            .iter()
            .find_map(|(name, _, action)| match action {
                Action::CheckpointAbort(step) if name == "checkpoint" => Some(step.as_str()),
                _ => None,
            })
    }
}

/// SIGKILL to this process: no destructor, no flush, no atexit handler runs
/// (elsewhere than Unix, an abort).
pub fn kill() -> Result<()> {
    #[cfg(unix)]
    // SAFETY: kill(2) on this process's own id with a signal number; it
    // does not return once the signal is delivered.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_points_are_read_and_act_on_their_turn() {
        let faults = Faults::parse("after_stage#2=fail, before_commit=fail").unwrap();
        assert!(faults.at("after_stage").is_ok());
        assert!(faults.at("after_stage").is_err());
        assert!(faults.at("after_stage").is_ok());
        assert!(faults.at("after_insert").is_ok());
        assert!(faults.at("before_commit").is_err());
        assert!(Faults::parse("x=explode").is_err());
        assert!(Faults::parse("x#a=kill").is_err());
        assert!(Faults::parse("x=pause:").is_err());
        assert!(Faults::parse("checkpoint=abort:sideways").is_err());
        assert!(Faults::parse("after_insert=abort:before_header").is_err());
        let checkpoint = Faults::parse("checkpoint=abort:before_header").unwrap();
        assert_eq!(checkpoint.checkpoint_abort(), Some("before_header"));
        assert!(checkpoint.at("checkpoint").is_ok());
        assert!(Faults::parse("").unwrap().points.is_empty());
    }
}
