//! The demo's pushes: long work that reports its progress on a channel, a
//! clock that ticks as an event, and what the tests drive.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use moat::{AppHandle, Channel, Commands, NoArgs, PushError};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct LongWork {
    steps: u32,
    /// Milliseconds per step (at most one second).
    step_ms: u64,
    progress: Channel<Progress>,
}

#[derive(Serialize)]
struct Progress {
    done: u32,
    total: u32,
}

/// Steps through `steps`, telling the page after each; stops early when the
/// page is gone (the channel then refuses to send).
async fn long_work(a: LongWork) -> Result<String, String> {
    for done in 1..=a.steps {
        tokio::time::sleep(Duration::from_millis(a.step_ms.min(1000))).await;
        if a.progress
            .send(&Progress {
                done,
                total: a.steps,
            })
            .is_err()
        {
            return Err(format!(
                "stopped after {done} of {} steps: the page is gone",
                a.steps
            ));
        }
    }
    Ok(format!("{} steps done", a.steps))
}

#[derive(Deserialize)]
struct Emit {
    name: String,
    payload: serde_json::Value,
}

#[derive(Deserialize)]
struct Burst {
    count: u32,
    progress: Channel<u32>,
    /// Makes the call large, so it travels as a `fetch` (its reply is the
    /// response, its messages scripts).
    #[serde(default)]
    #[allow(dead_code)]
    pad: String,
}

#[derive(Deserialize)]
struct LateSend {
    progress: Channel<u32>,
}

/// What a send made after `late_send` returned came to.
static LATE: Mutex<Option<String>> = Mutex::new(None);

#[derive(Deserialize)]
struct EmitLater {
    name: String,
    /// Milliseconds to wait first (at most ten seconds).
    after_ms: u64,
}

/// What the event `emit_later` sent came to.
static EMITTED: Mutex<Option<String>> = Mutex::new(None);

/// Commands for the push demo and its tests.
pub fn commands() -> Commands {
    Commands::new()
        .asynchronous("long_work", |a: LongWork, _| long_work(a))
        // Sends `count` messages and returns without awaiting: it finishes at
        // once, so its reply usually rides in the answer to the frame's post.
        .asynchronous("burst", |a: Burst, _| async move {
            for i in 1..=a.count {
                a.progress.send(&i).map_err(|e| e.to_string())?;
            }
            Ok::<_, String>(a.count)
        })
        .sync("emit", |a: Emit, ctx| {
            ctx.emit(&a.name, &a.payload).map_err(|e| e.to_string())
        })
        // Returns at once, and sends once more on its channel 100 ms later,
        // after the channel has closed.
        .sync("late_send", |a: LateSend, _| {
            a.progress.send(&1).map_err(|e| e.to_string())?;
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100));
                let r = a.progress.send(&2);
                *LATE.lock().unwrap_or_else(|p| p.into_inner()) = Some(match r {
                    Ok(()) => "sent".into(),
                    Err(PushError::Closed) => "closed".into(),
                    Err(e) => e.to_string(),
                });
            });
            Ok::<_, String>("returned")
        })
        .sync("late_send_result", |_: NoArgs, _| {
            Ok::<_, ()>(LATE.lock().unwrap_or_else(|p| p.into_inner()).clone())
        })
        // Emits an event after a while, for the page load the call came
        // from: after a reload it must reach no one.
        .asynchronous("emit_later", |a: EmitLater, ctx| async move {
            tokio::time::sleep(Duration::from_millis(a.after_ms.min(10_000))).await;
            let r = match ctx.emit(&a.name, &"late") {
                Ok(()) => "sent".to_owned(),
                Err(PushError::PageGone) => "page_gone".to_owned(),
                Err(e) => e.to_string(),
            };
            *EMITTED.lock().unwrap_or_else(|p| p.into_inner()) = Some(r.clone());
            Ok::<_, ()>(r)
        })
        .sync("emit_later_result", |_: NoArgs, _| {
            Ok::<_, ()>(EMITTED.lock().unwrap_or_else(|p| p.into_inner()).clone())
        })
}

/// The clock: an event `clock` every second, `HH:MM:SS` UTC.
pub fn start_clock(app: AppHandle) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let secs = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let now = format!(
                "{:02}:{:02}:{:02}",
                secs / 3600 % 24,
                secs / 60 % 60,
                secs % 60
            );
            // No page, or no listener: dropped.
            let _ = app.emit("clock", &now);
        }
    });
}
