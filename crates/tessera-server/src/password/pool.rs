//! Password hashing off the async runtime, on a few dedicated threads.
//!
//! Argon2id at Tessera's parameters needs 19 MiB and ~10 ms of a core per hash. Run on
//! tokio's blocking pool, a sign-in storm spreads hashes over up to hundreds of threads, and
//! glibc keeps each thread's freed 19 MiB in that thread's arena: peak RSS grew past a
//! gigabyte. Here a fixed number of threads (by default one fewer than the cores, at least
//! one, so the runtime keeps a core for every other request) each keep one working buffer,
//! given back after a quiet minute. Hashes beyond that queue, in arrival order.
//!
//! The hashing threads run at a lower scheduling priority than the rest of the process
//! ([`HASH_NICE`]): a hash is 15 ms of one core, and a read that wakes up on the core a hash
//! holds should not wait for the kernel's time slice to end. When nothing else waits, a
//! hash still has the whole core, so sign-ins lose nothing on an otherwise idle machine.
//! (More threads than one fewer than the cores would use idle cores, but each holds 19 MiB:
//! see `--hash-threads`.)
//!
//! The queue is bounded by time, not only by length: each hash's duration is tracked, and a
//! job whose expected wait (the work queued ahead of it, spread over the threads) would pass
//! [`HashPool::new`]'s `max_wait` is refused at once, as is any beyond [`MAX_PENDING`], so
//! the caller can answer 503 with `Retry-After` instead of timing out later; a job that
//! still waited longer than that (the estimate was low) is refused when its turn comes. A job whose
//! caller has gone (the client closed the connection, the request timed out) is skipped
//! when its turn comes: abandoned sign-ins cost nothing.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tessera_core::HashMemory;

/// How long a hashing thread keeps its buffer without work.
const IDLE_RELEASE: Duration = Duration::from_secs(60);
/// Most password checks queued or running at once, whatever their expected wait.
pub(crate) const MAX_PENDING: usize = 256;
/// What a hash is assumed to take before the first one has been timed (Argon2id at
/// Tessera's parameters takes 10-30 ms on one core).
const FIRST_ESTIMATE: Duration = Duration::from_millis(25);

/// How many steps of niceness the hashing threads sit below the rest of the process
/// (Linux), so the
/// scheduler gives a waking request handler the core at once (a nice-10 thread weighs about
/// a tenth of a nice-0 one) — and a hash still gets every cycle nobody else wants.
pub(crate) const HASH_NICE: i32 = 10;

type Job = Box<dyn FnOnce(&mut HashMemory) + Send>;

/// Why a job did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashRefused {
    /// The queue is full for now; try again after this long.
    Busy(Duration),
    /// The job panicked, or the pool is gone.
    Failed,
}

/// Counters and the queue depth, read by `/metrics`.
#[derive(Debug, Default)]
pub struct HashStats {
    /// Jobs queued or running now.
    pending: AtomicUsize,
    /// Jobs refused because the queue was full.
    shed: AtomicU64,
    /// Jobs skipped because their caller had gone.
    abandoned: AtomicU64,
    /// Jobs run.
    completed: AtomicU64,
    /// A moving average of one job's duration, in microseconds (0: none timed yet).
    average_micros: AtomicU64,
}

impl HashStats {
    /// Jobs queued or running now.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// Jobs refused because the queue was full.
    pub fn shed(&self) -> u64 {
        self.shed.load(Ordering::Relaxed)
    }

    /// Jobs skipped because their caller had gone.
    pub fn abandoned(&self) -> u64 {
        self.abandoned.load(Ordering::Relaxed)
    }

    /// Jobs run.
    pub fn completed(&self) -> u64 {
        self.completed.load(Ordering::Relaxed)
    }

    fn average(&self) -> Duration {
        match self.average_micros.load(Ordering::Relaxed) {
            0 => FIRST_ESTIMATE,
            us => Duration::from_micros(us),
        }
    }

    fn record(&self, took: Duration) {
        let sample = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
        let old = self.average_micros.load(Ordering::Relaxed);
        // weight 1/8: follows a change of machine load within a few dozen hashes
        let new = if old == 0 {
            sample
        } else {
            old - old / 8 + sample / 8
        };
        self.average_micros.store(new.max(1), Ordering::Relaxed);
    }
}

