//! Throwaway PostgreSQL clusters for the tests and benchmarks (issue 14: "a real PostgreSQL
//! cluster in a temporary directory, started and stopped by the test harness").
//!
//! A [`Cluster`] is `initdb` + `postgres` on a free loopback port, its socket and log in the
//! directory given, with `fsync` on: commits are as durable as in production. A synchronous
//! streaming standby ([`Cluster::standby_of`]) and SIGKILL ([`Cluster::kill`]) make the
//! failover and crash tests. The binaries are Debian's (`/usr/lib/postgresql/*/bin`, package
//! `postgresql`); run as root, the server runs as the `postgres` user, which owns the
//! directory.

use std::fs::File;
use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The database the clusters create, which [`Cluster::url`] names.
pub const DATABASE: &str = "sijil";

/// How long a server may take to start, promote or reach synchronous streaming.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a cluster could not be started or driven.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// No PostgreSQL server binaries on this machine.
    #[error("no PostgreSQL binaries: no initdb under /usr/lib/postgresql/*/bin, or in SIJIL_PG_BIN if set (install Debian's postgresql package)")]
    NoBinaries,
    /// A file or directory could not be set up.
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    /// A command failed; `log` is the end of its output or of the server's log.
    #[error("{command} failed: {message}\n{log}")]
    Command {
        command: String,
        message: String,
        log: String,
    },
    /// The server did not get ready in time.
    #[error("{what} did not happen within {seconds} s; server log ({log_path}):\n{log}")]
    Timeout {
        what: String,
        seconds: u64,
        log_path: PathBuf,
        log: String,
    },
    /// A statement on the cluster failed.
    #[error("on the cluster at port {port}: {message}")]
    Sql { port: u16, message: String },
}

/// A PostgreSQL server on loopback, stopped (fast shutdown) when dropped.
#[derive(Debug)]
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    /// `Some` when run as root: the server runs as `postgres`.
    run_as: Option<String>,
    /// Settings beyond the common ones (a standby's `primary_conninfo`).
    extra: Vec<String>,
    child: Option<Child>,
}

