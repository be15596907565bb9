//! How `scimd activity` and `scimd cycles` print: a table for people, JSON lines for scripts.

use scimd::domain::activity::{Activity, Counts, Cycle};
use serde_json::json;

pub fn activity(rows: &[Activity], json: bool) {
    for a in rows {
        if json {
            let line = json!({
                "at": a.at.to_rfc3339(),
                "request_id": a.origin.request_id,
                "credential": a.origin.credential,
                "method": a.origin.method,
                "route": a.origin.route,
                "resource_type": a.resource_type,
                "resource_id": a.resource_id,
                "operation": a.operation,
                "paths": a.paths,
                "deactivated": a.deactivated,
                "status": a.status,
                "scim_type": a.scim_type,
                "error": a.error,
                "ignored": a.ignored,
            });
            println!("{line}");
            continue;
        }
        let what = match &a.paths {
            Some(paths) => format!("{} ({paths})", a.operation),
            None => a.operation.clone(),
        };
        let resource = match (&a.resource_type, a.resource_id) {
            (Some(t), Some(id)) => format!("{t} {id}"),
            (Some(t), None) => t.clone(),
            _ => "-".into(),
        };
        let error = a.note();
        println!(
            "{}  {}  {:<22} {:<48} {}  {}  {}",
            a.at.format("%Y-%m-%d %H:%M:%S%.3f"),
            a.status,
            what,
            resource,
            a.origin.request_id,
            a.origin.credential,
            error
        );
    }
}

pub fn cycles(cycles: &[Cycle], json: bool) {
    if json {
        for c in cycles {
            println!("{}", serde_json::to_string(c).unwrap_or_default());
        }
        return;
    }
    println!(
        "started (UTC)        last minute  lookups  created  updated  disabled  deleted  refused"
    );
    for c in cycles {
        let n = |c: &Counts| format!("{}/{}", c.users, c.groups);
        println!(
            "{}  {}  {:>7}  {:>7}  {:>7}  {:>8}  {:>7}  {:>7}",
            c.started.format("%Y-%m-%d %H:%M"),
            c.last.format("%H:%M"),
            c.lookups,
            n(&c.created),
            n(&c.updated),
            n(&c.disabled),
            n(&c.deleted),
            n(&c.refused)
        );
    }
    println!("(counts are users/groups)");
}
