//! The plan check on PostgreSQL, after the initial cycle: the plans of the statements scimd
//! sends for a userName lookup, an externalId lookup and a member add and remove in the big
//! group, on the unanalysed database.
//!
//! scimd is a separate process, so its statements and plans are taken where they run: a second
//! scimd on the same database logs its statements (`SCIMD_LOG=…,sqlx::query=debug`, JSON lines
//! on stderr), and PostgreSQL's `auto_explain`, loaded for this database only
//! (`alter database … set session_preload_libraries`), sends the plan of each statement it runs,
//! with `analyze` (rows really read and filtered out), to scimd as a NOTICE, which sqlx logs
//! (`sqlx::postgres::notice`). scimd's connections run with `plan_cache_mode =
//! force_generic_plan`, so these are the generic plans it uses; no statistics exist (nothing ran
//! ANALYZE, autovacuum is off). A sequential scan, or a node that reads and then filters out
//! more than [`FEW`] rows, is MISSED.

use std::time::Duration;

use serde_json::Value;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::common::{BoxResult, Db};
use crate::entra::{Directory, object_id, user_lookup};
use crate::http::{Conn, encode};
use crate::procs::Server;

/// Rows a node may filter out after reading them and still count as a lookup by index.
const FEW: f64 = 10.0;

const AUTO_EXPLAIN: [&str; 5] = [
    "session_preload_libraries = 'auto_explain'",
    "auto_explain.log_min_duration = 0",
    "auto_explain.log_analyze = on",
    "auto_explain.log_format = json",
    "auto_explain.log_level = notice",
];

/// Runs the check and prints it; `None` when `auto_explain` is not installed.
pub async fn check(db: &Db, dir: &Directory) -> BoxResult<Option<bool>> {
    let mut admin = PgConnection::connect(&db.url).await?;
    if let Err(e) = sqlx::raw_sql("load 'auto_explain'")
        .execute(&mut admin)
        .await
    {
        println!("  plan check skipped: auto_explain is not available ({e})");
        return Ok(None);
    }
    for setting in AUTO_EXPLAIN {
        sqlx::raw_sql(&format!("alter database {} set {setting}", db.name))
            .execute(&mut admin)
            .await?;
    }
    let log = [
        (
            "SCIMD_LOG",
            "warn,sqlx::query=debug,sqlx::postgres::notice=info",
        ),
        ("SCIMD_LOG_FORMAT", "json"),
    ];
    let result = match Server::scimd(db, &log, true).await {
        Ok(server) => {
            let result = run(&server, dir).await;
            server.stop().await?;
            result
        }
        Err(e) => Err(e),
    };
    sqlx::raw_sql(&format!("alter database {} reset all", db.name))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    result.map(Some)
}

async fn run(server: &Server, dir: &Directory) -> BoxResult<bool> {
    let n = dir.users.len();
    let user = n / 2;
    let member = dir.user(n - 1)?;
    let group = format!("/scim/v2/Groups/{}", dir.group(0)?);
    let change = |op: &str| {
        format!(
            r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{"op":"{op}","path":"members","value":[{{"value":"{member}"}}]}}]}}"#
        )
    };
    let external = format!(
        "/scim/v2/Users?filter={}",
        encode(&format!("externalId eq \"{}\"", object_id(user)))
    );
    let cases = [
        ("userName lookup", "GET", user_lookup(user), None, 200),
        ("externalId lookup", "GET", external, None, 200),
        (
            "member add (big group)",
            "PATCH",
            group.clone(),
            Some(change("Add")),
            204,
        ),
        (
            "member remove (big group)",
            "PATCH",
            group,
            Some(change("Remove")),
            204,
        ),
    ];
    let lines = server.stderr.clone().ok_or("scimd's stderr is not kept")?;
    let mut conn = Conn::open(server.addr).await?;
    // once unrecorded: the token, and anything else a first request does once
    for (what, method, target, body, status) in &cases {
        let (reply, _) = conn.send(method, target, body.as_deref()).await?;
        reply.expect(*status, what)?;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut met = true;
    for (what, method, target, body, status) in &cases {
        let mark = lines.lock().unwrap().len();
        let (reply, _) = conn.send(method, target, body.as_deref()).await?;
        reply.expect(*status, what)?;
        // sqlx logs a statement when it is finished, possibly after the answer left
        tokio::time::sleep(Duration::from_millis(300)).await;
        let logged: Vec<String> = lines.lock().unwrap()[mark..].to_vec();
        println!("\n  {what}: {method} {target}");
        met &= report(&logged);
    }
    Ok(met)
}

