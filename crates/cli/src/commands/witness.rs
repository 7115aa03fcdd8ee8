//! `sijil witness`: a C2SP tlog-witness (sijil_witness).

use std::sync::Arc;

use anyhow::Context as _;
use sijil_core::cosignature::Cosigner;
use sijil_witness::{Witness, WitnessState};

use super::{now_ms, verifier_arg};
use crate::flags::WitnessArgs;
use crate::output::errln;
use crate::Failure;

pub fn witness(a: WitnessArgs) -> Result<(), Failure> {
    let text =
        std::fs::read_to_string(&a.key).with_context(|| format!("reading {}", a.key.display()))?;
    let cosigner = Cosigner::from_private_key(text.trim_end_matches(['\n', '\r']))
        .map_err(|e| Failure::usage(anyhow::anyhow!("{}: {e}", a.key.display())))?;
    let logs = a
        .log
        .iter()
        .map(|l| verifier_arg(l))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(k) = logs
        .iter()
        .find(|k| k.key_type() != sijil_core::note::KeyType::Ed25519)
    {
        return Err(Failure::usage(anyhow::anyhow!(
            "--log {k}: not a log key (Ed25519, 0x01)"
        )));
    }
    let state = WitnessState::open(&a.state).map_err(Failure::usage)?;
    let witness = Arc::new(Witness::new(cosigner.clone(), logs.clone(), state, now_ms));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .with_context(|| format!("listening on {}", a.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        errln!(
            "sijil: witness {} for {} log(s) at http://{addr}/",
            cosigner.verifier(),
            logs.len()
        );
        sijil_witness::server::serve(listener, witness, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving")?;
        Ok::<(), Failure>(())
    })
}
