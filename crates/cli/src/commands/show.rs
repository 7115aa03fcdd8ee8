//! `sijil show` and `sijil stats`.

use anyhow::anyhow;
use serde_json::Value;
use sijil_projector::{CaseFilter, Page, Sort};
use sijil_register::present::{entry_json, read_text};
use sijil_register::RegisterReader;

use super::{as_of, register_failure};
use crate::flags::{ShowArgs, StatsArgs};
use crate::output::outln;
use crate::Failure;

pub fn show(mut a: ShowArgs) -> Result<(), Failure> {
    a.dir = super::location::readable(&a.dir, a.cache.as_deref(), a.key.as_deref())?;
    let reg = RegisterReader::open(&a.dir, None).map_err(register_failure)?;
    let today = as_of(a.as_of.as_deref())?;
    let cp = &reg.checkpoint().checkpoint;
    if let Some(seq) = a.seq {
        // Not in the register: exit 1, as for a case (README, "Exit codes").
        if seq >= cp.size {
            return Err(Failure::rejected(anyhow!(
                "no entry {seq}: the register has {} entries (0..={})",
                cp.size,
                cp.size - 1
            )));
        }
        let entries = reg.entries(seq, seq + 1).map_err(register_failure)?;
        let se = entries
            .first()
            .ok_or_else(|| anyhow!("entry {seq} not found"))?;
        let v = entry_json(se, reg.view(), |d| read_text(reg.layout(), d));
        if a.json {
            outln!("{}", serde_json::to_string_pretty(&v)?)?;
        } else {
            outln!("{}", entry_table(&v))?;
        }
        return Ok(());
    }
    if let Some(id) = a.case {
        let case = reg
            .view()
            .case(&id, today)
            .ok_or_else(|| Failure::rejected(anyhow!("no case {id:?} in this register")))?;
        if a.json {
            let entries: Vec<serde_json::Value> = case
                .timeline
                .iter()
                .map(|t| reg.entries(t.seq, t.seq + 1))
                .collect::<Result<Vec<_>, _>>()
                .map_err(register_failure)?
                .into_iter()
                .flatten()
                .map(|se| entry_json(&se, reg.view(), |d| read_text(reg.layout(), d)))
                .collect();
            outln!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({ "case": case, "entries": entries })
                )?
            )?;
        } else {
            let s = &case.summary;
            outln!(
                "case {}  {}  ({})",
                s.id,
                s.status.as_str(),
                s.categories.join(", ")
            )?;
            outln!("controller: {} ({})", s.controller.name, s.controller.id)?;
            outln!("opened on {} (entry {})", s.opened_on, s.opened_seq)?;
            if let Some(d) = s.deadline {
                outln!("deadline: {d}{}", if s.overdue { "  OVERDUE" } else { "" })?;
            }
            outln!(
                "\n{} events (# is the case's own event number, from 0, as a target's \"seq\"):",
                case.timeline.len()
            )?;
            for (n, t) in case.timeline.iter().enumerate() {
                let entries = reg.entries(t.seq, t.seq + 1).map_err(register_failure)?;
                let se = entries
                    .first()
                    .ok_or_else(|| anyhow!("entry {} not found", t.seq))?;
                let v = entry_json(se, reg.view(), |d| read_text(reg.layout(), d));
                let day = se
                    .entry
                    .event
                    .own_date()
                    .map_or_else(|| " ".repeat(10), |(_, d)| d.to_string());
                outln!(
                    "\n#{n:<3} {day}  {}  (entry {}, recorded {}, signed by {})",
                    t.event,
                    t.seq,
                    utc(se.entry.recorded_at),
                    signer_name(&v)
                )?;
                for (field, value) in event_fields(&v) {
                    outln!("      {field}: {value}")?;
                }
                if !t.corrected_by.is_empty() {
                    outln!("      corrected by entry {}", list(&t.corrected_by))?;
                }
                if !t.amended_by.is_empty() {
                    outln!("      amended by entry {}", list(&t.amended_by))?;
                }
                if let Some(e) = &t.erasure {
                    outln!(
                        "      text erased on {} by entry {} ({})",
                        e.erased_on,
                        e.seq,
                        e.reason
                    )?;
                }
            }
        }
        return Ok(());
    }
    let info = reg
        .view()
        .register()
        .ok_or_else(|| anyhow!("the register has no genesis entry"))?;
    if a.limit == 0 || a.limit > Page::MAX_LIMIT {
        return Err(Failure::usage(anyhow!(
            "--limit {}: give 1 to {}",
            a.limit,
            Page::MAX_LIMIT
        )));
    }
    let page = reg.view().cases(
        &CaseFilter::default(),
        Sort::OpenedDesc,
        &Page::Offset {
            offset: a.offset,
            limit: a.limit,
        },
        today,
    )?;
    if a.json {
        let out = serde_json::json!({
            "register": info,
            "tree_size": cp.size,
            "root": cp.root.to_base64(),
            "verifier_key": reg.verifier().to_string(),
            "cases": page,
        });
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
    } else {
        outln!(
            "{}\n{}\norigin {}  entries {}  root {}",
            info.title,
            info.authority,
            cp.origin,
            cp.size,
            cp.root
        )?;
        outln!("verifier key {}", reg.verifier())?;
        outln!(
            "\n{}",
            page_sentence(page.total, page.offset, page.items.len())
        )?;
        if page.items.is_empty() {
            return Ok(());
        }
        outln!(
            "{:<14} {:<22} {:<24} {:<11} deadline",
            "case",
            "status",
            "controller",
            "opened"
        )?;
        for c in &page.items {
            let deadline = c
                .deadline
                .map(|d| format!("{d}{}", if c.overdue { " OVERDUE" } else { "" }))
                .unwrap_or_default();
            outln!(
                "{:<14} {:<22} {:<24} {:<11} {deadline}",
                c.id,
                c.status.as_str(),
                c.controller.id,
                c.opened_on.to_string()
            )?;
        }
        let shown_to = page.offset + page.items.len();
        if shown_to < page.total {
            outln!(
                "\nnext page: sijil show {} --offset {shown_to} --limit {}",
                a.dir.display(),
                a.limit
            )?;
        }
    }
    Ok(())
}

