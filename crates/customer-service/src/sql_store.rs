//! Customers in SQLite or PostgreSQL (`store.url`), through the same sqlx `Any` plumbing as
//! ms-auth-server; listed in creation order.

use std::time::Duration;

use sqlx::{AnyPool, Row, any::AnyRow};
use uuid::Uuid;

use crate::{
    customer::{Customer, CustomerInput},
    settings::StoreSettings,
    store::{CustomerStore, StoreError},
};

const STEPS: &[service_kit::sql::Step] = &[(
    1,
    "customers",
    include_str!("migrations/0001_customers.sql"),
)];

pub struct SqlCustomerStore {
    pool: AnyPool,
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn customer(row: &AnyRow) -> Result<Customer, StoreError> {
    let bad = |e: sqlx::Error| StoreError::Unavailable(format!("unreadable row: {e}"));
    let id: String = row.try_get("id").map_err(bad)?;
    Ok(Customer {
        id: Uuid::parse_str(&id)
            .map_err(|e| StoreError::Unavailable(format!("unreadable id {id:?}: {e}")))?,
        name: row.try_get("name").map_err(bad)?,
        email: row.try_get("email").map_err(bad)?,
        country: row.try_get("country").map_err(bad)?,
    })
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

impl SqlCustomerStore {
    pub async fn open(settings: &StoreSettings) -> Result<Self, service_kit::sql::SqlError> {
        let pool = service_kit::sql::open(
            &settings.url,
            settings.max_connections,
            Duration::from_millis(settings.connect_timeout_ms.max(1)),
            STEPS,
        )
        .await?;
        Ok(Self { pool })
    }
}

#[async_trait::async_trait]
impl CustomerStore for SqlCustomerStore {
    async fn list(
        &self,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<Customer>, usize), StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, email, country FROM customers ORDER BY created_us, id LIMIT $1 OFFSET $2",
        )
        .bind(limit as i64)
        .bind(offset as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let total: i64 = sqlx::query("SELECT COUNT(*) FROM customers")
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)?
            .try_get(0)
            .map_err(unavailable)?;
        let page = rows.iter().map(customer).collect::<Result<_, _>>()?;
        Ok((page, total.max(0) as usize))
    }

    async fn get(&self, id: Uuid) -> Result<Option<Customer>, StoreError> {
        let row = sqlx::query("SELECT id, name, email, country FROM customers WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(customer).transpose()
    }

    async fn create(&self, input: CustomerInput) -> Result<Customer, StoreError> {
        let c = Customer {
            id: Uuid::new_v4(),
            name: input.name,
            email: input.email,
            country: input.country,
        };
        sqlx::query(
            "INSERT INTO customers (id, name, email, country, created_us) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(c.id.to_string())
        .bind(&c.name)
        .bind(&c.email)
        .bind(&c.country)
        .bind(now_us())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(c)
    }

    async fn update(&self, id: Uuid, input: CustomerInput) -> Result<Option<Customer>, StoreError> {
        let done =
            sqlx::query("UPDATE customers SET name = $2, email = $3, country = $4 WHERE id = $1")
                .bind(id.to_string())
                .bind(&input.name)
                .bind(&input.email)
                .bind(&input.country)
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
        Ok((done.rows_affected() > 0).then_some(Customer {
            id,
            name: input.name,
            email: input.email,
            country: input.country,
        }))
    }

    async fn delete(&self, id: Uuid) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM customers WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }
}
