//! The unconfined side's few acts for confined threads.
//!
//! A thread confined by Landlock cannot gain a right, and two built-ins
//! need what no rule set fixed at startup can give: files and folders the
//! user picks in a chooser while the app runs (`dialog.*` grants), and the
//! system's opener, which runs the user's browser or mail client with all
//! its rights. So one thread, started before any confinement and never
//! confined, does exactly these, each after its user-space check:
//! - an `fs.*` operation on a path the page load's grants cover, judged
//!   against the grants alone (and `scope.fs`'s deny patterns), with the
//!   same race-free opens as everywhere (`api::fs`);
//! - starting the opener with a URL `scope.open` allowed (`api::shell`).
//!
//! Nothing else is ever sent here; the two call sites are those modules.
//! A confined thread waits for the answer.

#![cfg_attr(
    not(any(feature = "api-shell", feature = "api-dialog")),
    allow(
        dead_code,
        reason = "only the modules that use it (api-shell, api-dialog) send work"
    )
)]

use std::sync::mpsc;
use std::sync::Mutex;

type Job = Box<dyn FnOnce() + Send>;

/// The broker thread's queue.
#[derive(Debug)]
pub(crate) struct Broker {
    jobs: Mutex<mpsc::Sender<Job>>,
}

/// The broker thread is gone (the app is ending).
#[derive(Debug)]
pub(crate) struct Gone;

impl Broker {
    /// Starts the broker thread. Call it on an unconfined thread (startup,
    /// the main thread): the broker keeps that thread's rights.
    pub(crate) fn start() -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("moat-broker".into())
            .spawn(move || {
                for job in rx {
                    job();
                }
            });
        if let Err(e) = spawned {
            // Every request then answers Gone: the acts are refused, not
            // done confined.
            tracing::error!(error = %e, "the broker thread did not start; grants and shell.open will fail");
        }
        Self {
            jobs: Mutex::new(tx),
        }
    }

    /// Runs `act` on the broker thread and returns its result.
    pub(crate) fn run<R: Send + 'static>(
        &self,
        act: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, Gone> {
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move || {
            let _ = tx.send(act());
        });
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job)
            .map_err(|_| Gone)?;
        rx.recv().map_err(|_| Gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acts_run_on_the_broker_thread_and_answer() {
        let b = Broker::start();
        let name = b
            .run(|| std::thread::current().name().map(str::to_owned))
            .unwrap();
        assert_eq!(name.as_deref(), Some("moat-broker"));
        assert_eq!(b.run(|| 40 + 2).unwrap(), 42);
    }
}