/// Which cases a page shows, of how many: "Cases 21 to 40 of 153, latest opened first:".
fn page_sentence(total: usize, offset: usize, shown: usize) -> String {
    match (total, shown) {
        (0, _) => "No cases yet.".to_string(),
        (_, 0) => format!(
            "No cases at offset {offset}: the register has {total} case{}.",
            if total == 1 { "" } else { "s" }
        ),
        (1, _) => "1 case:".to_string(),
        _ if shown == total => format!("All {total} cases, latest opened first:"),
        _ => format!(
            "Cases {} to {} of {total}, latest opened first:",
            offset + 1,
            offset + shown
        ),
    }
}

/// A `recorded_at` as `YYYY-MM-DD HH:MM UTC`.
fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| format!("{ms} ms"))
}

fn list(seqs: &[u64]) -> String {
    seqs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Who signed an entry, from its JSON form ([`entry_json`]).
fn signer_name(v: &Value) -> String {
    let signer = &v["signer"];
    if signer["log_key"] == Value::Bool(true) {
        return "the log key".into();
    }
    match signer["officer"].as_str() {
        Some(name) => name.to_string(),
        None => format!("unknown key {}", signer["key"].as_str().unwrap_or("?")),
    }
}

/// An event's fields in words, from its JSON form ([`entry_json`]): each text in place of its
/// digest (or "[erased]"), a controller as "Name (id)", a list joined by commas.
fn event_fields(v: &Value) -> Vec<(String, String)> {
    let texts: std::collections::HashMap<&str, Option<&str>> = v["texts"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .filter_map(|t| Some((t["digest"].as_str()?, t["text"].as_str())))
                .collect()
        })
        .unwrap_or_default();
    let words = |x: &Value| -> String {
        match x {
            Value::String(s) => match texts.get(s.as_str()) {
                Some(Some(t)) => t.to_string(),
                Some(None) => "[text erased or missing]".to_string(),
                None => s.clone(),
            },
            Value::Array(xs) => xs
                .iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(", "),
            Value::Object(o) => match (o.get("name"), o.get("id")) {
                (Some(Value::String(n)), Some(Value::String(id))) => format!("{n} ({id})"),
                _ => x.to_string(),
            },
            other => other.to_string(),
        }
    };
    let Some(event) = v["event"].as_object() else {
        return Vec::new();
    };
    event
        .iter()
        .filter(|(k, _)| *k != "type")
        .map(|(k, x)| (k.replace('_', " "), words(x)))
        .collect()
}