/// The hashing threads. Dropping the pool ends them once the queue is empty.
#[derive(Debug)]
pub(crate) struct HashPool {
    jobs: flume::Sender<Job>,
    threads: usize,
    max_wait: Duration,
    stats: Arc<HashStats>,
}

/// The default thread count: one fewer than the cores, at least one.
pub(crate) fn default_hash_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get().saturating_sub(1))
        .max(1)
}

/// A caller's place in the queue, given back however its wait ends (answered, failed, or
/// the caller dropped): abandoned jobs still queued do not count against the next caller.
struct Pending(Arc<HashStats>);

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.pending.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HashPool {
    /// Starts `threads` hashing threads (at least one); a job that would wait longer than
    /// `max_wait` is refused.
    pub(crate) fn new(threads: usize, max_wait: Duration) -> std::io::Result<Self> {
        let threads = threads.max(1);
        let (jobs, queue) = flume::unbounded::<Job>();
        for i in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("tessera-hash-{i}"))
                .spawn(move || work(&queue))?;
        }
        Ok(Self {
            jobs,
            threads,
            max_wait,
            stats: Arc::default(),
        })
    }

    /// The pool's counters.
    pub(crate) fn stats(&self) -> Arc<HashStats> {
        self.stats.clone()
    }

    /// Runs `job` on a hashing thread and waits for its result. Refused at once when the
    /// queue is full; skipped if this future is dropped before the job's turn.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut HashMemory) -> T + Send + 'static,
    ) -> Result<T, HashRefused> {
        let ahead = self.stats.pending.fetch_add(1, Ordering::AcqRel);
        let place = Pending(self.stats.clone());
        let waves = u32::try_from(ahead / self.threads + 1).unwrap_or(u32::MAX);
        let expected = self.stats.average().saturating_mul(waves);
        if ahead >= MAX_PENDING || expected > self.max_wait {
            drop(place);
            self.stats.shed.fetch_add(1, Ordering::Relaxed);
            return Err(HashRefused::Busy(expected.min(self.max_wait)));
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<T, HashRefused>>();
        let stats = self.stats.clone();
        let (queued, max_wait) = (Instant::now(), self.max_wait);
        let job: Job = Box::new(move |memory| {
            if tx.is_closed() {
                stats.abandoned.fetch_add(1, Ordering::Relaxed);
                return;
            }
            // The estimate at admission can be wrong (a slower machine than the prior, work
            // ahead that took longer): a job that has already waited past the bound is
            // answered 503 rather than run late into its caller's timeout.
            let waited = queued.elapsed();
            if waited > max_wait {
                stats.shed.fetch_add(1, Ordering::Relaxed);
                let _ = tx.send(Err(HashRefused::Busy(waited)));
                return;
            }
            let started = Instant::now();
            let result = job(memory);
            stats.record(started.elapsed());
            stats.completed.fetch_add(1, Ordering::Relaxed);
            let _ = tx.send(Ok(result));
        });
        self.jobs.send(job).map_err(|_| HashRefused::Failed)?;
        let result = rx.await.unwrap_or(Err(HashRefused::Failed));
        drop(place);
        result
    }
}

/// Lowers the calling thread's priority by [`HASH_NICE`] steps (at most to 19), relative to
/// the niceness it inherited, so a process started with `nice` keeps its hashing below it
/// too. Linux's `setpriority` on a thread id applies to that thread alone. Where it is
/// refused, hashing runs at the process's priority, as before.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let me = Some(rustix::thread::gettid());
        let lowered = rustix::process::getpriority_process(me)
            .and_then(|now| rustix::process::setpriority_process(me, (now + HASH_NICE).min(19)));
        if let Err(e) = lowered {
            tracing::debug!(error = %e, "the hashing thread keeps the process's priority");
        }
    }
}

