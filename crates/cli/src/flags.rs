//! Command-line flags: every subcommand and option, with a one-line `-h` and a `--help`
//! paragraph. Parsing turns them into a checked [`Command`]; nothing else reads `argv`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// sijil: a public register whose every entry is a signed event in an append-only,
/// verifiable, mirrorable transparency log (C2SP signed-note checkpoints and tlog-tiles).
///
/// Exit codes: 0 ok; 1 rejected, failed verification, or not in the register; 2 usage or I/O
/// error; 3 a fork was found and its evidence saved; 4 the batch was committed but a step
/// after the commit point failed (do not retry); 5 (`monitor`) the log could not be reached
/// or is stale.
#[derive(Debug, Parser)]
#[command(name = "sijil", version, about, long_about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new register: its log key, a first officer key and the genesis entry.
    ///
    /// Writes DIR/checkpoint, DIR/tile/… and DIR/private/log.key (mode 0600, never
    /// published), and the first officer's private key to --officer-key-out. Prints the log's
    /// verifier key: give it to everyone who verifies or mirrors the register.
    ///
    /// Example: sijil init ./registre --origin registre.example.ma/plaintes --title "Registre
    /// des plaintes" --authority "CNDP" --officer amina
    Init(InitArgs),
    /// Generate an Ed25519 key pair in the signed-note format (for a new officer).
    ///
    /// Writes the private key (PRIVATE+KEY+NAME+…) to --out with mode 0600 and prints the
    /// verifier key and the raw public key in hex (the form an OfficerAuthorized event takes).
    ///
    /// Example: sijil keygen karim --out karim.key
    Keygen(KeygenArgs),
    /// Append events (one JSON object per line) to a register, as one signed batch.
    ///
    /// Each event is checked by the register's rules before it is signed; if any is refused
    /// nothing is written. Prints the entries it committed and the new checkpoint. With
    /// --expect-size N the batch commits only if the log is still at size N, so re-running an
    /// append after a crash or a lost answer never records an event twice.
    ///
    /// "case":"auto" (or "auto:KEY", which later lines reuse) opens a case with the next
    /// number YYYY-NNNN, printed with its line; a Correction, Erasure or Amendment may target
    /// {"case":"2024-0003","seq":2}, the case's event #2 counted from 0 (docs/FORMAT.md §5).
    /// Errors name the file's line, counted from 1.
    ///
    /// Example: sijil append ./registre --key amina.key --expect-size 12 events.jsonl
    Append(AppendArgs),
    /// Import a clerk's spreadsheet export (two CSV files) as one signed batch.
    ///
    /// CASES has one row per case (case, controller_id, controller_name, categories,
    /// opened_on, opening, summary), EVENTS one row per later event of a case (case, type,
    /// date, and the columns of its type); docs/FORMAT.md §5.1 lists them. UTF-8, with or
    /// without Excel's BOM, commas, quoted fields, CRLF or LF. Every row is read and checked
    /// by the register's rules exactly as `append --dry-run` checks an events file, and every
    /// error is listed (file, row counted as a spreadsheet counts it, column) before anything
    /// is written; if any row fails, nothing is. Then the rows are committed as one batch:
    /// the cases in CASES's order, then the events in EVENTS's order.
    ///
    /// Example: sijil import ./registre --key amina.key cases.csv events.csv --dry-run
    Import(ImportArgs),
    /// Back up a register while it runs: its log, verified, and its private files.
    ///
    /// Copies DIR's publication up to the checkpoint read when the run starts, as `sijil
    /// mirror` does (every entry verified, the checkpoint written last), while appends go on;
    /// then DIR/private/ (the log key, officers' keys kept there) into
    /// DEST/private/register/: guard DEST as you guard the server. DEST is not a register
    /// one can append to; run again into the same DEST to bring it forward (only new entries
    /// are copied). Restore it with `sijil restore`.
    ///
    /// Example: sijil backup /srv/registre /backup/registre
    Backup(BackupArgs),
    /// Restore a backup, refusing to sign again behind a checkpoint seen elsewhere.
    ///
    /// Verifies BACKUP completely, reads every checkpoint it can find (DIR's own before it
    /// is replaced, each --check: a URL or directory serving the register, or a file holding
    /// a signed checkpoint such as a monitor's state), refuses (exit 1, nothing changed) if one
    /// of the backup's size or smaller is not of the backup's history (its root is not the
    /// root of the backup's first that-many entries: two histories exist), moves an existing
    /// DIR aside (DIR.before-restore-SECONDS), and copies the backup into DIR. If a checkpoint
    /// larger than the backup was seen, it writes DIR/private/restored and exits 1: the
    /// register then refuses to sign (append, sequencer) until it is restored from a copy that
    /// has those entries, because signing from a smaller log would fork it. --accept-fork
    /// SIZE signs from the backup anyway, knowingly: exit 0, a warning, no marker.
    ///
    /// Example: sijil restore /backup/registre /srv/registre --check https://miroir.example.ma/plaintes
    Restore(RestoreArgs),
    /// Submit events to a register's sequencer, signed here with an officer's key.
    ///
    /// The officer's key never leaves this machine: submit reads the log's head from the
    /// sequencer (its size, last leaf hash and the heads of the cases the events touch), signs
    /// the entries here exactly as `append` would, and sends them. On success it prints and
    /// saves the receipt (--receipt): the signed checkpoint that includes the entries and each
    /// entry's tlog-proof, which `sijil verify RECEIPT --key VKEY` checks offline, and, as
    /// `append` does, the case number each `"case":"auto"` got (`FILE:LINE: "auto" opened case
    /// 2024-0008 (entry 4)`; `allocated` with --json). If the head moved meanwhile it signs
    /// again and retries (--attempts). The signed batch is saved in RECEIPT.pending until it
    /// is answered: if submit stops without an answer, run it again with the same events; the
    /// same batch is sent again and recorded once. Exit 1 if the sequencer refuses the batch
    /// (the rule's sentence is printed; nothing was recorded).
    ///
    /// Example: sijil submit https://sequencer.example.ma/ --key amina.key --log @plaintes.vkey events.jsonl
    Submit(SubmitArgs),
    /// Run a register's sequencer: take batches signed by officers on their own machines
    /// (`sijil submit`) over HTTP, and commit them.
    ///
    /// The only process that holds the log key (DIR/private/log.key, or --log-key); it holds
    /// the register's writer lock while it runs, so `append` waits for it to stop. Serves POST
    /// /api/v1/submit and GET /api/v1/submit/head (docs/API.md): checks each officer's
    /// signature, the officer's authorization, the register's rules and that the batch
    /// extends the head exactly, commits it as one batch (as `append` does) and answers with
    /// the receipt. `sijil serve` publishes the register read-only on another address. Stops
    /// on Ctrl-C or SIGTERM.
    ///
    /// With --witness URL=VKEY it also has the checkpoint cosigned by those witnesses, at
    /// start and every --cosign-every (5m), as `sijil cosign` would if it could take the lock.
    ///
    /// Example: sijil sequencer ./registre --listen 127.0.0.1:8081
    ///
    /// Example: sijil sequencer ./registre --witness https://witness.example/w1=witness.example/w1+1a2b3c4d+AXk… --cosign-every 5m
    Sequencer(SequencerArgs),
    /// Show the register and a page of its cases, one entry (SEQ), or one case (--case).
    ///
    /// `show DIR` lists the cases, latest opened first, --limit at a time from --offset, and
    /// says which of how many it shows; `show DIR SEQ` prints one entry as a table;
    /// `show DIR --case ID` prints the case's timeline (case event number, entry, dates,
    /// places, signers, texts). --json prints the same as JSON.
    ///
    /// Example: sijil show ./registre --offset 20 --limit 20
    Show(ShowArgs),
    /// Print the register's statistics (cases by status, category, year; sanctions; overdue).
    Stats(StatsArgs),
    /// List the register's officers, or rotate an officer's key (`officers rotate`).
    ///
    /// `sijil officers DIR` lists every key ever authorized: name, role, key, when it was
    /// authorized (entry and date) and by whom, and when and why it was revoked.
    /// `sijil officers URL --key VKEY` prints the same list for a register served over HTTP,
    /// verified: the checkpoint as `sijil verify URL` checks it (signature, witnesses with
    /// --witness, consistency with the last one seen, spot checks), then the register's own
    /// entries (GET /api/v1/officers), each proven in that checkpoint and signed, proven to be
    /// all of them (the index proof of docs/FORMAT.md §10), and the list rebuilt from them,
    /// each authorization and revocation signed by an admin then in office. Exit 1 if any of
    /// it fails, 3 on a fork.
    /// `sijil officers rotate DIR --key ADMIN.key --officer NAME --new-key NEW.key` authorises
    /// the new key (same name and role) and revokes the officer's current one in one batch.
    ///
    /// Example: sijil officers ./registre --json
    ///
    /// Example: sijil officers https://registre.example.ma/plaintes --key @plaintes.vkey
    Officers(OfficersArgs),
    /// The log's own key (`log-key rotate`).
    #[command(name = "log-key")]
    LogKey(LogKeyArgs),
    /// Check a register quickly, served over HTTP or in a directory: its checkpoint's
    /// signature, its consistency with the last checkpoint this client saw for that origin,
    /// and a few entries' inclusion.
    ///
    /// The last checkpoint verified is kept per origin in a small state file
    /// ($XDG_STATE_HOME/sijil or ~/.local/state/sijil, or --state-dir), so a log rewritten or
    /// forked since the last visit is caught: the two signed checkpoints are saved as evidence
    /// (re-check it with `sijil evidence check`) and the exit code is 3. The first visit trusts
    /// the checkpoint and says so. `sijil audit` checks everything. Given a receipt saved by
    /// `sijil submit`, it checks it offline: the checkpoint's signature, and each entry's
    /// signature and inclusion.
    ///
    /// Example: sijil verify https://registre.example.ma/plaintes --key @plaintes.vkey
    Verify(VerifyArgs),
    /// Serve a register over HTTP: the C2SP tlog-tiles endpoints, the JSON API with proofs,
    /// and the register's pages (read-only).
    ///
    /// Publishes /checkpoint, /tile/… and /blobs/… from DIR (never DIR/private), the JSON API
    /// under /api/v1/ (docs/API.md) and HTML pages whose Verify button checks the proofs in
    /// the visitor's browser. Follows the log: a checkpoint committed by `sijil append` is
    /// served within a second, with its view. Stops gracefully on Ctrl-C or SIGTERM. Request
    /// logs: RUST_LOG=sijil_http=info.
    ///
    /// Example: sijil serve ./registre --listen 0.0.0.0:8080
    Serve(ServeArgs),
    /// Audit a register completely, served over HTTP or in a directory: every tile against
    /// the root, every entry's signature, the hash chain, the register's rules, every text
    /// against its digest.
    ///
    /// Downloads everything (concurrently, with retries) and trusts nothing before it is
    /// checked against the checkpoint signed by --key. Prints the register it rebuilt and the
    /// root; --json for tools. Exit 1 names the first entry, tile or file that fails.
    ///
    /// Example: sijil audit https://registre.example.ma/plaintes --key @plaintes.vkey --json
    Audit(AuditArgs),
    /// Mirror a register into a directory, incrementally, re-verifying every new entry.
    ///
    /// Downloads only the tiles, entries and texts DIR lacks; proves the origin's new
    /// checkpoint consistent with the one DIR holds before accepting it; audits every new
    /// entry as `sijil audit` does; then moves DIR's checkpoint (the origin's signed note,
    /// verbatim) forward atomically. DIR can be served with `sijil serve DIR`. Safe to run from
    /// cron (a lock keeps runs apart) and resumable after an interruption. A fork stops it with
    /// exit 3 and evidence in DIR/private/evidence/.
    ///
    /// Example: sijil mirror https://registre.example.ma/plaintes /srv/miroir --key @plaintes.vkey
    Mirror(MirrorArgs),
    /// Publish the register's public files to a directory or to S3-compatible storage.
    ///
    /// Copies what the committed checkpoint covers: hash tiles, entry bundles (partial ones
    /// as C2SP tlog-tiles names them), the texts not erased, and last the checkpoint itself,
    /// never private/. The source is verified first (checkpoint signature, and every tile,
    /// bundle and text before it is written). Objects are written create-if-absent: one
    /// already there with other bytes stops the run (exit 1) naming it. Idempotent: run it
    /// again, from cron or after each append; it writes only what is missing. It never rolls
    /// a publication back: a destination whose checkpoint is larger, or of another tree, is
    /// refused (exit 1). For s3://BUCKET/PREFIX it reads AWS_ENDPOINT_URL, AWS_REGION,
    /// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
    ///
    /// Example: sijil publish ./registre s3://registre-public/plaintes
    Publish(PublishArgs),
    /// Move a register between a directory and a PostgreSQL database (either way).
    ///
    /// Every entry, text, signature and the checkpoint are copied unchanged; the copy is then
    /// audited where it arrived (every entry by the rules, every tile rebuilt) and its
    /// checkpoint compared byte for byte. Into a database: FROM is held under its lock, the
    /// database must be empty, and writers then append with `sijil append postgres://…
    /// --private DIR`. Out of one: TO must be new, and --log-key gives the log key (written
    /// to TO/private/log.key). Exit 1 if the audit fails, 2 for usage or I/O.
    ///
    /// Example: sijil migrate ./registre postgres://sijil@db.example.ma/plaintes
    Migrate(MigrateArgs),
    /// Submit the register's checkpoint to witnesses and publish the cosigned checkpoint.
    ///
    /// Speaks C2SP tlog-witness: sends the checkpoint with a consistency proof from the size
    /// each witness last cosigned, keeps the cosignature lines that verify with that witness's
    /// key, and replaces DIR/checkpoint atomically with the same checkpoint carrying them. Run
    /// it after each append. Exit 1 if a witness did not cosign; 3 if one holds a checkpoint
    /// that proves a fork.
    ///
    /// Example: sijil cosign ./registre --witness 'https://witness.example/w1=witness.example/w1+…'
    Cosign(CosignArgs),
    /// Run a witness: cosign the checkpoints of the logs it trusts, only if consistent with
    /// the last one it cosigned (C2SP tlog-witness, tlog-cosignature v1).
    ///
    /// Serves POST /add-checkpoint and GET /<origin hash>/checkpoint. The latest checkpoint of
    /// each log is persisted in --state before any answer. Create its key with
    /// `sijil keygen NAME --cosigner --out witness.key`.
    ///
    /// Example: sijil witness --key witness.key --log @plaintes.vkey --listen 0.0.0.0:7380 --state /var/lib/sijil-witness
    Witness(WitnessArgs),
    /// Work with fork evidence files.
    Evidence(EvidenceArgs),
    /// Watch a register as its operator or an outsider would: a long-lived prober that
    /// alerts on any failure.
    ///
    /// Each round (every --interval; one with --once) it fetches the checkpoint and checks,
    /// as `sijil verify` does and with its code: the log's signature, a quorum of witness
    /// cosignatures (--witness, --quorum), consistency with the last checkpoint it saw (kept
    /// in --state; a fork saves its evidence next to it), and the inclusion of a few entries
    /// (--spot: entry 0, the last one, random others, each proven in the tree from the served
    /// tiles and bundles). With --max-age it also checks that the log's newest entry, or its
    /// newest verified witness cosignature, is recent enough. Prints one line per round (one
    /// JSON object with --json). On a failure it prints one line on stderr naming what failed
    /// and where, and exits, unless --keep-going.
    ///
    /// Exit codes: 0 every check passed; 1 the log MISBEHAVED (a bad signature, tiles or
    /// entries that do not match the signed tree, a checkpoint older than one already seen);
    /// 3 a FORK was proven (misbehaved; evidence saved); 5 the log could not be reached, or
    /// is stale (older than --max-age, or too few witness cosignatures); 2 usage.
    ///
    /// Example: sijil monitor https://registre.example.ma/plaintes --key @plaintes.vkey --state /var/lib/sijil-monitor/plaintes.checkpoint --max-age 1d
    Monitor(MonitorArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to create (must not exist, or be empty), or a postgres://… database
    /// (empty) to make the commit point of a register written from several machines.
    pub dir: PathBuf,
    /// For a postgres:// register: this machine's local copy of it, created here (it must
    /// not exist, or be empty): DIR/private/ holds the log key and the first officer's key.
    #[arg(long, value_name = "DIR")]
    pub private: Option<PathBuf>,
    /// The log's origin: a scheme-less URL prefix, e.g. registre.example.ma/plaintes.
    ///
    /// It is the first line of every checkpoint and the name of the log key, so it may not
    /// contain spaces or '+'.
    #[arg(long)]
    pub origin: String,
    /// The register's title, shown on its pages.
    #[arg(long, default_value = "Registre public des plaintes et contrôles")]
    pub title: String,
    /// The authority that keeps the register.
    #[arg(
        long,
        default_value = "Commission nationale de contrôle de la protection des données à caractère personnel"
    )]
    pub authority: String,
    /// The first officer's name (an admin); also the name of their key.
    #[arg(long, default_value = "admin")]
    pub officer: String,
    /// Where to write the first officer's private key [default: DIR/private/<officer>.key].
    #[arg(long, value_name = "FILE", conflicts_with = "officer_key")]
    pub officer_key_out: Option<PathBuf>,
    /// Use this existing log private key (named by the origin) instead of a new one.
    #[arg(long, value_name = "FILE")]
    pub log_key: Option<PathBuf>,
    /// Use this existing officer private key (named by --officer) instead of a new one.
    #[arg(long, value_name = "FILE")]
    pub officer_key: Option<PathBuf>,
    /// Publish the register here (a directory, or s3://BUCKET[/PREFIX]) and remember it:
    /// every command that commits then publishes after its commit, and refuses to sign
    /// behind what is published there (`sijil publish DIR --forget` stops it).
    #[arg(long, value_name = "DEST")]
    pub publish: Option<String>,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The key's name (an officer's name or a witness's); no spaces or '+'.
    pub name: String,
    /// Where to write the private key (mode 0600). It must not exist.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Make a witness (cosigner) key: C2SP tlog-cosignature type 0x04.
    #[arg(long)]
    pub cosigner: bool,
}

