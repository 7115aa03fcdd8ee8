//! Command-line flags: every subcommand and option, with a one-line `-h` and a `--help`
//! paragraph. Parsing turns them into a checked [`Command`]; nothing else reads `argv`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// sijil: a public register whose every entry is a signed event in an append-only,
/// verifiable, mirrorable transparency log (C2SP signed-note checkpoints and tlog-tiles).
///
/// Exit codes: 0 ok; 1 rejected or failed verification; 2 usage or I/O error; 3 a fork was
/// found and its evidence saved.
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
    /// nothing is written. Prints the seqs it committed and the new checkpoint. With
    /// --expect-size N the batch commits only if the log is still at size N, so re-running an
    /// append after a crash or a lost answer never records an event twice.
    ///
    /// Example: sijil append ./registre --key amina.key --expect-size 12 events.jsonl
    Append(AppendArgs),
    /// Show the register, one entry (SEQ), or one case (--case).
    ///
    /// Example: sijil show ./registre 7 --json
    Show(ShowArgs),
    /// Print the register's statistics (cases by status, category, year; sanctions; overdue).
    Stats(StatsArgs),
    /// Verify a register: its checkpoint, every entry's signature, the hash chain, the tree
    /// and the register's rules.
    ///
    /// Example: sijil verify ./registre --key 'registre.example.ma/plaintes+1a2b3c4d+AQ…'
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
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to create (must not exist, or be empty).
    pub dir: PathBuf,
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
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The key's name (an officer's name or a witness's); no spaces or '+'.
    pub name: String,
    /// Where to write the private key (mode 0600). It must not exist.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct AppendArgs {
    /// The register directory.
    pub dir: PathBuf,
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
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The register directory.
    pub dir: PathBuf,
    /// Show this entry (leaf index).
    pub seq: Option<u64>,
    /// Show this case (its status and timeline).
    #[arg(long, value_name = "ID", conflicts_with = "seq")]
    pub case: Option<String>,
    /// The date "overdue" is judged on [default: today, UTC].
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// The register directory.
    pub dir: PathBuf,
    /// The date "overdue" is judged on [default: today, UTC].
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The register directory.
    pub dir: PathBuf,
    /// The log's verifier key (name+keyid+base64), or @FILE to read it from a file.
    #[arg(long, value_name = "VKEY")]
    pub key: String,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The register directory.
    pub dir: PathBuf,
    /// The address and port to listen on [default: 127.0.0.1:8080].
    ///
    /// An IP address and a port; port 0 picks a free one (the address is printed on stderr).
    /// Example: --listen 0.0.0.0:80 to serve every interface.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// The log's verifier key (name+keyid+base64, or @FILE) [default: the key the genesis
    /// entry names].
    ///
    /// With it, the server refuses a register whose checkpoint that key did not sign.
    #[arg(long, value_name = "VKEY")]
    pub key: Option<String>,
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
    fn keygen_needs_out() {
        assert!(parse(&["keygen", "karim"]).is_err());
        assert!(parse(&["keygen", "karim", "--out", "k.key"]).is_ok());
    }
}
