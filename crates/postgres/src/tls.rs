//! TLS for every connection to PostgreSQL: rustls, with the `ring` provider the rest of the
//! tree (reqwest) already builds, and `tokio-postgres-rustls`'s connector.
//!
//! The URL's `sslmode` decides, as the `postgres` crate parses it (libpq's names; the crate
//! has no `verify-ca`/`verify-full` and refuses them):
//!
//! - `disable`: plain text, no TLS asked.
//! - `prefer` (the default): TLS if the server offers it; plain text if it does not, as before
//!   TLS was built in. If the server offers TLS but the handshake fails (a certificate not
//!   trusted, a host name it does not name), the connection is made again in plain text with
//!   a warning, as libpq's `prefer` does. A man in the middle can force plain text in this
//!   mode anyway (by answering "no TLS"): use `require` over any network that is not trusted.
//! - `require`: TLS or no connection; never plain text.
//!
//! Whenever TLS is used the server's certificate is verified, which is what libpq calls
//! `verify-full`: its chain must lead to one of the system's roots (rustls-native-certs: on
//! Debian, `/etc/ssl/certs`; `SSL_CERT_FILE` and `SSL_CERT_DIR` override) or to a certificate
//! of the PEM file that `PGSSLROOTCERT` names (libpq's variable; the `postgres` crate refuses
//! libpq's `sslrootcert` URL parameter as unknown), and it must name the host the URL gives
//! (a DNS name, or an IP address in an IP subject alternative name). There is no way to turn
//! verification off: libpq's unverified `require` is a man-in-the-middle's gift.

use std::convert::Infallible;
use std::error::Error as _;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use postgres::config::SslMode;
use postgres::tls::{MakeTlsConnect, TlsConnect};
use postgres::{Client, Config, NoTls, Socket};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use rustls::{CertificateError, ClientConfig, ConfigBuilder, RootCertStore, WantsVerifier};
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's environment variable naming a PEM file of CAs to trust beyond the system's roots.
/// `system` (libpq 16's value for "the system's roots") adds none.
pub const ROOT_CERT_ENV: &str = "PGSSLROOTCERT";

/// How a [`crate::PgRegister`] opens its connections: the TLS configuration is built once
/// and reused on every reconnection.
#[derive(Clone)]
pub(crate) struct Connector {
    /// `None` for `sslmode=disable`.
    tls: Option<LazyTls>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// The TLS configuration, finished on the first handshake: reading and parsing the system's
/// roots (`/etc/ssl/certs`, a file and a directory of about 140 certificates each on Debian)
/// took tens of milliseconds of a one-event `sijil append`, for servers that mostly offer no
/// TLS at all (a Unix socket, a loopback server). The server's answer to the client's
/// `SSLRequest` comes first; only a "yes" builds the configuration.
#[derive(Clone)]
struct LazyTls(Arc<LazyConfig>);

struct LazyConfig {
    /// The provider and protocol versions, checked when the connector is made.
    builder: ConfigBuilder<ClientConfig, WantsVerifier>,
    /// The certificates of `PGSSLROOTCERT`, read when the connector is made so that a bad
    /// file is reported whatever the server offers.
    extra_roots: Vec<CertificateDer<'static>>,
    made: OnceLock<MakeRustlsConnect>,
}

impl LazyTls {
    /// The finished configuration, the system's roots read on the first call.
    fn made(&self) -> MakeRustlsConnect {
        let lazy = &self.0;
        lazy.made
            .get_or_init(|| {
                let mut roots = RootCertStore::empty();
                let native = rustls_native_certs::load_native_certs();
                // Unreadable system certificates are not fatal: a private CA in PGSSLROOTCERT
                // may be all a deployment needs, and a server not trusted fails its handshake
                // clearly.
                for e in &native.errors {
                    tracing::debug!(error = %e, "loading the system's root certificates");
                }
                roots.add_parsable_certificates(native.certs);
                // Checked when the connector was made (`Connector::new`).
                roots.add_parsable_certificates(lazy.extra_roots.iter().cloned());
                MakeRustlsConnect::new(
                    lazy.builder
                        .clone()
                        .with_root_certificates(roots)
                        .with_no_client_auth(),
                )
            })
            .clone()
    }

    /// Whether a handshake has needed the configuration yet.
    #[cfg(test)]
    fn is_made(&self) -> bool {
        self.0.made.get().is_some()
    }
}

/// `tokio-postgres-rustls`'s types, named through its traits (its structs are private).
type RustlsConnect = <MakeRustlsConnect as MakeTlsConnect<Socket>>::TlsConnect;

impl MakeTlsConnect<Socket> for LazyTls {
    type Stream = <MakeRustlsConnect as MakeTlsConnect<Socket>>::Stream;
    type TlsConnect = LazyConnect;
    type Error = Infallible;

    fn make_tls_connect(&mut self, domain: &str) -> Result<LazyConnect, Infallible> {
        Ok(LazyConnect {
            tls: self.clone(),
            domain: domain.to_owned(),
        })
    }
}

/// A handshake to come with the server named `domain`, if the server accepts TLS.
pub(crate) struct LazyConnect {
    tls: LazyTls,
    domain: String,
}

impl TlsConnect<Socket> for LazyConnect {
    type Stream = <RustlsConnect as TlsConnect<Socket>>::Stream;
    type Error = <RustlsConnect as TlsConnect<Socket>>::Error;
    type Future = <RustlsConnect as TlsConnect<Socket>>::Future;

