//! `sijil monitor URL|DIR`: a long-lived prober for a register's operator (issue 13).
//!
//! Each round runs `sijil verify`'s checks with its code (`sijil_client::verify`: the
//! checkpoint's signature, the witness quorum, consistency with the last checkpoint seen, the
//! inclusion of a few entries), then checks how old the log's newest content is. A failure is
//! sorted into "the log misbehaved" (exit 1, or 3 for a proven fork) and "could not reach it,
//! or it is stale" (exit 5), so that an alert can say which one woke the operator.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sijil_client::state::StateDir;
use sijil_client::verify::{verify, Previous, VerifyOptions, VerifyReport};
use sijil_client::{rfc3339, Error as ClientError, ErrorKind};
use sijil_core::cosignature::CosignatureError;
use sijil_register::audit::AuditFailure;

use super::remote::{source, witness_policy};
use super::{now_ms, verifier_arg};
use crate::flags::MonitorArgs;
use crate::output::{errln, outln};
use crate::{error_chain, Failure, EXIT_FORK, EXIT_REJECTED, EXIT_USAGE};

/// Exit code 5 of `monitor`: the log could not be reached, or what it serves is stale (older
/// than `--max-age`, or without its witness quorum). Not proof of misbehaviour.
pub const EXIT_UNAVAILABLE: u8 = 5;

/// Why a round failed, from the most to the least serious.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// Two signed checkpoints that cannot both be honest; evidence saved.
    Fork,
    /// The log served something that fails verification against its own signed checkpoint.
    Misbehaved,
    /// The log (or one of its files) could not be fetched.
    Unreachable,
    /// The log verifies but is too old, or lacks its witness quorum.
    Stale,
    /// The monitor's own problem (its state file, a flag): not about the log.
    Local,
}

impl Class {
    fn code(self) -> u8 {
        match self {
            Class::Fork => EXIT_FORK,
            Class::Misbehaved => EXIT_REJECTED,
            Class::Unreachable | Class::Stale => EXIT_UNAVAILABLE,
            Class::Local => EXIT_USAGE,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Class::Fork => "fork",
            Class::Misbehaved => "misbehaved",
            Class::Unreachable => "unreachable",
            Class::Stale => "stale",
            Class::Local => "local",
        }
    }

    /// The words that start the stderr line.
    fn headline(self) -> &'static str {
        match self {
            Class::Fork => "the log FORKED",
            Class::Misbehaved => "the log MISBEHAVED",
            Class::Unreachable => "could not reach the log",
            Class::Stale => "the log is STALE",
            Class::Local => "the monitor failed",
        }
    }
}

/// A failed round: its class and one line saying what failed and where.
#[derive(Debug)]
struct RoundFailure {
    class: Class,
    message: String,
}

/// What one round found: the verification (if it passed) and the failure (if any). A stale
/// log has both.
#[derive(Debug, Default)]
struct Round {
    report: Option<VerifyReport>,
    /// The newest of: the last entry's `recorded_at`, the newest verified cosignature (ms).
    fresh_at: Option<i64>,
    failure: Option<RoundFailure>,
}

pub fn monitor(a: MonitorArgs) -> Result<(), Failure> {
    let verifier = verifier_arg(&a.key)?;
    let witnesses = witness_policy(&a.witnesses)?;
    let interval = duration_arg("--interval", &a.interval)?;
    if interval.is_zero() {
        return Err(Failure::usage(anyhow::anyhow!(
            "--interval must be more than 0"
        )));
    }
    let max_age = a
        .max_age
        .as_deref()
        .map(|s| duration_arg("--max-age", s))
        .transpose()?;
    let state = match &a.state {
        Some(file) => StateDir::file(file),
        None => StateDir::new(default_state_dir()?),
    };
    let evidence_dir = a
        .evidence_dir
        .clone()
        .unwrap_or_else(|| state.dir().to_path_buf());
    // One client for every round: its connections are reused.
    let (src, _client) = source(&a.target, &a.net)?;
    loop {
        let started = Instant::now();
        let now = now_ms();
        let opts = VerifyOptions {
            spot_checks: a.spot,
            witnesses: witnesses.clone(),
            now_ms: now,
            evidence_dir: evidence_dir.clone(),
        };
        let round = match verify(src.as_ref(), &verifier, &state, &opts) {
            Ok(report) => judge_age(report, now, max_age),
            Err(e) => {
                let class = classify(&e);
                Round {
                    failure: Some(RoundFailure {
                        class,
                        message: error_chain(&anyhow::Error::new(e)),
                    }),
                    ..Round::default()
                }
            }
        };
        if a.json {
            outln!("{}", round_json(&a.target, now, max_age, &round))?;
        } else if round.failure.is_none() {
            outln!("{}", round_text(&a.target, now, &round))?;
        }
        if let Some(f) = &round.failure {
            let line = format!(
                "monitor {}: {}: {}",
                a.target,
                f.class.headline(),
                one_line(&f.message)
            );
            // A local failure (the state file, the disk) would repeat every round: stop.
            if a.once || !a.keep_going || f.class == Class::Local {
                return Err(Failure {
                    code: f.class.code(),
                    error: anyhow::anyhow!(line),
                });
            }
            errln!("sijil: error: {line}");
        }
        if a.once {
            return Ok(());
        }
        std::thread::sleep(interval.saturating_sub(started.elapsed()));
    }
}