impl Cluster {
    /// The directory of PostgreSQL's binaries: `SIJIL_PG_BIN` if set (other systems than
    /// Debian), else the newest version's under `/usr/lib/postgresql`. `None` if it holds
    /// no `initdb`.
    pub fn binaries() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("SIJIL_PG_BIN") {
            let dir = PathBuf::from(dir);
            return dir.join("initdb").is_file().then_some(dir);
        }
        let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .filter_map(|e| {
                let version = e.file_name().to_str()?.parse::<u32>().ok()?;
                let bin = e.path().join("bin");
                bin.join("initdb").is_file().then_some((version, bin))
            })
            .collect();
        found.sort();
        found.pop().map(|(_, bin)| bin)
    }

    /// Creates and starts a cluster in `dir` (which must be empty or absent) with the
    /// database [`DATABASE`].
    ///
    /// # Errors
    /// [`ClusterError::NoBinaries`] where PostgreSQL is not installed; the others when it
    /// cannot be set up or started.
    pub fn start(dir: &Path) -> Result<Cluster, ClusterError> {
        Cluster::start_with_tls(dir, None)
    }

    /// [`Cluster::start`], with TLS on (`ssl=on`) when `tls` gives the server's certificate
    /// chain and private key (PEM): written into `dir`, readable by the server's user only, as
    /// PostgreSQL requires of the key. Plain-text connections are still accepted
    /// (`pg_hba.conf` says `host`, not `hostssl`): the client's `sslmode` decides.
    ///
    /// # Errors
    /// As [`Cluster::start`].
    pub fn start_with_tls(dir: &Path, tls: Option<(&str, &str)>) -> Result<Cluster, ClusterError> {
        let bin = Cluster::binaries().ok_or(ClusterError::NoBinaries)?;
        let run_as = prepare_dir(dir)?;
        let mut cluster = Cluster {
            dir: dir.to_owned(),
            bin,
            port: 0,
            run_as,
            extra: Vec::new(),
            child: None,
        };
        let data = cluster.data();
        // --no-sync: initdb's own final sync only; the server runs with fsync on.
        cluster.run(
            "initdb",
            &[
                "-D",
                path_str(&data)?,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        if let Some((cert, key)) = tls {
            let cert_path = cluster.private_file("server.crt", cert)?;
            let key_path = cluster.private_file("server.key", key)?;
            cluster.extra = vec![
                "-c".into(),
                "ssl=on".into(),
                "-c".into(),
                format!("ssl_cert_file={}", path_str(&cert_path)?),
                "-c".into(),
                format!("ssl_key_file={}", path_str(&key_path)?),
            ];
        }
        cluster.launch()?;
        cluster.sql("postgres", &format!("CREATE DATABASE {DATABASE}"))?;
        Ok(cluster)
    }

    /// A synchronous streaming standby of `primary` in `dir`: a base backup (`pg_basebackup
    /// -R`, with a replication slot), started, then named in the primary's
    /// `synchronous_standby_names`; returns once the primary reports it `sync` and
    /// `streaming`, so that every commit acknowledged from then on is flushed on both.
    ///
    /// # Errors
    /// As [`Cluster::start`], and [`ClusterError::Timeout`] if it never streams.
    pub fn standby_of(primary: &Cluster, dir: &Path) -> Result<Cluster, ClusterError> {
        let run_as = prepare_dir(dir)?;
        let mut standby = Cluster {
            dir: dir.to_owned(),
            bin: primary.bin.clone(),
            port: 0,
            run_as,
            extra: Vec::new(),
            child: None,
        };
        let name = format!("sijil_standby_{}", primary.port);
        let data = standby.data();
        standby.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &primary.port.to_string(),
                "-U",
                "postgres",
                "-D",
                path_str(&data)?,
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "-C",
                "-S",
                &name,
                "--no-sync",
            ],
        )?;
        // The application_name is what synchronous_standby_names matches.
        standby.extra = vec![
            "-c".into(),
            format!(
                "primary_conninfo=host=127.0.0.1 port={} user=postgres application_name={name}",
                primary.port
            ),
        ];
        standby.launch()?;
        primary.sql(
            "postgres",
            &format!("ALTER SYSTEM SET synchronous_standby_names = '\"{name}\"'"),
        )?;
        primary.sql("postgres", "SELECT pg_reload_conf()")?;
        primary.wait_for(&format!("standby {name} streaming synchronously"), |c| {
            Ok(c.query_opt(
                "SELECT 1 FROM pg_stat_replication \
                     WHERE application_name = $1 AND state = 'streaming' AND sync_state = 'sync'",
                &[&name],
            )?
            .is_some())
        })?;
        Ok(standby)
    }

    /// `postgres://postgres@127.0.0.1:PORT/sijil`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{DATABASE}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A new connection to [`DATABASE`], for tests that look below the API.
    ///
    /// # Errors
    /// [`ClusterError::Sql`].
    pub fn client(&self) -> Result<postgres::Client, ClusterError> {
        self.connect(DATABASE)
    }

    /// Promotes a standby to primary, returning once it accepts writes.
    ///
    /// # Errors
    /// [`ClusterError::Sql`] if the promotion fails or times out.
    pub fn promote(&self) -> Result<(), ClusterError> {
        let mut c = self.connect("postgres")?;
        let promoted: bool = c
            .query_one("SELECT pg_promote(true, 60)", &[])
            .map_err(|e| self.sql_error(&e))?
            .get(0);
        if !promoted {
            return Err(ClusterError::Sql {
                port: self.port,
                message: "pg_promote returned false (not promoted within 60 s)".into(),
            });
        }
        Ok(())
    }

    /// SIGKILLs the postmaster, as a crash would: no shutdown checkpoint, no goodbye to the
    /// standbys. Its backends exit when they notice.
    ///
    /// # Errors
    /// [`ClusterError::Io`] if the signal cannot be sent.
    pub fn kill(&mut self) -> Result<(), ClusterError> {
        if let Some(mut child) = self.child.take() {
            child.kill().map_err(|e| self.io_error(e))?;
            child.wait().map_err(|e| self.io_error(e))?;
        }
        Ok(())
    }

    /// Stops the server (fast shutdown: sessions are disconnected, committed work kept).
    ///
    /// # Errors
    /// [`ClusterError::Timeout`] if it does not stop within a minute.
    pub fn stop(&mut self) -> Result<(), ClusterError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        // SIGINT is PostgreSQL's fast shutdown; std can only send SIGKILL, so kill(1).
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if let Ok(Some(_)) = child.try_wait() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(self.timeout("fast shutdown"))
    }

    /// Stops and starts the server again on the same port: every connection is cut.
    ///
    /// # Errors
    /// As [`Cluster::stop`] and [`Cluster::start`].
    pub fn restart(&mut self) -> Result<(), ClusterError> {
        self.stop()?;
        self.launch()
    }

    /// Writes `contents` to `name` in the cluster's directory, mode 0600, owned by the
    /// server's user when run as root.
    fn private_file(&self, name: &str, contents: &str) -> Result<PathBuf, ClusterError> {
        use std::os::unix::fs::PermissionsExt as _;
        let path = self.dir.join(name);
        let io = |e: std::io::Error| ClusterError::Io {
            path: path.clone(),
            message: e.to_string(),
        };
        std::fs::write(&path, contents).map_err(io)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        if let Some(user) = &self.run_as {
            let uid = id(&["-u", user])?;
            let gid = id(&["-g", user])?;
            std::os::unix::fs::chown(&path, Some(uid), Some(gid)).map_err(io)?;
        }
        Ok(path)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }

    /// A command line for the binary `name`, as the `postgres` user when run as root.
    fn command(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        let mut cmd = match &self.run_as {
            Some(user) => {
                // setpriv execs (no fork, unlike runuser): the child is the server itself,
                // so kill() reaches the postmaster.
                let mut c = Command::new("setpriv");
                c.arg(format!("--reuid={user}"))
                    .arg(format!("--regid={user}"))
                    .arg("--init-groups")
                    .arg("--")
                    .arg(program);
                c
            }
            None => Command::new(program),
        };
        cmd.current_dir(&self.dir).env_remove("PGDATA");
        cmd
    }

    fn run(&self, name: &str, args: &[&str]) -> Result<(), ClusterError> {
        let out = self
            .command(name)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| ClusterError::Command {
                command: name.into(),
                message: e.to_string(),
                log: String::new(),
            })?;
        if out.status.success() {
            return Ok(());
        }
        Err(ClusterError::Command {
            command: format!("{name} {}", args.join(" ")),
            message: out.status.to_string(),
            log: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        })
    }

    /// Starts the postmaster and waits until it accepts connections. The first time, on a
    /// free port, tried again on another if the port was taken in between.
    fn launch(&mut self) -> Result<(), ClusterError> {
        if self.port != 0 {
            return self.launch_on_port();
        }
        let mut attempts = 0;
        loop {
            self.port = free_port().map_err(|e| self.io_error(e))?;
            match self.launch_on_port() {
                Err(ClusterError::Command { log, .. })
                    if attempts < 3 && log.contains("could not create any TCP/IP sockets") =>
                {
                    attempts += 1;
                }
                other => return other,
            }
        }
    }

    fn launch_on_port(&mut self) -> Result<(), ClusterError> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| ClusterError::Io {
                path: self.log_path(),
                message: e.to_string(),
            })?;
        let log2 = log.try_clone().map_err(|e| self.io_error(e))?;
        let data = self.data();
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(&data)
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-k")
            .arg(&self.dir)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=on",
                "-c",
                "synchronous_commit=on",
                "-c",
                "wal_level=replica",
                "-c",
                "max_wal_senders=8",
                "-c",
                "max_replication_slots=8",
                "-c",
                "max_connections=50",
            ])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| ClusterError::Command {
                command: "postgres".into(),
                message: e.to_string(),
                log: String::new(),
            })?;
        self.child = Some(child);
        self.wait_until_accepting()
    }

    /// Waits until the server accepts connections, failing at once if it exited (a port
    /// taken since [`free_port`] found it free, a bad setting) rather than after the timeout.
    fn wait_until_accepting(&mut self) -> Result<(), ClusterError> {
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if self.connect("postgres").is_ok() {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(ClusterError::Command {
                        command: format!("postgres on port {}", self.port),
                        message: format!("exited before accepting connections ({status})"),
                        log: tail(&self.log_path()),
                    });
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(self.timeout("the server accepting connections"))
    }

    /// Polls `ready` on a fresh connection until it says yes.
    fn wait_for(
        &self,
        what: &str,
        mut ready: impl FnMut(&mut postgres::Client) -> Result<bool, postgres::Error>,
    ) -> Result<(), ClusterError> {
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if let Ok(mut c) = self.connect("postgres") {
                if let Ok(true) = ready(&mut c) {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(self.timeout(what))
    }

    fn connect(&self, db: &str) -> Result<postgres::Client, ClusterError> {
        postgres::Config::new()
            .host("127.0.0.1")
            .port(self.port)
            .user("postgres")
            .dbname(db)
            .connect_timeout(Duration::from_secs(5))
            .connect(postgres::NoTls)
            .map_err(|e| self.sql_error(&e))
    }

    fn sql(&self, db: &str, statement: &str) -> Result<(), ClusterError> {
        self.connect(db)?
            .batch_execute(statement)
            .map_err(|e| self.sql_error(&e))
    }

    fn sql_error(&self, e: &postgres::Error) -> ClusterError {
        let cause = std::error::Error::source(e).map(ToString::to_string);
        ClusterError::Sql {
            port: self.port,
            message: match cause {
                Some(c) => format!("{e}: {c}"),
                None => e.to_string(),
            },
        }
    }

    fn io_error(&self, e: std::io::Error) -> ClusterError {
        ClusterError::Io {
            path: self.dir.clone(),
            message: e.to_string(),
        }
    }

    fn timeout(&self, what: &str) -> ClusterError {
        ClusterError::Timeout {
            what: what.into(),
            seconds: READY_TIMEOUT.as_secs(),
            log_path: self.log_path(),
            log: tail(&self.log_path()),
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!(
                "stopping the PostgreSQL cluster in {}: {e}",
                self.dir.display()
            );
        }
    }
}

/// Creates `dir`; when run as root, hands it to the `postgres` user (initdb and the server
/// refuse to run as root) and returns that user's name.
fn prepare_dir(dir: &Path) -> Result<Option<String>, ClusterError> {
    let io = |e: std::io::Error| ClusterError::Io {
        path: dir.to_owned(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    if id(&["-u"])? != 0 {
        return Ok(None);
    }
    let uid = id(&["-u", "postgres"])?;
    let gid = id(&["-g", "postgres"])?;
    std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(io)?;
    Ok(Some("postgres".into()))
}

/// `id ARGS` as a number: the process's uid, or a user's.
fn id(args: &[&str]) -> Result<u32, ClusterError> {
    let failed = |message: String| ClusterError::Command {
        command: format!("id {}", args.join(" ")),
        message,
        log: String::new(),
    };
    let out = Command::new("id")
        .args(args)
        .output()
        .map_err(|e| failed(e.to_string()))?;
    if !out.status.success() {
        return Err(failed(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|e| failed(format!("not a number: {e}")))
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn path_str(p: &Path) -> Result<&str, ClusterError> {
    p.to_str().ok_or_else(|| ClusterError::Io {
        path: p.to_owned(),
        message: "not UTF-8".into(),
    })
}

/// The last lines of a log, for error messages.
fn tail(path: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
