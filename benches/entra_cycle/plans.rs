//! The plan check on PostgreSQL: the plans of the statements scimd sends for a userName
//! lookup, an externalId lookup, a create, and a member add and remove in the big group, on the
//! unanalysed database: with 50 users (lookups and create) and after the initial cycle.
//!
//! A connection keeps the generic plan of a statement it prepared for as long as it lives (sqlx
//! caches the statement; PostgreSQL's plan cache is invalidated by DDL, ANALYZE or VACUUM, and
//! autovacuum is off): the plans with 50 users are the ones scimd's connections opened at the
//! start of the initial cycle keep using; the plans after it are what a freshly started scimd
//! prepares on the full directory.
//!
//! scimd is a separate process, so its statements and plans are taken where they run: a second
//! scimd on the same database logs its statements (`SCIMD_LOG=…,sqlx::query=debug`, JSON lines
//! on stderr), and PostgreSQL's `auto_explain`, loaded for this database only
//! (`alter database … set session_preload_libraries`), sends the plan of each statement it runs,
//! with `analyze` (rows really read and filtered out), to scimd as a NOTICE, which sqlx logs
//! (`sqlx::postgres::notice`). scimd's connections run with `plan_cache_mode =
//! force_generic_plan`, so these are the generic plans it uses; no statistics exist (nothing ran
//! ANALYZE, autovacuum is off). Each request names one user or one member, so a plan misses
//! (MISSED) when a scan node is sequential, returns or filters out more than [`FEW`] rows, runs
//! more than [`FEW`] times, or (a scan without children) touches more than [`BLOCKS`] buffers.

use std::time::Duration;

use serde_json::Value;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::common::{BoxResult, Db};
use crate::entra::{Directory, object_id, user_body, user_lookup};
use crate::http::{Conn, encode};
use crate::procs::Server;

/// Rows a scan node may return or filter out, and times it may run, in a plan for one entity.
const FEW: f64 = 10.0;
/// Buffers (8 kB pages, hit or read) a scan node without children may touch.
const BLOCKS: f64 = 100.0;

const AUTO_EXPLAIN: [&str; 6] = [
    "auto_explain.log_buffers = on",
    "session_preload_libraries = 'auto_explain'",
    "auto_explain.log_min_duration = 0",
    "auto_explain.log_analyze = on",
    "auto_explain.log_format = json",
    "auto_explain.log_level = notice",
];

/// Runs the check on the first `users` users and prints it (member changes only once the big
/// group exists); `None` when `auto_explain` is not installed.
pub async fn check(db: &Db, dir: &Directory, users: usize) -> BoxResult<Option<bool>> {
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
            let result = run(&server, dir, users).await;
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

async fn run(server: &Server, dir: &Directory, users: usize) -> BoxResult<bool> {
    let n = dir.users.len();
    let user = users / 2;
    let external = format!(
        "/scim/v2/Users?filter={}",
        encode(&format!("externalId eq \"{}\"", object_id(user)))
    );
    // a user beyond the directory's, one per check (they stay, in no group)
    let created = user_body(n + 1 + usize::from(users == n));
    let mut cases = vec![
        ("userName lookup", "GET", user_lookup(user), None, 200),
        ("externalId lookup", "GET", external, None, 200),
        (
            "create",
            "POST",
            "/scim/v2/Users".to_owned(),
            Some(created),
            201,
        ),
    ];
    if let Some(group) = dir.groups[0].get() {
        let member = dir.user(n - 1)?;
        let change = |op: &str| {
            format!(
                r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{"op":"{op}","path":"members","value":[{{"value":"{member}"}}]}}]}}"#
            )
        };
        let group = format!("/scim/v2/Groups/{group}");
        cases.push((
            "member add (big group)",
            "PATCH",
            group.clone(),
            Some(change("Add")),
            204,
        ));
        cases.push((
            "member remove (big group)",
            "PATCH",
            group,
            Some(change("Remove")),
            204,
        ));
    }
    let lines = server.stderr.clone().ok_or("scimd's stderr is not kept")?;
    let mut conn = Conn::open(server.addr).await?;
    // once unrecorded (but the create): the token, and anything a first request does once
    for (what, method, target, body, status) in cases.iter().filter(|c| c.1 != "POST") {
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
            let took = message.split_whitespace().nth(1).unwrap_or("?");
            let sql = one_line(plan["Query Text"].as_str().unwrap_or_default());
            println!("    SQL ({took} ms): {sql}");
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
    let blocks = node["Shared Hit Blocks"].as_f64().unwrap_or(0.0)
        + node["Shared Read Blocks"].as_f64().unwrap_or(0.0);
    line.push_str(&format!(
        "  (rows {rows:.0}, loops {loops:.0}, blocks {blocks:.0})"
    ));
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
    let relation = node["Relation Name"]
        .as_str()
        .or(node["Index Name"].as_str())
        .unwrap_or("?");
    if kind == "Seq Scan" {
        problems.push(format!("sequential scan of {relation}"));
    }
    if kind.ends_with("Scan") && kind != "Function Scan" {
        if rows > FEW {
            problems.push(format!("{kind} of {relation} returns {rows:.0} rows"));
        }
        if loops > FEW {
            problems.push(format!("{kind} of {relation} runs {loops:.0} times"));
        }
        if blocks > BLOCKS && node["Plans"].is_null() {
            problems.push(format!("{kind} of {relation} touches {blocks:.0} blocks"));
        }
    }
    if let Some(children) = node["Plans"].as_array() {
        for child in children {
            print_node(child, depth + 1, problems);
        }
    }
}
