//! `sijil sequencer`: takes officers' signed batches over HTTP (sijil_http::sequencer), and,
//! with `--witness`, has the checkpoint cosigned between its batches
//! (sijil_client::cosign's `collect` and `publish`).

use std::sync::{Arc, Weak};
use std::time::Duration;

use anyhow::Context as _;
use sijil_client::cosign::{collect, default_evidence_dir, publish, WitnessOutcome, WitnessTarget};
use sijil_client::http::{HttpClient, HttpOptions};
use sijil_core::storage::DirTiles;
use sijil_http::sequencer::{serve_sequencer, CommitHook, Sequencer, SequencerConfig};
use sijil_register::{read_private_key, RegisterWriter};

use super::monitor::duration_arg;
use super::publish::Publication;
use super::serve::{run_server, shutdown_signal};
use super::{location, now_ms, register_failure};
use crate::flags::SequencerArgs;
use crate::output::errln;
use crate::Failure;

pub fn sequencer(a: SequencerArgs) -> Result<(), Failure> {
    if !(a.rate.is_finite() && a.rate > 0.0) {
        return Err(Failure::usage(anyhow::anyhow!(
            "--rate must be a positive number"
        )));
    }
    if a.max_events == 0 || a.max_body == 0 || a.burst == 0 {
        return Err(Failure::usage(anyhow::anyhow!(
            "--max-events, --max-body and --burst must be at least 1"
        )));
    }
    if location::is_postgres(&a.dir) && !a.witness.is_empty() {
        return Err(Failure::usage(anyhow::anyhow!(
            "--witness with a postgres:// register: not supported (the cosignatures would be added to this machine's copy only, not to the checkpoint the database and the publication hold); run the sequencer without --witness"
        )));
    }
    let witnesses = a
        .witness
        .iter()
        .map(|w| WitnessTarget::parse(w))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::usage)?;
    let every = duration_arg("--cosign-every", &a.cosign_every)?;
    if every < Duration::from_secs(1) {
        return Err(Failure::usage(anyhow::anyhow!(
            "--cosign-every {}: at least one second",
            a.cosign_every
        )));
    }
    let log_key = a
        .log_key
        .as_deref()
        .map(read_private_key)
        .transpose()
        .map_err(register_failure)?;
    // Opening takes the writer's lock and recovers from a crash, as `append` does; a
    // remembered publication is checked (refusing to start behind it), then checked before
    // each batch and published to after each commit.
    let (writer, publication) =
        location::open_checked(&a.dir, a.private.as_deref(), log_key, true)?;
    let mut config = SequencerConfig {
        max_events: a.max_events,
        max_body: a.max_body,
        rate: a.rate,
        burst: a.burst,
        ..SequencerConfig::default()
    };
    config.limits.max_request_body = a.max_body;
    // The witnesses it knows, too: one that has cosigned a larger checkpoint of this log
    // means this register is behind what was published (issue 14: a restored backup stops
    // instead of forking). A witness that cannot be reached does not stop it.
    let evidence_dir = default_evidence_dir(writer.layout().root());
    let client = if witnesses.is_empty() {
        None
    } else {
        Some(
            HttpClient::new(HttpOptions {
                retries: 2,
                ..HttpOptions::default()
            })
            .map_err(Failure::usage)?,
        )
    };
    if let Some(client) = &client {
        check_witnesses(&writer, &witnesses, client, &evidence_dir)?;
    }
    let mut sequencer = Sequencer::new(writer, now_ms, config);
    if let Some(p) = publication {
        sequencer = sequencer.with_hook(Box::new(p));
    }
    let sequencer = Arc::new(sequencer);
    if let Some(client) = client {
        let cosigner = Cosigner {
            sequencer: Arc::downgrade(&sequencer),
            witnesses,
            client,
            evidence_dir,
        };
        std::thread::Builder::new()
            .name("cosign".into())
            .spawn(move || cosigner.run(every))
            .context("starting the cosigning thread")?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let what = format!(
        "sequencer for {} (tree size {})",
        sequencer.origin(),
        sequencer.size()
    );
    run_server(&runtime, a.listen, what, |listener| {
        serve_sequencer(listener, sequencer, shutdown_signal())
    })
}