    fn connect(self, stream: Socket) -> Self::Future {
        let Ok(connect) =
            MakeTlsConnect::<Socket>::make_tls_connect(&mut self.tls.made(), &self.domain);
        connect.connect(stream)
    }
}

impl Connector {
    /// The connector for `config`'s `sslmode`, trusting the system's roots and the
    /// certificates of `root_cert` (a PEM file) if given.
    ///
    /// # Errors
    /// A message if `root_cert` cannot be read or holds no certificate.
    pub(crate) fn new(config: &Config, root_cert: Option<&Path>) -> Result<Connector, String> {
        if config.get_ssl_mode() == SslMode::Disable {
            return Ok(Connector { tls: None });
        }
        let mut extra_roots = Vec::new();
        if let Some(path) = root_cert.filter(|p| *p != Path::new("system")) {
            let shown = path.display();
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("{ROOT_CERT_ENV}={shown}: {e}"))?;
            if certs.is_empty() {
                return Err(format!(
                    "{ROOT_CERT_ENV}={shown}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it"
                ));
            }
            // Each is checked as a trust anchor now, so that the handshake's store takes them all.
            for cert in &certs {
                RootCertStore::empty()
                    .add(cert.clone())
                    .map_err(|e| format!("{ROOT_CERT_ENV}={shown}: {e}"))?;
            }
            extra_roots = certs;
        }
        // The provider is named, not taken from the process default: no panic when none or
        // two are installed, and no second provider compiled in.
        let builder =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS configuration: {e}"))?;
        Ok(Connector {
            tls: Some(LazyTls(Arc::new(LazyConfig {
                builder,
                extra_roots,
                made: OnceLock::new(),
            }))),
        })
    }

    /// Whether a connection has built the TLS configuration (read the system's roots).
    #[cfg(test)]
    pub(crate) fn tls_made(&self) -> bool {
        self.tls.as_ref().is_some_and(LazyTls::is_made)
    }

    /// A new connection as `config` asks (see the module's documentation for `sslmode`).
    ///
    /// # Errors
    /// The client's error, for the last host tried.
    pub(crate) fn connect(&self, config: &Config) -> Result<Client, postgres::Error> {
        let Some(tls) = &self.tls else {
            return config.connect(NoTls);
        };
        match config.connect(tls.clone()) {
            Err(e) if config.get_ssl_mode() == SslMode::Prefer && tls_failure(&e).is_some() => {
                // libpq's `prefer`: a failed TLS attempt is followed by one without. With
                // NoTls and `prefer` the client does not even ask the server for TLS.
                tracing::warn!(
                    cause = %e.source().map_or_else(|| e.to_string(), ToString::to_string),
                    "TLS to PostgreSQL failed with sslmode=prefer: connecting in plain text \
                     (set sslmode=require to refuse plain text)"
                );
                config.connect(NoTls)
            }
            other => other,
        }
    }
}

/// The TLS error under a connection error, if the TLS handshake is what failed.
fn tls_failure(e: &postgres::Error) -> Option<&rustls::Error> {
    // tokio-rustls wraps rustls's error in an io::Error, whose own `source()` skips it.
    e.source()?
        .downcast_ref::<std::io::Error>()?
        .get_ref()?
        .downcast_ref::<rustls::Error>()
}

/// What to do about a connection error, when it is a certificate refused.
pub(crate) fn hint(e: &postgres::Error) -> Option<&'static str> {
    match tls_failure(e)? {
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => Some(
            "the server's certificate does not name the host the URL connects to: \
             connect by a name (or IP address) the certificate holds",
        ),
        rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer | CertificateError::BadSignature,
        ) => Some(
            "the server's certificate is not signed by a trusted CA: name the CA's PEM file \
             in PGSSLROOTCERT, or add it to the system's roots",
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpListener;
    use std::str::FromStr as _;

    use super::*;

    /// A one-connection server that reads the client's `SSLRequest` (8 bytes), answers
    /// `answer` (`b'N'`: no TLS, `b'S'`: TLS) and hangs up.
    fn answering(answer: u8) -> (Config, std::thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().expect("accept");
            let mut request = [0u8; 8];
            s.read_exact(&mut request).expect("SSLRequest");
            assert_eq!(request, [0, 0, 0, 8, 4, 210, 22, 47], "not an SSLRequest");
            s.write_all(&[answer]).expect("answer");
        });
        let config = Config::from_str(&format!(
            "postgres://u@127.0.0.1:{port}/d?sslmode=prefer&connect_timeout=10"
        ))
        .expect("config");
        (config, server)
    }

    #[test]
    fn the_system_roots_are_read_only_when_a_server_accepts_tls() {
        let (config, server) = answering(b'N');
        let connector = Connector::new(&config, None).expect("connector");
        assert!(!connector.tls_made());
        // The server hangs up after its "no": the connection fails, in plain text.
        assert!(connector.connect(&config).is_err());
        server.join().expect("server");
        assert!(
            !connector.tls_made(),
            "a server without TLS made the client read the system's roots"
        );

        let (config, server) = answering(b'S');
        let connector = Connector::new(&config, None).expect("connector");
        // The handshake fails (the server hangs up), after the configuration was made.
        assert!(connector.connect(&config).is_err());
        server.join().expect("server");
        assert!(connector.tls_made());
    }
}