#[derive(Debug, Args)]
pub struct AppendArgs {
    /// The register: a directory, or a postgres://… database (with --private).
    pub dir: PathBuf,
    /// For a postgres:// register: this machine's local copy of it (DIR/private/log.key is
    /// the log key). Made from the database at the first append if it has no checkpoint
    /// yet; brought up to date with the other writers' batches before each batch.
    #[arg(long, value_name = "DIR")]
    pub private: Option<PathBuf>,
    /// The events file (JSON Lines), or '-' for standard input.
    pub events: PathBuf,
    /// The signing officer's private key file (PRIVATE+KEY+…).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The log's private key [default: DIR/private/log.key].
    #[arg(long, value_name = "FILE")]
    pub log_key: Option<PathBuf>,
    /// Commit only if the log is still at this size (safe retries).
    #[arg(long, value_name = "N")]
    pub expect_size: Option<u64>,
    /// Check the events by the register's rules, exactly as an append would, and write
    /// nothing: prints the seqs they would take, or the first refusal.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The register: a directory, or a postgres:// URL (with --private).
    pub dir: PathBuf,
    /// For a postgres:// register: this machine's local copy of it (see `sijil append`).
    #[arg(long, value_name = "DIR")]
    pub private: Option<PathBuf>,
    /// The cases file (CSV, one row per case opened; it may hold only its header).
    pub cases: PathBuf,
    /// The events file (CSV, one row per event of a case; it may hold only its header).
    pub events: PathBuf,
    /// The signing officer's private key file (PRIVATE+KEY+…).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Commit only if the log is still at this size (safe retries).
    #[arg(long, value_name = "N")]
    pub expect_size: Option<u64>,
    /// Read and check every row, exactly as the import would, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The register directory.
    pub dir: PathBuf,
    /// The backup directory (created if missing; an earlier backup of DIR is brought forward).
    pub dest: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup directory (made by `sijil backup`).
    pub backup: PathBuf,
    /// The register directory to restore (an existing one is moved aside, never deleted).
    pub dir: PathBuf,
    /// Where the register's checkpoint can be seen: an http(s) URL or a directory serving
    /// the register (a mirror), or a file holding a signed checkpoint (a monitor's
    /// --state). Repeat it for each.
    #[arg(long, value_name = "URL_OR_PATH")]
    pub check: Vec<String>,
    /// Restore without any checkpoint to compare with (no --check and no DIR): only when no
    /// copy of the register was ever published.
    #[arg(long)]
    pub no_check: bool,
    /// Let the register sign from the backup although a checkpoint of SIZE entries was seen:
    /// its next entries fork the log, and verifiers that saw SIZE will say so.
    #[arg(long, value_name = "SIZE")]
    pub accept_fork: Option<u64>,
    #[command(flatten)]
    pub net: NetArgs,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The sequencer's URL (e.g. https://sequencer.example.ma/).
    pub url: String,
    /// The events file (JSON Lines, as for `append`), or '-' for standard input.
    pub events: PathBuf,
    /// The signing officer's private key file (PRIVATE+KEY+…); it never leaves this machine.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Where to save the receipt [default: EVENTS.receipt.json; required with '-'].
    ///
    /// The signed batch waits in RECEIPT.pending until the sequencer answers.
    #[arg(long, value_name = "FILE")]
    pub receipt: Option<PathBuf>,
    /// The log's verifier key (name+keyid+base64, or @FILE), to verify the head and the
    /// receipt's checkpoint signature [default: not checked, and said so].
    #[arg(long, value_name = "VKEY")]
    pub log: Option<String>,
    /// Signing rounds at most: after a 409 (another batch came first) submit reads the new
    /// head, signs again and retries, with jittered backoff.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub attempts: u32,
    /// Check the batch remotely (signatures, authorization, rules, head) and commit nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub net: NetArgs,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SequencerArgs {
    /// The register: a directory, or a postgres:// URL (with --private).
    pub dir: PathBuf,
    /// For a postgres:// register: this machine's local copy of it (see `sijil append`).
    /// Other writers (`sijil append`, other sequencers) may commit beside this one: each
    /// head asked for and each batch first brings the copy up to the database.
    #[arg(long, value_name = "DIR")]
    pub private: Option<PathBuf>,
    /// The address and port to listen on; port 0 picks a free one (printed on stderr).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8081")]
    pub listen: std::net::SocketAddr,
    /// The log's private key [default: DIR/private/log.key].
    #[arg(long, value_name = "FILE")]
    pub log_key: Option<PathBuf>,
    /// The most events one submission may carry.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_events: usize,
    /// The largest submission body, in bytes (texts included).
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    pub max_body: usize,
    /// Requests per second, on average, across all clients; beyond, 429.
    #[arg(long, value_name = "PER_SECOND", default_value_t = 50.0)]
    pub rate: f64,
    /// Requests allowed in a burst above --rate.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub burst: u32,
    /// A witness that cosigns the log's checkpoint: its URL (submission prefix) and its
    /// cosigner key, URL=VKEY; repeatable. The sequencer then does what `sijil cosign` does,
    /// which cannot run beside it (both need the writer's lock): at start and every
    /// --cosign-every, it submits the checkpoint to each witness (outside its batches), then,
    /// between two batches, adds their cosignatures to DIR/checkpoint if the log has not grown
    /// meanwhile (otherwise it asks again for the new checkpoint).
    #[arg(long = "witness", value_name = "URL=VKEY")]
    pub witness: Vec<String>,
    /// Time between two cosigning rounds with --witness: seconds, or a number with s, m, h
    /// or d.
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub cosign_every: String,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The register directory, or a postgres://… database (with --cache and --key).
    pub dir: PathBuf,
    /// For a postgres:// register: this machine's local copy of it, created or brought up
    /// to the database first (with --key), then read.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// For a postgres:// register: the log's verifier key (name+keyid+base64, or @FILE).
    #[arg(long, value_name = "VKEY")]
    pub key: Option<String>,
    /// Show this entry (leaf index).
    pub seq: Option<u64>,
    /// Show this case (its status and timeline).
    #[arg(long, value_name = "ID", conflicts_with = "seq")]
    pub case: Option<String>,
    /// In the list of cases, skip this many (latest opened first).
    #[arg(long, value_name = "N", default_value_t = 0, conflicts_with_all = ["seq", "case"])]
    pub offset: usize,
    /// In the list of cases, show at most this many (1 to 1000).
    #[arg(long, value_name = "N", default_value_t = 20, conflicts_with_all = ["seq", "case"])]
    pub limit: usize,
    /// The date "overdue" is judged on [default: today, UTC].
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct OfficersArgs {
    #[command(subcommand)]
    pub action: Option<OfficersAction>,
    /// The register: its directory, or an http(s) URL serving it (its tlog-tiles prefix,
    /// with --key).
    #[arg(required = true, value_name = "DIR|URL")]
    pub location: Option<String>,
    /// For a URL: the log's verifier key (name+keyid+base64), or @FILE to read it from a file.
    #[arg(long, value_name = "VKEY")]
    pub key: Option<String>,
    /// For a URL: where the last verified checkpoint of each origin is kept, as for `sijil
    /// verify` [default: $XDG_STATE_HOME/sijil, or ~/.local/state/sijil].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// For a URL: where to save fork evidence [default: the state directory].
    #[arg(long, value_name = "DIR")]
    pub evidence_dir: Option<PathBuf>,
    #[command(flatten)]
    pub witnesses: WitnessPolicyArgs,
    #[command(flatten)]
    pub net: NetArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum OfficersAction {
    /// Replace an officer's key: authorise the new key (same name and role) and revoke the
    /// current one, as one batch signed by an admin.
    ///
    /// Refused, with nothing written, if NAME has no current (unrevoked) key or has several.
    /// The new key is given as a private key file (`sijil keygen NAME --out NEW.key`; only
    /// its public half is read and recorded), a file holding the public key in hex, or the
    /// 64 hex digits themselves, so the officer can keep the private key on their machine.
    /// An admin cannot revoke the key that signs the batch: rotate an admin's key with
    /// another admin's key.
    ///
    /// Example: sijil officers rotate ./registre --key amina.key --officer karim --new-key
    /// karim-2026.key --reason "annual rotation"
    Rotate(RotateArgs),
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The register: a directory, or a postgres:// URL (with --private).
    pub dir: PathBuf,
    /// For a postgres:// register: this machine's local copy of it (see `sijil append`).
    #[arg(long, value_name = "DIR")]
    pub private: Option<PathBuf>,
    /// The signing admin's private key file (PRIVATE+KEY+…).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The officer whose key is replaced (their name as `sijil officers` lists it).
    #[arg(long, value_name = "NAME")]
    pub officer: String,
    /// The new key: a private key file, a file holding the public key in hex, or the 64 hex
    /// digits of the public key.
    #[arg(long, value_name = "FILE|HEX")]
    pub new_key: String,
    /// Why the old key is revoked (recorded in the log; never personal data).
    #[arg(long, value_name = "TEXT", default_value = "key rotated")]
    pub reason: String,
    /// The log's private key [default: DIR/private/log.key].
    #[arg(long, value_name = "FILE")]
    pub log_key: Option<PathBuf>,
    /// Check everything and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON instead of a sentence.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogKeyArgs {
    #[command(subcommand)]
    pub action: LogKeyAction,
}

#[derive(Debug, Subcommand)]
pub enum LogKeyAction {
    /// Rotate the log key inside the log (docs/FORMAT.md §3.1): one batch holding a
    /// LogKeyRotated entry signed by the current log key and naming the new one, then the
    /// batch's IndexCommitted and checkpoint signed by the new key, which signs everything
    /// after it. The old key is retired: nothing it signs past the rotation is accepted.
    ///
    /// The new key is generated unless --new-key gives one (a private key named by the
    /// origin: `sijil keygen ORIGIN --out FILE`). It is written to DIR/private/log.key.next
    /// before the batch and replaces DIR/private/log.key once the batch is committed; a
    /// crash at any instant leaves a register that reopens at its last committed state and
    /// signs with the key the log names. Stop `sijil serve` and `sijil sequencer` on DIR
    /// first (one writer at a time). Verifiers holding the old key follow the rotation
    /// (`sijil verify URL --key OLD` says so); give witnesses and monitors the new verifier
    /// key printed here (docs/OPERATIONS.md, "Rotating the log key").
    ///
    /// Example: sijil log-key rotate ./registre --reason "annual rotation"
    Rotate(LogKeyRotateArgs),
}

#[derive(Debug, Args)]
pub struct LogKeyRotateArgs {
    /// The register directory, or a postgres://… database (with --private).
    pub dir: PathBuf,
    /// For a postgres:// register: this machine's local copy of it (see `sijil append`);
    /// the other writers' copies need the new key afterwards.
    #[arg(long, value_name = "DIR")]
    pub private: Option<PathBuf>,
    /// The new log key, a private key file named by the origin [default: a new key].
    #[arg(long, value_name = "FILE")]
    pub new_key: Option<PathBuf>,
    /// Why the key is rotated (recorded in the log; never personal data).
    #[arg(long, value_name = "TEXT", default_value = "scheduled rotation")]
    pub reason: String,
    /// Print JSON instead of a sentence.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// The register directory, or a postgres://… database (with --cache and --key).
    pub dir: PathBuf,
    /// For a postgres:// register: this machine's local copy of it, created or brought up
    /// to the database first (with --key), then read.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// For a postgres:// register: the log's verifier key (name+keyid+base64, or @FILE).
    #[arg(long, value_name = "VKEY")]
    pub key: Option<String>,
    /// The date "overdue" is judged on [default: today, UTC].
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The register: an http(s) URL (its tlog-tiles prefix) or a directory; or a receipt
    /// file saved by `sijil submit`, checked offline (its checkpoint's signature, each
    /// entry's signature and inclusion).
    #[arg(value_name = "URL|DIR|RECEIPT")]
    pub target: String,
    /// The log's verifier key (name+keyid+base64), or @FILE to read it from a file.
    #[arg(long, value_name = "VKEY")]
    pub key: String,
    /// Where the last verified checkpoint of each origin is kept [default:
    /// $XDG_STATE_HOME/sijil, or ~/.local/state/sijil].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// How many entries' inclusion to check (entry 0, the last one, then random other ones,
    /// all different; every entry when the register has fewer).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub spot_checks: usize,
    /// Also prove one case whole and current: every entry of case ID and nothing else, as of
    /// the checkpoint just verified (the log key's IndexCommitted and its trie proof,
    /// docs/FORMAT.md §10), each entry signed by an officer authorized at that entry. Prints
    /// the case as verified. Exit 1 if an entry is missing, added or altered, the answer is
    /// stale, a signer was not authorized, or the case does not exist.
    #[arg(long, value_name = "ID")]
    pub case: Option<String>,
    /// For a directory, skip the full audit that follows the checks above.
    ///
    /// A local register is cheap to read, so by default `verify DIR` also checks every
    /// entry's signature, the hash chain, every tile, the rules and every blob (as `audit`
    /// does). Over HTTP, `verify` spot-checks; run `audit URL` for everything.
    #[arg(long)]
    pub quick: bool,
    /// Where to save fork evidence [default: the state directory].
    #[arg(long, value_name = "DIR")]
    pub evidence_dir: Option<PathBuf>,
    #[command(flatten)]
    pub witnesses: WitnessPolicyArgs,
    #[command(flatten)]
    pub net: NetArgs,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Witness cosignatures a checkpoint must carry.
#[derive(Debug, Args)]
pub struct WitnessPolicyArgs {
    /// A trusted witness's cosigner key (name+keyid+base64 of type 0x04, or @FILE);
    /// repeatable.
    #[arg(long = "witness", value_name = "VKEY")]
    pub witness: Vec<String>,
    /// How many of the --witness keys must have cosigned the checkpoint [default: all].
    #[arg(long, value_name = "N", requires = "witness")]
    pub quorum: Option<usize>,
}

/// How to fetch over HTTP.
#[derive(Debug, Args)]
pub struct NetArgs {
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 24)]
    pub concurrency: usize,
    /// Retries of a failed request (connection error, timeout, 5xx, cut body), with
    /// exponential backoff.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub retries: u32,
    /// Seconds a request may take before it counts as stalled and is retried.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub timeout: f64,
    /// At most this many requests per second [default: no cap].
    #[arg(long, value_name = "PER_SECOND")]
    pub rate: Option<f64>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The register: an http(s) URL (its tlog-tiles prefix) or a directory.
    #[arg(value_name = "URL|DIR")]
    pub target: String,
    /// The log's verifier key (name+keyid+base64), or @FILE to read it from a file.
    #[arg(long, value_name = "VKEY")]
    pub key: String,
    #[command(flatten)]
    pub witnesses: WitnessPolicyArgs,
    #[command(flatten)]
    pub net: NetArgs,
    /// The date "overdue" is judged on in the summary [default: today, UTC].
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MirrorArgs {
    /// The origin: an http(s) URL (its tlog-tiles prefix) or a directory.
    #[arg(value_name = "URL")]
    pub source: String,
    /// The mirror directory (created if missing).
    pub dir: PathBuf,
    /// The log's verifier key (name+keyid+base64), or @FILE to read it from a file.
    #[arg(long, value_name = "VKEY")]
    pub key: String,
    #[command(flatten)]
    pub witnesses: WitnessPolicyArgs,
    #[command(flatten)]
    pub net: NetArgs,
    /// Where to save fork evidence [default: DIR/private/evidence].
    #[arg(long, value_name = "DIR")]
    pub evidence_dir: Option<PathBuf>,
    /// Entry bundles (256 entries each) fetched, checked and stored per step; each step's
    /// files are kept if a run is interrupted.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub bundles_per_step: usize,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The register directory (or a mirror of one), or a postgres://… database (with
    /// --private: the copy is first brought up to the database, then published).
    pub dir: PathBuf,
    /// For a postgres:// register: this machine's local copy of it (see `sijil append`).
    #[arg(long, value_name = "DIR")]
    pub private: Option<PathBuf>,
    /// Where to publish: a directory (created if missing), or s3://BUCKET[/PREFIX]
    /// [default: the destination DIR remembers, `sijil init --publish` or --remember].
    pub dest: Option<String>,
    /// After publishing, remember DEST: every command that commits to DIR then checks it
    /// before signing and publishes to it after its commit.
    #[arg(long, requires = "dest")]
    pub remember: bool,
    /// Forget the remembered destination (nothing is published or deleted there).
    #[arg(long, conflicts_with_all = ["dest", "remember", "verify_existing", "incremental", "key", "json"])]
    pub forget: bool,
    /// The log's verifier key (name+keyid+base64), or @FILE [default: the key the register's
    /// genesis entry names, followed through its rotations].
    #[arg(long, value_name = "VKEY")]
    pub key: Option<String>,
    /// Read back every object already published and compare it byte for byte, instead of
    /// trusting the sizes the destination lists for what an earlier run published.
    #[arg(long)]
    pub verify_existing: bool,
    /// Check only what is new since the destination's checkpoint (the tiles and texts of the
    /// entries after it, the texts they erase), without listing the destination: a run
    /// after each append then costs what the append added. Objects published before are not
    /// looked at (a run without it, or --verify-existing, checks them).
    #[arg(long, conflicts_with = "verify_existing")]
    pub incremental: bool,
    /// Objects written at once.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub concurrency: usize,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The register to copy: a directory or a postgres://… database.
    pub from: String,
    /// Where to copy it: a new directory, or an empty postgres://… database.
    pub to: String,
    /// The log's private key, for a migration out of a database.
    #[arg(long, value_name = "FILE")]
    pub log_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CosignArgs {
    /// The register directory (with its private/log.key).
    pub dir: PathBuf,
    /// A witness: its URL (submission prefix) and its cosigner key, URL=VKEY; repeatable.
    #[arg(long = "witness", value_name = "URL=VKEY", required = true)]
    pub witness: Vec<String>,
    #[command(flatten)]
    pub net: NetArgs,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct WitnessArgs {
    /// The witness's private cosigner key file (from `sijil keygen NAME --cosigner`).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// A log to witness: its verifier key (whose name is its origin), or @FILE; repeatable.
    #[arg(long = "log", value_name = "VKEY", required = true)]
    pub log: Vec<String>,
    /// The address and port to listen on; port 0 picks a free one (printed on stderr).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7380")]
    pub listen: std::net::SocketAddr,
    /// The directory of the witness's state (created if missing; one witness at a time).
    #[arg(long, value_name = "DIR")]
    pub state: PathBuf,
}

#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// The register: an http(s) URL (its tlog-tiles prefix) or a directory.
    #[arg(value_name = "URL|DIR")]
    pub target: String,
    /// The log's verifier key (name+keyid+base64), or @FILE to read it from a file.
    #[arg(long, value_name = "VKEY")]
    pub key: String,
    /// The file that keeps the last checkpoint verified, across rounds and restarts
    /// [default: the state directory of `sijil verify`, shared with it].
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Time between the starts of two rounds: seconds, or a number with s, m, h or d.
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub interval: String,
    /// Run one round and exit with its result.
    #[arg(long)]
    pub once: bool,
    /// Stale if the log's newest entry and its newest verified witness cosignature are both
    /// older than this (seconds, or a number with s, m, h or d) [default: not checked].
    #[arg(long, value_name = "DURATION")]
    pub max_age: Option<String>,
    /// How many entries' inclusion to check each round (entry 0, the last one, then random
    /// others).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub spot: usize,
    /// On a failure, report it (stderr, and the JSON line) and go on with the next round
    /// instead of exiting.
    #[arg(long)]
    pub keep_going: bool,
    /// Where to save fork evidence [default: the state file's directory].
    #[arg(long, value_name = "DIR")]
    pub evidence_dir: Option<PathBuf>,
    #[command(flatten)]
    pub witnesses: WitnessPolicyArgs,
    #[command(flatten)]
    pub net: NetArgs,
    /// Print one JSON object per round on standard output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EvidenceArgs {
    #[command(subcommand)]
    pub action: EvidenceAction,
}

#[derive(Debug, Subcommand)]
pub enum EvidenceAction {
    /// Re-check a fork evidence file with the log's key alone: both signatures, and that the
    /// two checkpoints cannot both be honest. Exit 0 if it proves a fork, 1 if it does not.
    ///
    /// Example: sijil evidence check fork-1a2b-1700000000000.json --key @plaintes.vkey
    Check(EvidenceCheckArgs),
}

#[derive(Debug, Args)]
pub struct EvidenceCheckArgs {
    /// The evidence file (docs/FORMAT.md, "Fork evidence").
    pub file: PathBuf,
    /// The log's verifier key (name+keyid+base64), or @FILE to read it from a file.
    #[arg(long, value_name = "VKEY")]
    pub key: String,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The register directory, or a postgres://… database or an s3://BUCKET/PREFIX
    /// publication (with --cache and --key): the server then keeps a verified local copy of
    /// it in --cache, following every new checkpoint, and serves that; any number of such
    /// replicas may run.
    pub dir: PathBuf,
    /// For a postgres:// register or an s3:// publication: the directory of this replica's
    /// local copy (created if missing; a cache: it may be deleted while the server is
    /// stopped).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// The address and port to listen on.
    ///
    /// An IP address and a port; port 0 picks a free one (the address is printed on stderr).
    /// Example: --listen 0.0.0.0:80 to serve every interface. The environment variable
    /// SIJIL_LISTEN gives it too (as in deploy/sijil.env and scripts/demo); the flag wins.
    #[arg(
        long,
        value_name = "ADDR",
        env = "SIJIL_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    pub listen: std::net::SocketAddr,
    /// The log's verifier key (name+keyid+base64, or @FILE) [default: the key the genesis
    /// entry names].
    ///
    /// With it, the server refuses a register whose checkpoint that key did not sign.
    #[arg(long, value_name = "VKEY")]
    pub key: Option<String>,
    /// Also serve Prometheus metrics (GET /metrics) on this address, never on --listen
    /// [default: no metrics].
    ///
    /// Requests by route class and status, their latency, the checkpoint's size and age,
    /// reads that failed verification (docs/OPERATIONS.md, "Metrics"). Keep it on a private
    /// address (127.0.0.1, or the monitoring network). An empty value means no metrics (an
    /// environment file may leave the variable empty).
    #[arg(long, value_name = "ADDR", env = "SIJIL_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("sijil").chain(args.iter().copied()))
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn init_requires_origin() {
        assert!(parse(&["init", "d"]).is_err());
        let cli = parse(&[
            "init",
            "d",
            "--origin",
            "reg.example/x",
            "--officer",
            "amina",
        ])
        .expect("valid");
        let Command::Init(a) = cli.command else {
            panic!("not init")
        };
        assert_eq!(
            (a.origin.as_str(), a.officer.as_str()),
            ("reg.example/x", "amina")
        );
    }

    #[test]
    fn append_flags() {
        let cli = parse(&["append", "d", "-", "--key", "k", "--expect-size", "12"]).expect("valid");
        let Command::Append(a) = cli.command else {
            panic!("not append")
        };
        assert_eq!(a.expect_size, Some(12));
        assert_eq!(a.events, PathBuf::from("-"));
        assert!(parse(&["append", "d", "-", "--key", "k", "--expect-size", "-1"]).is_err());
        assert!(parse(&["append", "d", "-"]).is_err(), "--key is required");
    }

    #[test]
    fn import_flags() {
        let cli =
            parse(&["import", "d", "c.csv", "e.csv", "--key", "k", "--dry-run"]).expect("valid");
        let Command::Import(a) = cli.command else {
            panic!("not import")
        };
        assert!(a.dry_run);
        assert_eq!(
            (a.cases, a.events),
            (PathBuf::from("c.csv"), PathBuf::from("e.csv"))
        );
        assert!(
            parse(&["import", "d", "c.csv", "--key", "k"]).is_err(),
            "two files"
        );
        assert!(
            parse(&["import", "d", "c.csv", "e.csv"]).is_err(),
            "--key is required"
        );
    }

    #[test]
    fn backup_and_restore_flags() {
        let cli = parse(&["backup", "d", "b"]).expect("valid");
        assert!(matches!(cli.command, Command::Backup(_)));
        let cli = parse(&[
            "restore",
            "b",
            "d",
            "--check",
            "https://m.example/",
            "--check",
            "m2",
            "--accept-fork",
            "40",
        ])
        .expect("valid");
        let Command::Restore(a) = cli.command else {
            panic!("not restore")
        };
        assert_eq!(a.check, ["https://m.example/", "m2"]);
        assert_eq!(a.accept_fork, Some(40));
        assert!(parse(&["restore", "b"]).is_err(), "DIR is required");
    }

    #[test]
    fn show_case_conflicts_with_seq() {
        assert!(parse(&["show", "d", "3", "--case", "x"]).is_err());
        assert!(parse(&["show", "d", "--case", "2023-0001", "--json"]).is_ok());
        assert!(parse(&["show", "d", "notanumber"]).is_err());
    }

    #[test]
    fn verify_needs_a_key() {
        assert!(parse(&["verify", "d"]).is_err());
        assert!(parse(&["verify", "d", "--key", "@vkey.txt"]).is_ok());
    }

    #[test]
    fn verify_takes_a_url_state_dir_witnesses_and_net_flags() {
        let cli = parse(&[
            "verify",
            "https://reg.example/x",
            "--key",
            "k",
            "--state-dir",
            "/tmp/s",
            "--witness",
            "w1",
            "--witness",
            "w2",
            "--quorum",
            "1",
            "--rate",
            "50",
            "--timeout",
            "2.5",
        ])
        .expect("valid");
        let Command::Verify(a) = cli.command else {
            panic!("not verify")
        };
        assert_eq!(a.target, "https://reg.example/x");
        assert_eq!(a.state_dir, Some(PathBuf::from("/tmp/s")));
        assert_eq!(a.witnesses.witness, ["w1", "w2"]);
        assert_eq!(a.witnesses.quorum, Some(1));
        assert_eq!(
            (a.net.rate, a.net.timeout, a.net.concurrency),
            (Some(50.0), 2.5, 24)
        );
        assert!(
            parse(&["verify", "d", "--key", "k", "--quorum", "1"]).is_err(),
            "--quorum needs --witness"
        );
    }

    #[test]
    fn audit_mirror_cosign_witness_evidence_flags() {
        assert!(parse(&["audit", "http://h/", "--key", "k", "--json"]).is_ok());
        assert!(parse(&["audit", "http://h/"]).is_err(), "--key is required");
        let cli =
            parse(&["mirror", "http://h/", "m", "--key", "k", "--retries", "2"]).expect("valid");
        let Command::Mirror(a) = cli.command else {
            panic!("not mirror")
        };
        assert_eq!(
            (a.source.as_str(), a.dir, a.net.retries),
            ("http://h/", PathBuf::from("m"), 2)
        );
        assert!(
            parse(&["mirror", "http://h/", "--key", "k"]).is_err(),
            "DIR is required"
        );
        assert!(parse(&["cosign", "d"]).is_err(), "--witness is required");
        assert!(parse(&["cosign", "d", "--witness", "http://w=k"]).is_ok());
        assert!(
            parse(&["witness", "--key", "w.key", "--state", "s"]).is_err(),
            "--log is required"
        );
        let cli = parse(&[
            "witness",
            "--key",
            "w.key",
            "--log",
            "a",
            "--log",
            "b",
            "--state",
            "s",
            "--listen",
            "127.0.0.1:0",
        ])
        .expect("valid");
        let Command::Witness(a) = cli.command else {
            panic!("not witness")
        };
        assert_eq!(a.log.len(), 2);
        assert!(parse(&["evidence", "check", "f.json", "--key", "k"]).is_ok());
        assert!(parse(&["evidence", "check", "f.json"]).is_err());
        assert!(parse(&["keygen", "w", "--out", "w.key", "--cosigner"]).is_ok());
    }

    #[test]
    fn serve_listen_and_key() {
        let cli = parse(&["serve", "d"]).expect("valid");
        let Command::Serve(a) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(a.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(a.key, None);
        let cli = parse(&["serve", "d", "--listen", "[::1]:0", "--key", "@k"]).expect("valid");
        let Command::Serve(a) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(a.listen.port(), 0);
        assert_eq!(a.key.as_deref(), Some("@k"));
        assert!(parse(&["serve", "d", "--listen", "localhost"]).is_err());
        assert!(parse(&["serve"]).is_err(), "DIR is required");
    }

    #[test]
    fn submit_and_sequencer_flags() {
        let cli = parse(&[
            "submit",
            "http://127.0.0.1:8081/",
            "e.jsonl",
            "--key",
            "k",
            "--dry-run",
            "--attempts",
            "3",
        ])
        .expect("valid");
        let Command::Submit(a) = cli.command else {
            panic!("not submit")
        };
        assert!(a.dry_run);
        assert_eq!((a.attempts, a.receipt, a.log), (3, None, None));
        assert!(
            parse(&["submit", "http://h/", "e.jsonl"]).is_err(),
            "--key is required"
        );
        let cli =
            parse(&["sequencer", "d", "--listen", "127.0.0.1:0", "--rate", "5"]).expect("valid");
        let Command::Sequencer(a) = cli.command else {
            panic!("not sequencer")
        };
        assert_eq!((a.listen.port(), a.rate, a.max_events), (0, 5.0, 1000));
        assert!(parse(&["sequencer"]).is_err(), "DIR is required");
    }

    #[test]
    fn monitor_flags() {
        let cli = parse(&[
            "monitor",
            "http://h/",
            "--key",
            "k",
            "--once",
            "--spot",
            "5",
            "--witness",
            "w",
            "--quorum",
            "1",
            "--max-age",
            "1d",
            "--state",
            "s.checkpoint",
            "--keep-going",
            "--json",
        ])
        .expect("valid");
        let Command::Monitor(a) = cli.command else {
            panic!("not monitor")
        };
        assert_eq!(
            (a.spot, a.once, a.interval.as_str(), a.max_age.as_deref()),
            (5, true, "60s", Some("1d"))
        );
        assert_eq!(a.state, Some(PathBuf::from("s.checkpoint")));
        assert_eq!(
            (a.witnesses.witness.len(), a.witnesses.quorum),
            (1, Some(1))
        );
        assert!(
            parse(&["monitor", "http://h/"]).is_err(),
            "--key is required"
        );
        let cli = parse(&["monitor", "http://h/", "--key", "k"]).expect("valid");
        let Command::Monitor(a) = cli.command else {
            panic!("not monitor")
        };
        assert_eq!(
            (a.spot, a.once, a.keep_going, a.state),
            (3, false, false, None)
        );
    }

    #[test]
    fn keygen_needs_out() {
        assert!(parse(&["keygen", "karim"]).is_err());
        assert!(parse(&["keygen", "karim", "--out", "k.key"]).is_ok());
    }
}