fn work(queue: &flume::Receiver<Job>) {
    lower_priority();
    let mut memory = HashMemory::default();
    loop {
        match queue.recv_timeout(IDLE_RELEASE) {
            Ok(job) => {
                // A panicking job drops its result sender (its caller answers 500); the
                // thread and its buffer stay for the next one.
                if std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory))).is_err() {
                    memory.release();
                }
            }
            Err(flume::RecvTimeoutError::Timeout) => memory.release(),
            Err(flume::RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_jobs_on_named_threads_and_survives_a_panic() {
        let pool = HashPool::new(1, Duration::from_secs(10)).unwrap_or_else(|e| panic!("{e}"));
        let name = pool
            .run(|_| std::thread::current().name().map(str::to_owned))
            .await;
        assert_eq!(name, Ok(Some("tessera-hash-0".to_owned())));
        let panicked: Result<(), _> = pool.run(|_| panic!("boom")).await;
        assert_eq!(panicked, Err(HashRefused::Failed));
        assert_eq!(pool.run(|_| 7).await, Ok(7));
        assert_eq!(pool.stats().pending(), 0);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_below_the_process_priority() {
        let pool = HashPool::new(1, Duration::from_secs(10)).unwrap_or_else(|e| panic!("{e}"));
        let own = rustix::process::getpriority_process(Some(rustix::thread::gettid()))
            .unwrap_or_else(|e| panic!("{e}"));
        let hashing = pool
            .run(|_| rustix::process::getpriority_process(Some(rustix::thread::gettid())).ok())
            .await;
        // relative to the test's own niceness (a harness may already run below 0)
        assert_eq!(hashing, Ok(Some((own + HASH_NICE).min(19))));
    }

    #[tokio::test]
    async fn keeps_one_buffer_per_thread_between_hashes() {
        let pool = HashPool::new(1, Duration::from_secs(10)).unwrap_or_else(|e| panic!("{e}"));
        let hasher = std::sync::Arc::new(
            tessera_core::PasswordHasher::new(64, 1, 1).unwrap_or_else(|_| unreachable!()),
        );
        let h = hasher.clone();
        let held = pool
            .run(move |memory| {
                let password = tessera_core::Password::candidate("pool password 1")
                    .unwrap_or_else(|_| unreachable!());
                let _ = h.hash_with(&password, memory);
                memory.held_bytes()
            })
            .await;
        assert_eq!(held, Ok(64 * 1024));
        let still = pool.run(|memory| memory.held_bytes()).await;
        assert_eq!(still, Ok(64 * 1024));
    }

    #[tokio::test]
    async fn a_job_whose_caller_has_gone_is_skipped() {
        let pool =
            Arc::new(HashPool::new(1, Duration::from_secs(10)).unwrap_or_else(|e| panic!("{e}")));
        // hold the only thread until the abandoned jobs are queued behind it
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let blocker = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(move |_| wait.recv().is_ok()).await }
        });
        while pool.stats().pending() < 1 {
            tokio::task::yield_now().await;
        }
        let ran = Arc::new(AtomicUsize::new(0));
        for _ in 0..5 {
            let ran = ran.clone();
            let queued = pool.run(move |_| ran.fetch_add(1, Ordering::SeqCst));
            // queue the job, then drop the caller before its turn
            let _ = tokio::time::timeout(Duration::from_millis(5), queued).await;
        }
        assert_eq!(
            pool.stats().pending(),
            1,
            "gone callers do not count as waiting"
        );
        release.send(()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(blocker.await.ok(), Some(Ok(true)));
        assert_eq!(pool.run(|_| ()).await, Ok(()));
        assert_eq!(ran.load(Ordering::SeqCst), 0, "no abandoned job ran");
        assert_eq!(pool.stats().abandoned(), 5);
        assert_eq!(pool.stats().pending(), 0);
    }

    #[tokio::test]
    async fn a_job_that_would_wait_too_long_is_refused_at_once() {
        let pool = Arc::new(
            HashPool::new(1, Duration::from_millis(100)).unwrap_or_else(|e| panic!("{e}")),
        );
        pool.stats.record(Duration::from_millis(40));
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let blocker = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(move |_| wait.recv().is_ok()).await }
        });
        while pool.stats().pending() < 1 {
            tokio::task::yield_now().await;
        }
        // one running (40 ms) + this one: 80 ms expected, under 100 ms
        let second = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(|_| 2).await }
        });
        while pool.stats().pending() < 2 {
            tokio::task::yield_now().await;
        }
        // two ahead: 120 ms expected, over the bound
        match pool.run(|_| 3).await {
            Err(HashRefused::Busy(retry)) => assert!(retry <= Duration::from_millis(100)),
            other => panic!("expected Busy, got {other:?}"),
        }
        assert_eq!(pool.stats().shed(), 1);
        release.send(()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(blocker.await.ok(), Some(Ok(true)));
        assert_eq!(second.await.ok(), Some(Ok(2)));
    }
}
