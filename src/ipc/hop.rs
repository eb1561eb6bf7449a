//! The hop from the GTK thread to confined code for the calls a page posts
//! (`transport::post`): one thread, `moat-call`, started with the runtime
//! and confined as it starts like the runtime's own threads (`confine`),
//! polls each call once; a call that has not finished then (it awaits a
//! timer, I/O, or a sync command on the blocking pool) goes on as a task of
//! the runtime. Large calls (`transport::fetch`) go to the runtime
//! directly: opening 10 MiB here would hold up the small calls behind it.
//!
//! Why not the runtime alone: an idle tokio worker sleeps in its I/O
//! driver, so handing it a task meant an eventfd write, an `epoll_wait`
//! return and its park again, on every call; that was most of the
//! worker's CPU per small call (`docs/bench.md`). This thread sleeps on a
//! channel and is woken with one futex.
//!
//! Invariants: no call runs on the GTK thread, which cannot be confined;
//! the `moat-call` thread confines itself before it takes its first call,
//! and ends the app if it cannot (`confine::on_thread_start`).
//!
//! Threat: an async command that blocks in its first poll holds up every
//! posted call behind it, as it would hold up one of the runtime's two
//! workers before: async commands must not block (`Commands::asynchronous`).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};

/// A call, ready to run: it delivers its own reply.
pub(crate) type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The way to the `moat-call` thread. Cloned by each transport that uses it;
/// the thread ends when the last clone is dropped.
#[derive(Clone)]
pub(crate) struct Hop {
    to_thread: mpsc::Sender<Task>,
    rt: tokio::runtime::Handle,
}

impl Hop {
    /// Starts the thread; `on_start` runs on it first (the confinement).
    pub(crate) fn start(
        rt: tokio::runtime::Handle,
        on_start: impl Fn() + Send + 'static,
    ) -> std::io::Result<Self> {
        let (to_thread, calls) = mpsc::channel::<Task>();
        let runtime = rt.clone();
        std::thread::Builder::new()
            .name("moat-call".into())
            .spawn(move || {
                on_start();
                // Timers, spawns and the blocking pool reach the runtime.
                let _runtime = runtime.enter();
                let mut cx = Context::from_waker(Waker::noop());
                while let Ok(mut task) = calls.recv() {
                    // A task registers a waker at every poll that returns
                    // `Pending`, so the runtime's first poll of it
                    // registers the runtime's: nothing waits on this one.
                    let polled =
                        std::panic::catch_unwind(AssertUnwindSafe(|| task.as_mut().poll(&mut cx)));
                    match polled {
                        Ok(Poll::Pending) => drop(runtime.spawn(task)),
                        Ok(Poll::Ready(())) => {}
                        // The handler's own panics are caught inside the
                        // task and answered; this one is Moat's, and
                        // the call is dropped as the runtime would drop it.
                        Err(_) => {
                            tracing::error!("a call panicked outside its handler; it gets no reply")
                        }
                    }
                }
            })?;
        Ok(Self { to_thread, rt })
    }

    /// Runs `task` on the `moat-call` thread; never blocks. Should the
    /// thread be gone, the task runs on the runtime instead (confined too).
    pub(crate) fn run(&self, task: Task) {
        if let Err(mpsc::SendError(task)) = self.to_thread.send(task) {
            self.rt.spawn(task);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn a_call_that_finishes_at_once_runs_on_the_call_thread_after_its_start_hook() {
        let rt = runtime();
        let started = Arc::new(std::sync::Mutex::new(None));
        let s = Arc::clone(&started);
        let hop = Hop::start(rt.handle().clone(), move || {
            *s.lock().unwrap() = std::thread::current().name().map(str::to_owned);
        })
        .unwrap();
        let (tx, rx) = mpsc::channel();
        hop.run(Box::pin(async move {
            tx.send(std::thread::current().name().map(str::to_owned))
                .unwrap();
        }));
        let ran_on = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        assert_eq!(ran_on.as_deref(), Some("moat-call"));
        assert_eq!(started.lock().unwrap().as_deref(), Some("moat-call"));
    }

    #[test]
    fn a_call_that_waits_goes_on_on_the_runtime_and_finishes() {
        let rt = runtime();
        let hop = Hop::start(rt.handle().clone(), || {}).unwrap();
        let (tx, rx) = mpsc::channel();
        hop.run(Box::pin(async move {
            let before = std::thread::current().name().map(str::to_owned);
            // A timer of the runtime, and a sync job on its blocking pool.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let blocking = tokio::task::spawn_blocking(|| 7).await.unwrap();
            let after = std::thread::current().name().map(str::to_owned);
            tx.send((before, blocking, after)).unwrap();
        }));
        let (before, blocking, after) =
            rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        assert_eq!(before.as_deref(), Some("moat-call"));
        assert_eq!(blocking, 7);
        assert_ne!(
            after.as_deref(),
            Some("moat-call"),
            "resumed by the runtime"
        );
    }

    #[test]
    fn calls_keep_running_when_the_thread_is_gone() {
        let rt = runtime();
        let (to_thread, calls) = mpsc::channel::<Task>();
        drop(calls);
        let hop = Hop {
            to_thread,
            rt: rt.handle().clone(),
        };
        let (tx, rx) = mpsc::channel();
        hop.run(Box::pin(async move {
            tx.send(()).unwrap();
        }));
        rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    }
}