/// One entry as a table of fields (`sijil show DIR SEQ` without --json).
fn entry_table(v: &Value) -> String {
    let mut rows: Vec<(String, String)> = vec![
        ("entry".into(), v["seq"].to_string()),
        (
            "event".into(),
            v["event"]["type"].as_str().unwrap_or("?").to_string(),
        ),
    ];
    if let Some(case) = v["case"].as_object() {
        rows.push((
            "case".into(),
            format!(
                "{} (its event #{})",
                case.get("id").and_then(Value::as_str).unwrap_or("?"),
                case.get("seq").map_or_else(String::new, Value::to_string)
            ),
        ));
    }
    rows.extend(event_fields(v));
    rows.push((
        "recorded".into(),
        v["recorded_at"].as_i64().map_or_else(String::new, utc),
    ));
    rows.push(("signed by".into(), signer_name(v)));
    rows.push((
        "signer key".into(),
        v["signer"]["key"].as_str().unwrap_or("").to_string(),
    ));
    if let Some(c) = v["corrected_by"].as_array().filter(|c| !c.is_empty()) {
        rows.push((
            "corrected by".into(),
            c.iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    if let Some(e) = v["erasure"].as_object() {
        rows.push((
            "text erased".into(),
            format!(
                "on {} by entry {} ({})",
                e.get("erased_on").and_then(Value::as_str).unwrap_or("?"),
                e.get("seq").map_or_else(String::new, Value::to_string),
                e.get("reason").and_then(Value::as_str).unwrap_or("")
            ),
        ));
    }
    rows.push((
        "leaf hash".into(),
        v["leaf_hash"].as_str().unwrap_or("").to_string(),
    ));
    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    rows.iter()
        .map(|(k, x)| format!("{k:<width$}  {x}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn stats(mut a: StatsArgs) -> Result<(), Failure> {
    a.dir = super::location::readable(&a.dir, a.cache.as_deref(), a.key.as_deref())?;
    let reg = RegisterReader::open(&a.dir, None).map_err(register_failure)?;
    let stats = reg.view().stats(as_of(a.as_of.as_deref())?);
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&stats)?)?;
        return Ok(());
    }
    outln!(
        "as of {}: {} entries, {} cases, {} controllers, {} overdue",
        stats.as_of,
        stats.entries,
        stats.cases,
        stats.controllers,
        stats.overdue
    )?;
    outln!("\nby status:")?;
    for (k, v) in &stats.by_status {
        outln!("  {:<24} {v}", k.as_str())?;
    }
    outln!("by category:")?;
    for (k, v) in &stats.by_category {
        outln!("  {:<24} {v}", k.as_str())?;
    }
    outln!("by year opened:")?;
    for (k, v) in &stats.by_year {
        outln!("  {k:<24} {v}")?;
    }
    outln!("sanctions:")?;
    for (k, v) in &stats.sanctions_by_kind {
        outln!("  {k:<24} {v}")?;
    }
    outln!("  {:<24} {} MAD", "fines (total)", stats.fines_total_mad)?;
    Ok(())
}
