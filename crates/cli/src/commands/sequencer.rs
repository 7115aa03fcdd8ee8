//! `sijil sequencer`: takes officers' signed batches over HTTP (sijil_http::sequencer).

use std::sync::Arc;

use anyhow::Context as _;
use sijil_http::sequencer::{serve_sequencer, Sequencer, SequencerConfig};
use sijil_register::{read_private_key, RegisterWriter};

use super::serve::{run_server, shutdown_signal};
use super::{now_ms, register_failure};
use crate::flags::SequencerArgs;
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
    let log_key = a
        .log_key
        .as_deref()
        .map(read_private_key)
        .transpose()
        .map_err(register_failure)?;
    // Opening takes the writer's lock and recovers from a crash, as `append` does.
    let writer = RegisterWriter::open(&a.dir, log_key).map_err(register_failure)?;
    let mut config = SequencerConfig {
        max_events: a.max_events,
        max_body: a.max_body,
        rate: a.rate,
        burst: a.burst,
        ..SequencerConfig::default()
    };
    config.limits.max_request_body = a.max_body;
    let sequencer = Arc::new(Sequencer::new(writer, now_ms, config));
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
