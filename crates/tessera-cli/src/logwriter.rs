//! Standard error for log lines, written in batches by one thread.
//!
//! The server logs a line per request. Written straight to `stderr`, each line is a
//! `write(2)` under the process-wide stderr lock, and two workers logging at once wait for
//! each other (a futex wake-up per collision). Here a request's line is copied into a shared
//! buffer under a lock held only for that copy; a writer thread takes the whole buffer at
//! most every [`FLUSH_EVERY`] (sooner past [`FLUSH_AT`] bytes) and writes it with one call.
//! The writer thread is woken only when the buffer goes from empty to non-empty or crosses
//! [`FLUSH_AT`], never once per line.
//!
//! Nothing is lost: dropping the [`Flusher`] (when the command returns) writes what is left
//! and stops the thread; lines logged after that go straight to stderr. If stderr blocks,
//! loggers wait once [`MAX_PENDING`] bytes are queued instead of growing without bound.

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// Longest a line waits in the buffer.
const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// Buffered bytes that make the writer thread flush at once.
const FLUSH_AT: usize = 64 * 1024;
/// Buffered bytes past which loggers wait for the writer thread.
const MAX_PENDING: usize = 4 * 1024 * 1024;

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    /// The writer thread waits here for lines.
    lines: Condvar,
    /// Loggers wait here while the buffer is over [`MAX_PENDING`].
    drained: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The `MakeWriter` handed to `tracing_subscriber`: every event is one `write_all` of a
/// whole formatted line into the shared buffer.
#[derive(Clone)]
pub(crate) struct BatchedStderr {
    shared: Arc<Shared>,
}

/// Owns the writer thread; dropping it writes everything buffered and stops the thread.
pub(crate) struct Flusher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// A batched stderr and the handle that flushes it.
pub(crate) fn batched_stderr() -> (BatchedStderr, Flusher) {
    batched(io::stderr)
}

fn batched<W: Write + 'static>(
    out: impl FnOnce() -> W + Send + 'static,
) -> (BatchedStderr, Flusher) {
    let shared = Arc::new(Shared::default());
    let worker = shared.clone();
    let thread = std::thread::Builder::new()
        .name("tessera-log".into())
        .spawn(move || write_batches(&worker, &mut out()))
        .ok();
    if thread.is_none() {
        // no thread: behave as plain stderr
        shared.lock().closed = true;
    }
    (
        BatchedStderr {
            shared: shared.clone(),
        },
        Flusher { shared, thread },
    )
}

fn write_batches(shared: &Shared, out: &mut impl Write) {
    let mut batch = Vec::new();
    loop {
        let mut pending = shared.lock();
        while pending.bytes.is_empty() && !pending.closed {
            pending = shared
                .lines
                .wait(pending)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if !pending.closed && pending.bytes.len() < FLUSH_AT {
            // let the lines of the next few milliseconds join this write
            pending = shared
                .lines
                .wait_timeout_while(pending, FLUSH_EVERY, |p| {
                    p.bytes.len() < FLUSH_AT && !p.closed
                })
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        std::mem::swap(&mut batch, &mut pending.bytes);
        let closed = pending.closed;
        drop(pending);
        shared.drained.notify_all();
        let _ = out.write_all(&batch);
        let _ = out.flush();
        batch.clear();
        if closed && shared.lock().bytes.is_empty() {
            return;
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.lines.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Write for BatchedStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let mut pending = self.shared.lock();
        if pending.closed {
            drop(pending);
            return io::stderr().write_all(buf);
        }
        while pending.bytes.len() > MAX_PENDING && !pending.closed {
            self.shared.lines.notify_one();
            pending = self
                .shared
                .drained
                .wait(pending)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let was_empty = pending.bytes.is_empty();
        pending.bytes.extend_from_slice(buf);
        let full = pending.bytes.len() >= FLUSH_AT;
        drop(pending);
        if was_empty || full {
            self.shared.lines.notify_one();
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedStderr {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Write` that appends to a shared vector and counts its `write` calls.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut s = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            s.0.extend_from_slice(buf);
            s.1 += 1;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_in_order_and_in_few_writes_by_the_time_the_flusher_drops() {
        let sink = Sink::default();
        let out = sink.clone();
        let (writer, flusher) = batched(move || out);
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut w = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        let _ = w.write_all(format!("thread {t} line {i}\n").as_bytes());
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap_or_else(|_| unreachable!());
        }
        drop(flusher);
        let (bytes, writes) = sink
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let text = String::from_utf8(bytes).unwrap_or_default();
        for t in 0..4 {
            let mine: Vec<&str> = text
                .lines()
                .filter(|l| l.starts_with(&format!("thread {t} ")))
                .collect();
            assert_eq!(mine.len(), 5_000, "thread {t} lost lines");
            for (i, line) in mine.iter().enumerate() {
                assert_eq!(*line, format!("thread {t} line {i}"));
            }
        }
        assert!(
            writes < 1_000,
            "{writes} writes for 20,000 lines: not batched"
        );
    }

    #[test]
    fn a_line_reaches_the_output_within_the_flush_interval_without_a_drop() {
        let sink = Sink::default();
        let out = sink.clone();
        let (mut writer, _flusher) = batched(move || out);
        let _ = writer.write_all(b"hello\n");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while sink
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .is_empty()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the line was never written"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            sink.0.lock().unwrap_or_else(PoisonError::into_inner).0,
            b"hello\n"
        );
    }
}
