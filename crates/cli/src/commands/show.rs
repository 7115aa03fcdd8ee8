//! `sijil show` and `sijil stats`.

use anyhow::anyhow;
use sijil_projector::{CaseFilter, Page, Sort};
use sijil_register::present::{entry_json, read_text};
use sijil_register::RegisterReader;

use super::{as_of, register_failure};
use crate::flags::{ShowArgs, StatsArgs};
use crate::output::outln;
use crate::Failure;

pub fn show(a: ShowArgs) -> Result<(), Failure> {
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
        outln!("{}", serde_json::to_string_pretty(&v)?)?;
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
            outln!("{:>8}  event", "seq")?;
            for t in &case.timeline {
                let mut note = String::new();
                if !t.corrected_by.is_empty() {
                    note.push_str(&format!("  corrected by {:?}", t.corrected_by));
                }
                if let Some(e) = &t.erasure {
                    note.push_str(&format!("  text erased on {} ({})", e.erased_on, e.reason));
                }
                outln!("{:>8}  {}{note}", t.seq, t.event)?;
            }
        }
        return Ok(());
    }
    let info = reg
        .view()
        .register()
        .ok_or_else(|| anyhow!("the register has no genesis entry"))?;
    let page = reg.view().cases(
        &CaseFilter::default(),
        Sort::OpenedDesc,
        &Page::first(20),
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
        outln!("\n{} cases (latest first):", page.total)?;
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
    }
    Ok(())
}

pub fn stats(a: StatsArgs) -> Result<(), Failure> {
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
