//! [`AuditLog`](ms_auth_server::store::AuditLog) on every backend.

use ms_auth_server::store::AuditEvent;

use super::{Backend, location, open, t};

per_backend!(audit_entries_are_kept_in_order);

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
