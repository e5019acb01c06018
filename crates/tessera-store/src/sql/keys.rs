//! JWT signing keys (`signing_keys`).

pub(crate) const LIST: &str = "SELECT kid, generation, alg, public_jwk, private_key, created_at, retired_at \
     FROM signing_keys ORDER BY generation";

pub(crate) const INSERT: &str = "INSERT INTO signing_keys (kid, generation, alg, public_jwk, private_key, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";

pub(crate) const RETIRE_OLDER: &str =
    "UPDATE signing_keys SET retired_at = $1 WHERE generation < $2 AND retired_at IS NULL";

/// Implements [`crate::KeyStore`] (see the module docs of `sql` for what it expects).
macro_rules! impl_key_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::KeyStore for $store {
            async fn signing_keys(&self) -> $crate::Result<Vec<$crate::SigningKeyRow>> {
                sqlx::query_as($crate::sql::keys::LIST)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)
            }

            async fn insert_signing_key(&self, key: &$crate::SigningKeyRow) -> $crate::Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query($crate::sql::keys::INSERT)
                    .bind(&key.kid)
                    .bind(key.generation)
                    .bind(&key.alg)
                    .bind(&key.public_jwk)
                    .bind(&key.private_key)
                    .bind(key.created_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                sqlx::query($crate::sql::keys::RETIRE_OLDER)
                    .bind(key.created_at)
                    .bind(key.generation)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                tx.commit().await.map_err(map_err)?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_key_store;
