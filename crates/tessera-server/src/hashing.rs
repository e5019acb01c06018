//! Password hashing off the async runtime, on a few dedicated threads.
//!
//! Argon2id at Tessera's parameters needs 19 MiB and ~10 ms of a core per hash. Run on
//! tokio's blocking pool, a sign-in storm spreads hashes over up to hundreds of threads, and
//! glibc keeps each thread's freed 19 MiB in that thread's arena: peak RSS grew past a
//! gigabyte. Here a fixed number of threads (by default one fewer than the cores, at least
//! one, so the runtime keeps a core for every other request) each keep one working buffer,
//! given back after a quiet minute. Hashes beyond that queue, in arrival order.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use tessera_core::HashMemory;

/// How long a hashing thread keeps its buffer without work.
const IDLE_RELEASE: Duration = Duration::from_secs(60);

type Job = Box<dyn FnOnce(&mut HashMemory) + Send>;

/// The hashing threads. Dropping the pool ends them once the queue is empty.
#[derive(Debug)]
pub(crate) struct HashPool {
    jobs: flume::Sender<Job>,
}

/// The default thread count: one fewer than the cores, at least one.
pub(crate) fn default_hash_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get().saturating_sub(1))
        .max(1)
}

impl HashPool {
    /// Starts `threads` hashing threads (at least one).
    pub(crate) fn new(threads: usize) -> std::io::Result<Self> {
        let (jobs, queue) = flume::unbounded::<Job>();
        for i in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("tessera-hash-{i}"))
                .spawn(move || work(&queue))?;
        }
        Ok(Self { jobs })
    }

    /// Runs `job` on a hashing thread and waits for its result; `None` if the job panicked.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut HashMemory) -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = tx.send(job(memory));
        });
        self.jobs.send(job).ok()?;
        rx.await.ok()
    }
}

fn work(queue: &flume::Receiver<Job>) {
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
        let pool = HashPool::new(1).unwrap_or_else(|e| panic!("{e}"));
        let name = pool
            .run(|_| std::thread::current().name().map(str::to_owned))
            .await;
        assert_eq!(name, Some(Some("tessera-hash-0".to_owned())));
        let panicked: Option<()> = pool.run(|_| panic!("boom")).await;
        assert_eq!(panicked, None);
        assert_eq!(pool.run(|_| 7).await, Some(7));
    }

    #[tokio::test]
    async fn keeps_one_buffer_per_thread_between_hashes() {
        let pool = HashPool::new(1).unwrap_or_else(|e| panic!("{e}"));
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
        assert_eq!(held, Some(64 * 1024));
        let still = pool.run(|memory| memory.held_bytes()).await;
        assert_eq!(still, Some(64 * 1024));
    }
}
