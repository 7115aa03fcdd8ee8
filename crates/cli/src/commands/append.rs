//! `sijil append`.

use sijil_register::{parse_events, read_private_key, Error, RegisterWriter};

use super::{now_ms, read_input};
use crate::flags::AppendArgs;
use crate::Failure;

pub fn append(a: AppendArgs) -> Result<(), Failure> {
    // Read and parse everything before taking the lock: a bad file costs nothing.
    let officer = read_private_key(&a.key)?;
    let log_key = a.log_key.as_deref().map(read_private_key).transpose()?;
    let (name, text) = read_input(&a.events)?;
    let drafts = parse_events(&name, &text)?;
    let mut w = RegisterWriter::open(&a.dir, log_key)?;
    let report = w
        .append(drafts, &officer, now_ms(), a.expect_size)
        .map_err(|e| match e {
            Error::Rejected { .. } | Error::InvalidEvent { .. } => Failure::rejected(e),
            Error::Writer(sijil_core::writer::WriterError::ExpectedSize { .. }) => {
                Failure::rejected(e)
            }
            other => Failure::usage(other),
        })?;
    let cp = &report.checkpoint.checkpoint;
    if a.json {
        let out = serde_json::json!({
            "first_seq": report.seqs.start,
            "last_seq": report.seqs.end - 1,
            "tree_size": cp.size,
            "root": cp.root.to_base64(),
            "checkpoint": String::from_utf8_lossy(&report.checkpoint.bytes),
        });
        println!("{out}");
    } else {
        println!(
            "appended seqs {}..={} ({} events)",
            report.seqs.start,
            report.seqs.end - 1,
            report.seqs.end - report.seqs.start
        );
        print!("{}", String::from_utf8_lossy(&report.checkpoint.bytes));
    }
    Ok(())
}
