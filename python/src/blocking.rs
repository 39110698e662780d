//! Long library calls run on a worker thread while the calling thread waits with the GIL
//! released, checking for Ctrl-C: other Python threads keep running, and an interrupt returns
//! at once as `KeyboardInterrupt` (the worker is told to stop where it can, see [`Cancel`]).
//! Parallel work runs on a rayon pool made for the call, so forked worker processes work.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

/// How often the waiting thread looks for a pending signal.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Set when the caller was interrupted; work with an observer hook stops at its next check.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

/// Unwinding payload that ends a cancelled worker without running the panic hook (nothing is
/// printed; the caller has already returned).
struct Cancelled;

impl Cancel {
    /// Ends the worker thread if the caller was interrupted. Call only on the worker thread,
    /// outside any parallel section.
    pub fn check(&self) {
        if self.0.load(Ordering::Relaxed) {
            std::panic::resume_unwind(Box::new(Cancelled));
        }
    }
}

/// Runs `work` on a worker thread, the GIL released, and returns its result; Ctrl-C (or any
/// pending signal whose handler raises) returns the handler's exception and cancels `cancel`.
pub fn run<T, F>(py: Python<'_>, cancel: &Cancel, work: F) -> PyResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = channel();
    std::thread::Builder::new()
        .name("lrsde".into())
        .spawn(move || {
            // A pool per call, never rayon's global one: a process forked from this one
            // (multiprocessing's default on Linux) inherits the global pool's state but not its
            // threads, and would wait on them forever.
            let result = match rayon::ThreadPoolBuilder::new().build() {
                Ok(pool) => pool.install(work),
                Err(_) => work(),
            };
            // The receiver is gone if the caller was interrupted: the result is not wanted.
            let _ = tx.send(result);
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a worker thread: {e}")))?;
    let mut rx = rx;
    loop {
        // The receiver moves in and out: it is `Send` but not `Sync`.
        let (received, back) = py.detach(move || (rx.recv_timeout(SIGNAL_POLL), rx));
        rx = back;
        match received {
            Ok(value) => return Ok(value),
            Err(RecvTimeoutError::Timeout) => {
                if let Err(e) = py.check_signals() {
                    cancel.0.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err(
                    "internal error: the lrsde worker thread panicked",
                ));
            }
        }
    }
}
