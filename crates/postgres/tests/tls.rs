//! TLS to PostgreSQL on real clusters: a CA and a server certificate made here (rcgen), the
//! server started with `ssl=on`, and what `sslmode` does with and without the CA trusted
//! (crates/postgres/src/tls.rs).

mod common;

use std::path::{Path, PathBuf};

use common::{batch, cluster, cp, tls_cluster};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use sijil_core::commit::CommitPoint;
use sijil_postgres::cluster::Cluster;
use sijil_postgres::{PgError, PgRegister};

/// Never to be seen in a message: the clusters trust every local connection, so a password
/// in the URL is only there to be redacted.
const PASSWORD: &str = "hunter2-not-shown";

/// A CA (PEM) and a server certificate chain and key (PEM) it signed for `localhost` and
/// 127.0.0.1.
struct Pki {
    ca: String,
    server_cert: String,
    server_key: String,
}

fn make_pki() -> Pki {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "sijil test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca, ca_key);

    let server_key = KeyPair::generate().expect("server key");
    let mut server = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("server params");
    server
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server
        .signed_by(&server_key, &issuer)
        .expect("server certificate");
    Pki {
        ca: ca_cert.pem(),
        server_cert: server_cert.pem(),
        server_key: server_key.serialize_pem(),
    }
}

/// The CA's PEM in a file of `dir`, for `connect_with_root_cert` (what `PGSSLROOTCERT` names).
fn ca_file(dir: &Path, pki: &Pki) -> PathBuf {
    let path = dir.join("ca.pem");
    std::fs::write(&path, &pki.ca).expect("write the CA");
    path
}

/// A URL to `cluster` with a password and `params`; `application_name` tells its sessions
/// apart in `pg_stat_activity`.
fn url(cluster: &Cluster, app: &str, params: &str) -> String {
    format!(
        "postgres://postgres:{PASSWORD}@127.0.0.1:{}/sijil?application_name={app}{params}",
        cluster.port()
    )
}

