//! Sending with retries: a temporary failure (an SMTP 4xx, a connection
//! refused or cut, an HTTP 429 or 5xx) is tried again after a wait that
//! doubles each time (or the server's `Retry-After`, up to a minute), up to
//! the configured number of retries; a permanent one (an SMTP 5xx, a
//! recipient refused, HTTP 4xx, a certificate that does not verify) stops
//! at once.

use std::time::Duration;

/// Why one attempt failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Worth trying again; the server may say how long to wait.
    Temporary {
        reason: String,
        wait: Option<Duration>,
    },
    Permanent(String),
}

impl Failure {
    pub fn reason(&self) -> &str {
        match self {
            Failure::Temporary { reason, .. } | Failure::Permanent(reason) => reason,
        }
    }
}

/// How often and how long to try.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub retries: u32,
    pub first_wait: Duration,
}

/// The longest a server's `Retry-After` is waited.
const MOST_WAIT: Duration = Duration::from_secs(60);

impl Policy {
    /// Calls `attempt` until it succeeds, fails permanently or the retries
    /// are spent; `tried` hears of every attempt (its number, 1 first).
    /// Returns the attempts made and the last failure, if any.
    pub fn run(
        &self,
        mut attempt: impl FnMut() -> Result<(), Failure>,
        mut tried: impl FnMut(u32),
        sleep: &dyn Fn(Duration),
    ) -> (u32, Option<Failure>) {
        let mut wait = self.first_wait;
        for number in 1..=self.retries.saturating_add(1) {
            let outcome = attempt();
            tried(number);
            match outcome {
                Ok(()) => return (number, None),
                Err(failure @ Failure::Permanent(_)) => return (number, Some(failure)),
                Err(failure) if number > self.retries => return (number, Some(failure)),
                Err(Failure::Temporary { wait: asked, .. }) => {
                    sleep(asked.map_or(wait, |asked| asked.min(MOST_WAIT).max(wait)));
                    wait = wait.saturating_mul(2);
                }
            }
        }
        unreachable!("the loop returns at its last attempt")
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    fn temporary() -> Failure {
        Failure::Temporary {
            reason: "421".into(),
            wait: None,
        }
    }

    #[test]
    fn temporary_failures_are_retried_with_doubling_waits_then_given_up() {
        let policy = Policy {
            retries: 3,
            first_wait: Duration::from_secs(2),
        };
        let slept = RefCell::new(Vec::new());
        let (attempts, last) = policy.run(|| Err(temporary()), |_| {}, &|d| {
            slept.borrow_mut().push(d.as_secs())
        });
        assert_eq!(attempts, 4);
        assert_eq!(last, Some(temporary()));
        assert_eq!(*slept.borrow(), [2, 4, 8]);
    }

    #[test]
    fn a_permanent_failure_stops_at_once_and_success_after_a_retry_counts_two() {
        let policy = Policy {
            retries: 3,
            first_wait: Duration::ZERO,
        };
        let (attempts, last) =
            policy.run(|| Err(Failure::Permanent("550".into())), |_| {}, &|_| {});
        assert_eq!(
            (attempts, last.map(|f| f.reason().to_string())),
            (1, Some("550".into()))
        );
        let mut calls = 0;
        let (attempts, last) = policy.run(
            || {
                calls += 1;
                if calls == 1 {
                    Err(temporary())
                } else {
                    Ok(())
                }
            },
            |_| {},
            &|_| {},
        );
        assert_eq!((attempts, last), (2, None));
    }

    #[test]
    fn a_servers_retry_after_is_waited_up_to_a_minute() {
        let policy = Policy {
            retries: 2,
            first_wait: Duration::from_secs(1),
        };
        let slept = RefCell::new(Vec::new());
        let mut asked = [7u64, 3600].into_iter();
        policy.run(
            || {
                Err(Failure::Temporary {
                    reason: "429".into(),
                    wait: asked.next().map(Duration::from_secs),
                })
            },
            |_| {},
            &|d| slept.borrow_mut().push(d.as_secs()),
        );
        assert_eq!(*slept.borrow(), [7, 60]);
    }
}
