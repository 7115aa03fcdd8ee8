//! `sijil submit`: sign events here, send them to the sequencer, keep the receipt
//! (sijil_client::submit).

use std::fmt::Write as _;
use std::time::Duration;

use sijil_client::http::{HttpClient, HttpOptions};
use sijil_client::submit::{events_digest, submit as run_submit, SubmitOptions, SubmitOutcome};
use sijil_client::ErrorKind;
use sijil_register::{parse_events, read_private_key};

use super::append::allocation_lines;
use super::remote::client_failure;
use super::{now_ms, read_input, register_failure, verifier_arg};
use crate::flags::SubmitArgs;
use crate::output::outln;
use crate::Failure;

pub fn submit(a: SubmitArgs) -> Result<(), Failure> {
    let officer = read_private_key(&a.key).map_err(register_failure)?;
    let log = a.log.as_deref().map(verifier_arg).transpose()?;
    if !sijil_client::http::is_url(&a.url) {
        return Err(Failure::usage(anyhow::anyhow!(
            "{}: not an http(s) URL",
            a.url
        )));
    }
    let receipt = match (&a.receipt, a.events.to_str()) {
        (Some(r), _) => r.clone(),
        (None, Some("-")) => {
            return Err(Failure::usage(anyhow::anyhow!(
                "--receipt FILE is needed when the events come from standard input"
            )))
        }
        (None, _) => {
            let mut p = a.events.as_os_str().to_owned();
            p.push(".receipt.json");
            p.into()
        }
    };
    let (name, text) = read_input(&a.events)?;
    let drafts = parse_events(&name, &text)?;
    if !(a.net.timeout.is_finite() && a.net.timeout > 0.0) {
        return Err(Failure::usage(anyhow::anyhow!(
            "--timeout must be a positive number of seconds"
        )));
    }
    let client = HttpClient::new(HttpOptions {
        concurrency: 1,
        retries: a.net.retries,
        timeout: Duration::from_secs_f64(a.net.timeout),
        connect_timeout: Duration::from_secs_f64(a.net.timeout.min(10.0)),
        rate: a.net.rate,
        ..HttpOptions::default()
    })
    .map_err(Failure::usage)?;
    let opts = SubmitOptions {
        url: a.url.clone(),
        events_digest: events_digest(&text),
        receipt: receipt.clone(),
        log,
        attempts: a.attempts,
        dry_run: a.dry_run,
        now_ms,
    };
    let outcome = run_submit(&client, &drafts, &officer, &opts).map_err(|e| match e.kind() {
        // A refused batch or a receipt that does not verify (exit 1), said as it is.
        ErrorKind::Unverified => Failure::rejected(e),
        _ => client_failure(&a.url)(e),
    })?;
    match outcome {
        SubmitOutcome::DryRun {
            first_seq,
            last_seq,
            tree_size,
            allocated,
        } => {
            if a.json {
                outln!(
                    "{}",
                    serde_json::json!({
                        "dry_run": true,
                        "first_seq": first_seq,
                        "last_seq": last_seq,
                        "tree_size": tree_size,
                        "allocated": allocated,
                    })
                )?;
            } else {
                let out = format!(
                    "dry run: the sequencer would commit these {} events as seqs {first_seq}..={last_seq}; nothing was recorded\n{}",
                    drafts.len(),
                    allocation_lines(&allocated, &name, "would open")
                );
                outln!("{}", out.trim_end())?;
            }
        }
        SubmitOutcome::Receipt {
            receipt: r,
            verified,
            rounds,
            resent,
            allocated,
        } => {
            if a.json {
                outln!(
                    "{}",
                    serde_json::json!({
                        "first_seq": r.first_seq,
                        "last_seq": r.last_seq,
                        "tree_size": r.tree_size,
                        "replayed": r.replayed,
                        "resent": resent,
                        "rounds": rounds,
                        "checkpoint_verified": verified,
                        "receipt": receipt,
                        "checkpoint": r.checkpoint,
                        "allocated": allocated,
                    })
                )?;
            } else {
                let mut out = String::new();
                let _ = writeln!(
                    out,
                    "submitted seqs {}..={} ({} events){}",
                    r.first_seq,
                    r.last_seq,
                    r.entries.len(),
                    if r.replayed {
                        " (already recorded: this is the batch an earlier run sent)"
                    } else {
                        ""
                    }
                );
                out.push_str(&allocation_lines(&allocated, &name, "opened"));
                out.push_str(&r.checkpoint);
                let _ = writeln!(out, "receipt saved to {}", receipt.display());
                if verified {
                    let _ = writeln!(
                        out,
                        "receipt verified: the log's signature, each entry's signature and inclusion"
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "receipt not verified against the log's key (pass --log VKEY, or run sijil verify {} --key VKEY)",
                        receipt.display()
                    );
                }
                outln!("{}", out.trim_end())?;
            }
        }
    }
    Ok(())
}