/// Whether the sessions named `app` use TLS, as the server sees them (`pg_stat_ssl`).
fn ssl_of(cluster: &Cluster, app: &str) -> Vec<bool> {
    let mut c = cluster.client().expect("client");
    c.query(
        "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
         WHERE a.application_name = $1",
        &[&app],
    )
    .expect("pg_stat_ssl")
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// The connection error's message, checked to hold no password.
fn connect_error(result: Result<PgRegister, PgError>) -> String {
    let e = result.expect_err("the connection must fail");
    assert!(matches!(e, PgError::Connect { .. }), "{e:?}");
    let text = e.to_string();
    assert!(!text.contains(PASSWORD), "password shown: {text}");
    assert!(
        !format!("{e:?}").contains(PASSWORD),
        "password shown: {e:?}"
    );
    text
}

/// A temporary directory, a CA and its server certificate, and a cluster serving TLS with it
/// (`None` where PostgreSQL is absent and skipping is allowed).
fn tls_server() -> Option<(tempfile::TempDir, Pki, Cluster)> {
    let tmp = tempfile::tempdir().expect("tmp");
    let pki = make_pki();
    let cluster = tls_cluster(&tmp.path().join("pg"), (&pki.server_cert, &pki.server_key))?;
    Some((tmp, pki, cluster))
}

#[test]
fn require_with_the_ca_trusted_connects_over_tls_and_commits() {
    let Some((tmp, pki, cluster)) = tls_server() else {
        return;
    };
    let ca = ca_file(tmp.path(), &pki);
    let url = url(&cluster, "tls_require", "&sslmode=require");
    let mut r = PgRegister::connect_with_root_cert(&url, Some(&ca)).expect("connect over TLS");
    r.create_schema().expect("schema");
    let genesis = cp(1, "genesis");
    r.commit(&batch(0, 1, &genesis, &[], &[]))
        .expect("commit over TLS");
    assert_eq!(r.latest_with_size().expect("read"), Some((1, genesis)));
    assert_eq!(ssl_of(&cluster, "tls_require"), [true]);
    assert!(!r.describe().contains(PASSWORD), "{}", r.describe());
    assert!(!format!("{r:?}").contains(PASSWORD));
}

#[test]
fn require_without_the_ca_trusted_fails_naming_the_certificate_problem() {
    let Some((tmp, _pki, cluster)) = tls_server() else {
        return;
    };
    let url = url(&cluster, "tls_untrusted", "&sslmode=require");
    let text = connect_error(PgRegister::connect_with_root_cert(&url, None));
    assert!(text.contains("UnknownIssuer"), "{text}");
    assert!(text.contains("PGSSLROOTCERT"), "{text}");

    // Another CA trusted is no better.
    let other = make_pki();
    let wrong = ca_file(tmp.path(), &other);
    let text = connect_error(PgRegister::connect_with_root_cert(&url, Some(&wrong)));
    assert!(text.contains("certificate"), "{text}");
    assert!(ssl_of(&cluster, "tls_untrusted").is_empty());
}

#[test]
fn the_host_name_is_verified() {
    let Some((tmp, pki, cluster)) = tls_server() else {
        return;
    };
    let ca = ca_file(tmp.path(), &pki);
    // The right server, the right CA, but a name the certificate does not hold.
    let url = format!(
        "postgres://postgres:{PASSWORD}@db.invalid:{}/sijil?hostaddr=127.0.0.1&sslmode=require",
        cluster.port()
    );
    let text = connect_error(PgRegister::connect_with_root_cert(&url, Some(&ca)));
    assert!(
        text.contains("certificate not valid for name \"db.invalid\""),
        "{text}"
    );
    assert!(text.contains("does not name the host"), "{text}");
}

#[test]
fn require_against_a_server_without_tls_fails() {
    let tmp = tempfile::tempdir().expect("tmp");
    let pki = make_pki();
    let Some(cluster) = cluster(&tmp.path().join("pg")) else {
        return;
    };
    let ca = ca_file(tmp.path(), &pki);
    let url = url(&cluster, "plain_require", "&sslmode=require");
    let text = connect_error(PgRegister::connect_with_root_cert(&url, Some(&ca)));
    assert!(text.contains("server does not support TLS"), "{text}");
    assert!(ssl_of(&cluster, "plain_require").is_empty());
}

#[test]
fn prefer_and_the_default_use_tls_when_offered_and_connect_without_it_otherwise() {
    let tmp = tempfile::tempdir().expect("tmp");
    let pki = make_pki();
    let Some(plain) = cluster(&tmp.path().join("plain")) else {
        return;
    };
    let Some(tls) = tls_cluster(&tmp.path().join("tls"), (&pki.server_cert, &pki.server_key))
    else {
        return;
    };
    let ca = ca_file(tmp.path(), &pki);

    // A server without TLS: plain text, as before TLS was built in.
    let _a = PgRegister::connect_with_root_cert(&url(&plain, "p_default", ""), Some(&ca))
        .expect("default");
    let _b = PgRegister::connect_with_root_cert(&url(&plain, "p_prefer", "&sslmode=prefer"), None)
        .expect("prefer");
    assert_eq!(ssl_of(&plain, "p_default"), [false]);
    assert_eq!(ssl_of(&plain, "p_prefer"), [false]);

    // A server with TLS and its CA trusted: TLS.
    let _c = PgRegister::connect_with_root_cert(&url(&tls, "t_default", ""), Some(&ca))
        .expect("default");
    let _d =
        PgRegister::connect_with_root_cert(&url(&tls, "t_prefer", "&sslmode=prefer"), Some(&ca))
            .expect("prefer");
    assert_eq!(ssl_of(&tls, "t_default"), [true]);
    assert_eq!(ssl_of(&tls, "t_prefer"), [true]);

    // Its CA not trusted: libpq's prefer falls back to plain text (with a warning).
    let _e = PgRegister::connect_with_root_cert(&url(&tls, "t_untrusted", ""), None)
        .expect("default, CA not trusted");
    assert_eq!(ssl_of(&tls, "t_untrusted"), [false]);

    // disable: plain text even where TLS is offered.
    let _f =
        PgRegister::connect_with_root_cert(&url(&tls, "t_disable", "&sslmode=disable"), Some(&ca))
            .expect("disable");
    assert_eq!(ssl_of(&tls, "t_disable"), [false]);
}

#[test]
fn an_unreadable_root_cert_file_is_refused_before_connecting() {
    let tmp = tempfile::tempdir().expect("tmp");
    // No server: the file is read first.
    let url = format!("postgres://postgres:{PASSWORD}@127.0.0.1:1/sijil?sslmode=require");
    for path in [tmp.path().join("absent.pem"), {
        let p = tmp.path().join("empty.pem");
        std::fs::write(&p, "not a certificate\n").expect("write");
        p
    }] {
        let e = PgRegister::connect_with_root_cert(&url, Some(&path)).expect_err("refused");
        let text = e.to_string();
        assert!(matches!(e, PgError::BadUrl { .. }), "{e:?}");
        assert!(text.contains("PGSSLROOTCERT"), "{text}");
        assert!(!text.contains(PASSWORD), "{text}");
    }
}

/// Set in the child process of [`pgsslrootcert_names_the_ca_file`]: the URL to connect to.
const CHILD_URL: &str = "SIJIL_TLS_TEST_CHILD_URL";

/// `PgRegister::connect` (what the `sijil` commands call) trusts the CA file `PGSSLROOTCERT`
/// names. The environment is the process's, and the tests of this file run in threads of
/// one: the connection is made by a child process, this test binary run again for this test.
#[test]
fn pgsslrootcert_names_the_ca_file() {
    if let Some(url) = std::env::var_os(CHILD_URL) {
        let url = url.to_str().expect("UTF-8 URL");
        let r = PgRegister::connect(url).unwrap_or_else(|e| panic!("CHILD: {e}"));
        r.create_schema().expect("schema");
        return;
    }
    let Some((tmp, pki, cluster)) = tls_server() else {
        return;
    };
    let ca = ca_file(tmp.path(), &pki);
    let url = url(&cluster, "tls_env", "&sslmode=require");
    let child = |ca: Option<&Path>| {
        let mut c = std::process::Command::new(std::env::current_exe().expect("test binary"));
        c.args(["--exact", "pgsslrootcert_names_the_ca_file", "--nocapture"])
            .env(CHILD_URL, &url)
            .env_remove("PGSSLROOTCERT");
        if let Some(ca) = ca {
            c.env("PGSSLROOTCERT", ca);
        }
        let out = c.output().expect("run the child");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let (ok, text) = child(Some(&ca));
    assert!(ok, "with PGSSLROOTCERT: {text}");
    let (ok, text) = child(None);
    assert!(!ok, "without PGSSLROOTCERT: {text}");
    assert!(
        text.contains("CHILD: ") && text.contains("UnknownIssuer"),
        "{text}"
    );
    assert!(!text.contains(PASSWORD), "{text}");
}