/// Prints the statements and plans of one request; false if a plan misses.
fn report(logged: &[String]) -> bool {
    let mut met = true;
    let mut plans = 0;
    let mut planned = Vec::new();
    let mut other = Vec::new();
    for line in logged {
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            println!("    (not JSON) {line}");
            continue;
        };
        let message = event["message"].as_str().unwrap_or_default();
        if let Some((_, plan)) = message.split_once("plan:") {
            let Ok(plan) = serde_json::from_str::<Value>(plan.trim()) else {
                println!("    (unreadable plan) {message}");
                met = false;
                continue;
            };
            plans += 1;
            let sql = one_line(plan["Query Text"].as_str().unwrap_or_default());
            println!("    SQL: {sql}");
            planned.push(sql.clone());
            let mut problems = Vec::new();
            print_node(&plan["Plan"], 3, &mut problems);
            let generic = sql.contains("$1");
            if problems.is_empty() {
                println!(
                    "      => met{}",
                    if generic { " (generic plan)" } else { "" }
                );
            } else {
                met = false;
                println!("      => MISSED: {}", problems.join("; "));
            }
        } else if event.get("summary").is_some() || event.get("db.statement").is_some() {
            let statement = event["db.statement"].as_str().unwrap_or_default().trim();
            let summary = event["summary"].as_str().unwrap_or_default();
            let sql = if statement.is_empty() {
                summary
            } else {
                statement
            };
            other.push(one_line(sql));
        } else if !message.is_empty() {
            println!("    log: {}", one_line(line));
        }
    }
    // statements with a plan were printed with it; list the others (transaction control)
    let plain: Vec<&str> = other
        .iter()
        .filter(|s| !planned.contains(s))
        .map(String::as_str)
        .collect();
    println!(
        "    ({} statements logged by sqlx, {plans} plans; statements without a plan: {})",
        other.len(),
        if plain.is_empty() {
            "none".to_owned()
        } else {
            plain.join(", ")
        }
    );
    if plans == 0 {
        println!("      => MISSED: no plan was logged");
        met = false;
    }
    met
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One plan node and its children, indented; collects what misses.
fn print_node(node: &Value, depth: usize, problems: &mut Vec<String>) {
    let kind = node["Node Type"].as_str().unwrap_or("?");
    let mut line = kind.to_owned();
    if let Some(index) = node["Index Name"].as_str() {
        line.push_str(&format!(" using {index}"));
    }
    if let Some(relation) = node["Relation Name"].as_str() {
        line.push_str(&format!(" on {relation}"));
    }
    let loops = node["Actual Loops"].as_f64().unwrap_or(1.0);
    let rows = node["Actual Rows"].as_f64().unwrap_or(0.0) * loops;
    line.push_str(&format!("  (rows {rows:.0}, loops {loops:.0})"));
    println!("{}{line}", "  ".repeat(depth));
    for key in [
        "Index Cond",
        "Recheck Cond",
        "Hash Cond",
        "Join Filter",
        "Filter",
    ] {
        if let Some(cond) = node[key].as_str() {
            println!("{}  {key}: {cond}", "  ".repeat(depth));
        }
    }
    for key in [
        "Rows Removed by Filter",
        "Rows Removed by Index Recheck",
        "Rows Removed by Join Filter",
    ] {
        if let Some(removed) = node[key].as_f64() {
            let removed = removed * loops;
            if removed == 0.0 {
                continue;
            }
            println!("{}  {key}: {removed:.0}", "  ".repeat(depth));
            if removed > FEW {
                problems.push(format!("{kind} {key}: {removed:.0}"));
            }
        }
    }
    if kind == "Seq Scan" {
        let relation = node["Relation Name"].as_str().unwrap_or("?");
        problems.push(format!("sequential scan of {relation}"));
    }
    if let Some(children) = node["Plans"].as_array() {
        for child in children {
            print_node(child, depth + 1, problems);
        }
    }
}
