//! [`AuditLog`](ms_auth_server::store::AuditLog) on every backend.

use ms_auth_server::store::AuditEvent;

use super::{Backend, location, open, t};

per_backend!(
    audit_entries_are_kept_in_order,
    audit_entries_older_than_the_retention_are_pruned,
);

async fn audit_entries_are_kept_in_order(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    for (at, event) in [(1, "a"), (2, "b"), (3, "c")] {
        stores
            .audit
            .append(&AuditEvent {
                at: t(at),
                event: event.to_owned(),
                actor: "system".to_owned(),
                client_id: Some("web".to_owned()),
                subject: None,
                detail: format!("{event} happened"),
            })
            .await
            .unwrap();
    }
    let recent = stores.audit.recent(2).await.unwrap();
    let events: Vec<_> = recent.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(events, ["c", "b"]);
    assert_eq!(recent[0].client_id.as_deref(), Some("web"));
    assert_eq!(recent[0].subject, None);
}

fn entry(at: i64, event: &str) -> AuditEvent {
    AuditEvent {
        at: t(at),
        event: event.to_owned(),
        actor: "system".to_owned(),
        client_id: None,
        subject: None,
        detail: String::new(),
    }
}

/// `store.audit_retention_days`: 90 by default, as configured, or 0 for forever.
async fn audit_entries_older_than_the_retention_are_pruned(backend: Backend) {
    const DAY: i64 = 86_400;
    let at = location(backend).await;
    let events = |stores: &ms_auth_server::store::Stores| {
        let audit = stores.audit.clone();
        async move {
            let recent = audit.recent(10).await.unwrap();
            recent.into_iter().map(|e| e.event).collect::<Vec<_>>()
        }
    };
    let stores = open(&at.settings).await.unwrap();
    for (at, event) in [(1, "old"), (100, "kept"), (90 * DAY, "new")] {
        stores.audit.append(&entry(at, event)).await.unwrap();
    }
    assert_eq!(
        stores.audit.prune_expired(t(90 * DAY + 100)).await.unwrap(),
        1
    );
    assert_eq!(events(&stores).await, ["new", "kept"]);

    let mut one_day = at.settings.clone();
    one_day.audit_retention_days = 1;
    let stores = open(&one_day).await.unwrap();
    let before = events(&stores).await.len();
    stores
        .audit
        .append(&entry(95 * DAY, "today"))
        .await
        .unwrap();
    let pruned = stores.audit.prune_expired(t(96 * DAY - 1)).await.unwrap();
    // Memory stores are per process: each `open` starts empty.
    assert_eq!(pruned as usize, before, "everything but today's");
    assert_eq!(events(&stores).await, ["today"]);

    let mut forever = at.settings.clone();
    forever.audit_retention_days = 0;
    let stores = open(&forever).await.unwrap();
    stores.audit.append(&entry(1, "ancient")).await.unwrap();
    assert_eq!(stores.audit.prune_expired(t(i64::MAX)).await.unwrap(), 0);
    assert!(events(&stores).await.contains(&"ancient".to_owned()));
}
