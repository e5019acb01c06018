//! Shared rate-limit buckets (`rate_limit_buckets`): one GCRA step per statement, so
//! concurrent requests on several instances each see the bucket as the previous one left it
//! (the row lock of `INSERT … ON CONFLICT DO UPDATE` orders them). `$max` is the two-argument
//! maximum of the backend (`GREATEST` on PostgreSQL, `MAX` on SQLite).

/// Takes one request: inserts a fresh bucket, or moves its theoretical arrival time (TAT) by
/// one interval when the bucket still has room (`TAT - now <= tolerance`). No row back means
/// the bucket is empty. `$1` bucket, `$2` now, `$3` interval, `$4` tolerance (ms).
macro_rules! take_sql {
    ($max:literal) => {
        concat!(
            "INSERT INTO rate_limit_buckets (bucket, tat) VALUES ($1, $2 + $3) ",
            "ON CONFLICT (bucket) DO UPDATE SET tat = ",
            $max,
            "(rate_limit_buckets.tat, $2) + $3 ",
            "WHERE ",
            $max,
            "(rate_limit_buckets.tat, $2) - $2 <= $4 ",
            "RETURNING tat"
        )
    };
}
pub(crate) use take_sql;

/// Gives one request back (`$1` bucket, `$2` interval, `$3` now).
macro_rules! refund_sql {
    ($max:literal) => {
        concat!(
            "UPDATE rate_limit_buckets SET tat = ",
            $max,
            "(tat - $2, $3) WHERE bucket = $1"
        )
    };
}
pub(crate) use refund_sql;

pub(crate) const TAT: &str = "SELECT tat FROM rate_limit_buckets WHERE bucket = $1";

pub(crate) const SWEEP: &str = "DELETE FROM rate_limit_buckets WHERE tat <= $1";

/// Implements [`crate::LimitStore`] (see the module docs of `sql` for what it expects).
macro_rules! impl_limit_store {
    ($store:ty, $max:literal) => {
        #[async_trait::async_trait]
        impl $crate::LimitStore for $store {
            async fn take_from_bucket(
                &self,
                bucket: &str,
                interval_ms: i64,
                tolerance_ms: i64,
                now_ms: i64,
            ) -> $crate::Result<Option<i64>> {
                let taken: Option<(i64,)> = sqlx::query_as($crate::sql::limits::take_sql!($max))
                    .bind(bucket)
                    .bind(now_ms)
                    .bind(interval_ms)
                    .bind(tolerance_ms)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                if taken.is_some() {
                    return Ok(None);
                }
                let tat: Option<(i64,)> = sqlx::query_as($crate::sql::limits::TAT)
                    .bind(bucket)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                // Refused: wait until the TAT is back within the tolerance (at least 1 ms,
                // even if another instance's refund made room in between).
                let tat = tat.map_or(now_ms, |(t,)| t);
                Ok(Some((tat - now_ms - tolerance_ms).max(1)))
            }

            async fn refund_to_bucket(
                &self,
                bucket: &str,
                interval_ms: i64,
                now_ms: i64,
            ) -> $crate::Result<()> {
                sqlx::query($crate::sql::limits::refund_sql!($max))
                    .bind(bucket)
                    .bind(interval_ms)
                    .bind(now_ms)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn sweep_buckets(&self, now_ms: i64) -> $crate::Result<u64> {
                let done = sqlx::query($crate::sql::limits::SWEEP)
                    .bind(now_ms)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(crate) use impl_limit_store;