/// The state directory `sijil verify` uses, so that both remember the same checkpoints.
fn default_state_dir() -> Result<PathBuf, Failure> {
    let xdg = std::env::var_os("XDG_STATE_HOME").map(PathBuf::from);
    let home = std::env::var_os("HOME").map(PathBuf::from);
    StateDir::default_dir(xdg.as_deref(), home.as_deref()).ok_or_else(|| {
        Failure::usage(anyhow::anyhow!(
            "no state file: pass --state FILE, or set HOME or XDG_STATE_HOME"
        ))
    })
}

/// Sorts a verification error: the client's kinds (fork, unverified, unavailable), with a
/// missing quorum counted as stale (witnesses lag or are down: no proof of misbehaviour) and
/// a file the log does not serve as unreachable.
fn classify(e: &ClientError) -> Class {
    match e {
        ClientError::Witness {
            source: CosignatureError::QuorumNotMet { .. },
            ..
        } => Class::Stale,
        ClientError::Audit(AuditFailure::Missing { .. }) => Class::Unreachable,
        ClientError::Audit(AuditFailure::Io(_))
        | ClientError::Io(_)
        | ClientError::Usage(_)
        | ClientError::LocalCheckpoint { .. } => Class::Local,
        _ => match e.kind() {
            ErrorKind::Fork => Class::Fork,
            ErrorKind::Unverified => Class::Misbehaved,
            ErrorKind::Unavailable => Class::Unreachable,
        },
    }
}

/// Checks the age of what a verified checkpoint shows: its newest entry, or the newest
/// cosignature a trusted witness made of it (witnesses cosign an unchanged log again, so an
/// idle but live log stays fresh when it is witnessed).
fn judge_age(report: VerifyReport, now: i64, max_age: Option<Duration>) -> Round {
    let cosigned = report.witnesses.as_ref().and_then(|w| {
        w.cosignatures
            .iter()
            .map(|c| i64::try_from(c.timestamp.saturating_mul(1000)).unwrap_or(i64::MAX))
            .max()
    });
    let fresh_at = report.latest_recorded_at.max(cosigned);
    let failure = match (max_age, fresh_at) {
        (Some(max), Some(at)) => {
            let age = Duration::from_millis(u64::try_from(now.saturating_sub(at)).unwrap_or(0));
            (age > max).then(|| RoundFailure {
                class: Class::Stale,
                message: format!(
                    "checkpoint of size {}: its newest entry{} dates from {} ({} ago), older than --max-age {}",
                    report.checkpoint.checkpoint.size,
                    if cosigned.is_some() { " and its newest witness cosignature" } else { "" },
                    rfc3339(at),
                    human(age),
                    human(max)
                ),
            })
        }
        _ => None,
    };
    Round {
        report: Some(report),
        fresh_at,
        failure,
    }
}

fn history(p: &Previous, size: u64) -> (&'static str, Option<u64>) {
    match p {
        Previous::FirstVisit => ("first-visit", None),
        Previous::Same => ("unchanged", Some(size)),
        Previous::Grew { from } => ("consistent", Some(from.size)),
    }
}

fn round_json(target: &str, now: i64, max_age: Option<Duration>, r: &Round) -> serde_json::Value {
    let rep = r.report.as_ref();
    let cp = rep.map(|x| &x.checkpoint.checkpoint);
    let hist = rep.map(|x| history(&x.previous, x.checkpoint.checkpoint.size));
    serde_json::json!({
        "time": rfc3339(now),
        "target": target,
        "ok": r.failure.is_none(),
        "origin": cp.map(|c| c.origin.clone()),
        "tree_size": cp.map(|c| c.size),
        "root": cp.map(|c| c.root.to_base64()),
        "history": hist.map(|h| h.0),
        "previous_size": hist.and_then(|h| h.1),
        "spot_checked": rep.map(|x| x.spot_checked.clone()),
        "witnesses": rep.and_then(|x| x.witnesses.as_ref()).map(|w| serde_json::json!({
            "counted": w.counted,
            "quorum": w.quorum,
            "names": w.cosignatures.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
        })),
        "latest_entry_at": rep.and_then(|x| x.latest_recorded_at).map(rfc3339),
        "fresh_at": r.fresh_at.map(rfc3339),
        "age_seconds": r.fresh_at.map(|at| (now.saturating_sub(at)).max(0) / 1000),
        "max_age_seconds": max_age.map(|d| d.as_secs()),
        "failure": r.failure.as_ref().map(|f| serde_json::json!({
            "class": f.class.name(),
            "exit_code": f.class.code(),
            "error": f.message,
        })),
    })
}