/// Before the sequencer signs anything: the witnesses' view of the log. Each is asked to
/// cosign the register's checkpoint (the exchange `sijil cosign` makes; its cosignature is
/// kept by the first round of the cosigning thread anyway); one that answers with a larger
/// size than the log's stops the start (exit 1), a fork it proves stops it too (exit 3, the
/// evidence saved), one that cannot be reached is reported and skipped.
fn check_witnesses(
    writer: &RegisterWriter,
    witnesses: &[WitnessTarget],
    client: &HttpClient,
    evidence_dir: &std::path::Path,
) -> Result<(), Failure> {
    let checkpoint = writer.checkpoint();
    let tiles = DirTiles::new(writer.layout().clone());
    let outcomes = collect(
        checkpoint,
        &writer.log_key().verifier(),
        &tiles,
        witnesses,
        client,
        now_ms(),
        evidence_dir,
    )
    .map_err(|e| Failure {
        code: crate::EXIT_FORK,
        error: anyhow::Error::new(e).context("refusing to sign"),
    })?;
    for (url, outcome) in outcomes {
        match outcome {
            WitnessOutcome::Failed(sijil_client::Error::WitnessAhead { size, ours, .. }) => {
                return Err(Failure::rejected(anyhow::anyhow!(
                    "refusing to sign: witness {url} has cosigned this log at size {size}, but {} has only {ours} entries: the register is behind what was published (restored from an older copy?); signing now would fork the log. Bring it forward (`sijil mirror` from a copy that has the missing entries) and start again. Nothing was written.",
                    writer.layout().root().display()
                )));
            }
            WitnessOutcome::Failed(e) => errln!("sijil: witness {url}: {e} (not checked)"),
            WitnessOutcome::Cosigned(_) => {}
        }
    }
    Ok(())
}

/// The sequencer's cosigning rounds (`--witness`): what `sijil cosign` does, which cannot
/// take the writer's lock while the sequencer holds it. The exchanges with the witnesses run
/// outside the sequencer's batches (they take seconds; submissions do not wait for them);
/// only the replacement of the checkpoint file runs between two batches
/// ([`Sequencer::between_batches`]), and only if the log has not grown meanwhile.
struct Cosigner {
    /// Weak, so that the sequencer (and its writer, whose drop saves the view snapshot) goes
    /// away with the server.
    sequencer: Weak<Sequencer>,
    witnesses: Vec<WitnessTarget>,
    client: HttpClient,
    evidence_dir: std::path::PathBuf,
}

impl Cosigner {
    /// A round at start, then one every `every`, until the sequencer is gone.
    fn run(&self, every: Duration) {
        while let Some(sequencer) = self.sequencer.upgrade() {
            self.round(&sequencer);
            drop(sequencer);
            std::thread::sleep(every);
        }
    }

    /// One round: the checkpoint now, the witnesses' cosignatures of it, published if it is
    /// still the log's; if a batch was committed meanwhile, again for the new one (three
    /// times at most). Each round says on stderr what it did.
    fn round(&self, sequencer: &Sequencer) {
        for _ in 0..3 {
            // The writer's own key, read each round: the one its checkpoints are signed with.
            let (checkpoint, layout, verifier) = sequencer.between_batches(|w| {
                (
                    w.checkpoint().clone(),
                    w.layout().clone(),
                    w.log_key().verifier(),
                )
            });
            let size = checkpoint.checkpoint.size;
            let tiles = DirTiles::new(layout.clone());
            let outcomes = match collect(
                &checkpoint,
                &verifier,
                &tiles,
                &self.witnesses,
                &self.client,
                now_ms(),
                &self.evidence_dir,
            ) {
                Ok(o) => o,
                Err(e) => {
                    // A fork (its evidence saved): the sequencer goes on, the alarm is raised.
                    errln!("sijil: cosign: {e}");
                    return;
                }
            };
            for (url, o) in &outcomes {
                if let WitnessOutcome::Failed(e) = o {
                    errln!("sijil: cosign: {url}: FAILED: {e}");
                }
            }
            let published =
                sequencer.between_batches(|_| publish(&layout, &verifier, &checkpoint, &outcomes));
            match published {
                Ok(Some(cp)) => {
                    let cosigned = outcomes
                        .iter()
                        .filter(|(_, o)| matches!(o, WitnessOutcome::Cosigned(_)))
                        .count();
                    errln!(
                        "sijil: cosign: checkpoint of size {size} cosigned by {cosigned} of {} witnesses; it carries {} signature lines",
                        outcomes.len(),
                        cp.note.signatures.len()
                    );
                    return;
                }
                // A batch was committed while the witnesses were asked: ask for the new one.
                Ok(None) => continue,
                Err(e) => {
                    errln!("sijil: cosign: publishing the cosigned checkpoint: {e}");
                    return;
                }
            }
        }
        errln!(
            "sijil: cosign: the log grew during each of three rounds; the checkpoint is cosigned at the next one"
        );
    }
}

/// The register's remembered publication around each batch (issue 14): the same check and
/// the same incremental publication as `sijil append`'s.
impl CommitHook for Publication {
    fn before_signing(&self, writer: &RegisterWriter) -> Result<(), String> {
        self.check_writer(writer)
            .map(|_| ())
            .map_err(|e| crate::error_chain(&self.refusal(e).error))
    }

    fn after_commit(&self, writer: &RegisterWriter) -> Result<(), String> {
        self.publish_committed(writer)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
