//! Tasks (`tasks`), always scoped to their owner.

/// `($2 + 0)`, not `$2`: SQLite lets a bare LIMIT/OFFSET parameter steer the plan and then
/// marks the cached statement expired on every re-bind, so each call re-prepared it (~20% of
/// a tasks read). An expression keeps the plan.
pub(crate) const LIST: &str = "SELECT id, user_id, title, description, completed, created_at, updated_at FROM tasks \
     WHERE user_id = $1 ORDER BY created_at, id LIMIT ($2 + 0) OFFSET ($3 + 0)";

/// A row of [`LIST`] or [`GET`] on the direct read path (`crate::sql::DirectReads`).
pub(crate) fn task_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<crate::TaskRow> {
    Ok(crate::TaskRow {
        id: r.get(0)?,
        user_id: r.get(1)?,
        title: r.get(2)?,
        description: r.get(3)?,
        completed: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

pub(crate) const INSERT: &str = "INSERT INTO tasks (id, user_id, title, description, completed, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

pub(crate) const GET: &str = "SELECT id, user_id, title, description, completed, created_at, updated_at FROM tasks \
     WHERE user_id = $1 AND id = $2";

pub(crate) const UPDATE: &str = "UPDATE tasks SET \
       title = COALESCE($1, title), \
       description = COALESCE($2, description), \
       completed = CASE WHEN $4 THEN NOT COALESCE($3, completed) ELSE COALESCE($3, completed) END, \
       updated_at = $5 \
     WHERE user_id = $6 AND id = $7 \
     RETURNING id, user_id, title, description, completed, created_at, updated_at";

pub(crate) const DELETE: &str = "DELETE FROM tasks WHERE user_id = $1 AND id = $2";

pub(crate) const DELETE_ALL: &str = "DELETE FROM tasks WHERE user_id = $1";

/// Implements [`crate::TaskStore`] (see the module docs of `sql` for what it expects).
macro_rules! impl_task_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::TaskStore for $store {
            async fn list_tasks(
                &self,
                owner: $crate::UserId<'_>,
                limit: u32,
                offset: u32,
            ) -> $crate::Result<Vec<$crate::TaskRow>> {
                use $crate::sql::DirectReads as _;
                {
                    // Not held across the await below (`dyn ToSql` is not `Sync`).
                    let params: [&dyn rusqlite::ToSql; 3] =
                        [&owner.as_str(), &i64::from(limit), &i64::from(offset)];
                    if let Some(rows) = self.read_all(
                        $crate::sql::tasks::LIST,
                        &params,
                        $crate::sql::tasks::task_row,
                    ) {
                        return Ok(rows);
                    }
                }
                sqlx::query_as($crate::sql::tasks::LIST)
                    .bind(owner.as_str())
                    .bind(i64::from(limit))
                    .bind(i64::from(offset))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)
            }

            async fn create_task(&self, t: &$crate::TaskRow) -> $crate::Result<()> {
                sqlx::query($crate::sql::tasks::INSERT)
                    .bind(&t.id)
                    .bind(&t.user_id)
                    .bind(&t.title)
                    .bind(&t.description)
                    .bind(t.completed)
                    .bind(t.created_at)
                    .bind(t.updated_at)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn get_task(
                &self,
                owner: $crate::UserId<'_>,
                task_id: $crate::TaskId<'_>,
            ) -> $crate::Result<Option<$crate::TaskRow>> {
                use $crate::sql::DirectReads as _;
                {
                    let params: [&dyn rusqlite::ToSql; 2] = [&owner.as_str(), &task_id.as_str()];
                    if let Some(row) = self.read_first(
                        $crate::sql::tasks::GET,
                        &params,
                        $crate::sql::tasks::task_row,
                    ) {
                        return Ok(row);
                    }
                }
                sqlx::query_as($crate::sql::tasks::GET)
                    .bind(owner.as_str())
                    .bind(task_id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)
            }

            async fn update_task(
                &self,
                owner: $crate::UserId<'_>,
                task_id: $crate::TaskId<'_>,
                change: &$crate::TaskChange,
                now_ms: i64,
            ) -> $crate::Result<Option<$crate::TaskRow>> {
                sqlx::query_as($crate::sql::tasks::UPDATE)
                    .bind(&change.title)
                    .bind(&change.description)
                    .bind(change.completed)
                    .bind(change.toggle_completed)
                    .bind(now_ms)
                    .bind(owner.as_str())
                    .bind(task_id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)
            }

            async fn delete_task(
                &self,
                owner: $crate::UserId<'_>,
                task_id: $crate::TaskId<'_>,
            ) -> $crate::Result<bool> {
                let done = sqlx::query($crate::sql::tasks::DELETE)
                    .bind(owner.as_str())
                    .bind(task_id.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete_all_tasks(&self, owner: $crate::UserId<'_>) -> $crate::Result<u64> {
                let done = sqlx::query($crate::sql::tasks::DELETE_ALL)
                    .bind(owner.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(crate) use impl_task_store;