fn round_text(target: &str, now: i64, r: &Round) -> String {
    let Some(rep) = &r.report else {
        return format!("{} {target}: no checkpoint", rfc3339(now));
    };
    let cp = &rep.checkpoint.checkpoint;
    let history = match &rep.previous {
        Previous::FirstVisit => "first visit, trusted and remembered".to_owned(),
        Previous::Same => "unchanged".to_owned(),
        Previous::Grew { from } => format!("consistent with size {}", from.size),
    };
    let mut line = format!(
        "{} {target}: ok: size {} ({history}), signature ok",
        rfc3339(now),
        cp.size
    );
    if let Some(w) = &rep.witnesses {
        line.push_str(&format!(", witnesses {}/{}", w.counted, w.quorum));
    }
    line.push_str(&format!(", entries {:?} included", rep.spot_checked));
    if let Some(at) = r.fresh_at {
        let age = Duration::from_millis(u64::try_from(now.saturating_sub(at)).unwrap_or(0));
        line.push_str(&format!(", newest {} ago", human(age)));
    }
    line
}

/// An error's text on one line (a stderr line per failure, for log scrapers).
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A duration as people read it: 45s, 12m, 3h 5m, 2d 4h.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86400, s % 86400 / 3600),
    }
}

/// A duration flag: seconds (`90`, `0.5`), or a number with `s`, `m`, `h` or `d`.
pub(super) fn duration_arg(flag: &str, text: &str) -> Result<Duration, Failure> {
    parse_duration(text).ok_or_else(|| {
        Failure::usage(anyhow::anyhow!(
            "{flag} {text:?}: expected seconds, or a number with s, m, h or d (e.g. 90, 15m, 1d)"
        ))
    })
}

fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (number, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c),
        _ => (t, 's'),
    };
    let scale = match unit {
        's' => 1.0,
        'm' => 60.0,
        'h' => 3600.0,
        'd' => 86400.0,
        _ => return None,
    };
    let n: f64 = number.trim().parse().ok()?;
    let secs = n * scale;
    // Below 100 years, so that adding it to an instant cannot overflow.
    (secs.is_finite() && (0.0..3.2e9).contains(&secs)).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue13_durations_parse_in_seconds_minutes_hours_days() {
        let secs = |t: &str| parse_duration(t).map(|d| d.as_secs_f64());
        assert_eq!(secs("60"), Some(60.0));
        assert_eq!(secs("0.5"), Some(0.5));
        assert_eq!(secs("90s"), Some(90.0));
        assert_eq!(secs("15m"), Some(900.0));
        assert_eq!(secs("2h"), Some(7200.0));
        assert_eq!(secs("1d"), Some(86400.0));
        assert_eq!(secs(" 3 m "), Some(180.0));
        for bad in ["", "m", "-1", "1w", "1.2.3s", "inf", "NaN", "1e12d"] {
            assert_eq!(secs(bad), None, "{bad:?}");
        }
        assert_eq!(human(Duration::from_secs(59)), "59s");
        assert_eq!(human(Duration::from_secs(900)), "15m");
        assert_eq!(human(Duration::from_secs(3 * 3600 + 300)), "3h 5m");
        assert_eq!(human(Duration::from_secs(2 * 86400 + 4 * 3600)), "2d 4h");
    }

    #[test]
    fn issue13_a_missing_quorum_is_stale_a_bad_line_misbehaviour() {
        let quorum = ClientError::Witness {
            size: 3,
            source: CosignatureError::QuorumNotMet {
                counted: 0,
                quorum: 1,
                not_checked: 0,
            },
        };
        assert_eq!(classify(&quorum), Class::Stale);
        let entry = ClientError::Entry {
            seq: 2,
            message: "x".into(),
        };
        assert_eq!(classify(&entry), Class::Misbehaved);
        assert_eq!(classify(&entry).code(), 1);
        let missing = ClientError::Audit(AuditFailure::Missing {
            path: "checkpoint".into(),
            source_name: "http://h/".into(),
        });
        assert_eq!(classify(&missing).code(), EXIT_UNAVAILABLE);
        assert_eq!(one_line("a\n  b\tc"), "a b c");
    }
}
