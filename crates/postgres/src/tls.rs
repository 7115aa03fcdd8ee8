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

use std::error::Error as _;
use std::path::Path;
use std::sync::Arc;

use postgres::config::SslMode;
use postgres::{Client, Config, NoTls};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use rustls::{CertificateError, ClientConfig, RootCertStore};
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's environment variable naming a PEM file of CAs to trust beyond the system's roots.
/// `system` (libpq 16's value for "the system's roots") adds none.
pub const ROOT_CERT_ENV: &str = "PGSSLROOTCERT";

/// How a [`crate::PgRegister`] opens its connections: the TLS configuration is built once
/// (the system's roots read once) and reused on every reconnection.
#[derive(Clone)]
pub(crate) struct Connector {
    /// `None` for `sslmode=disable`.
    tls: Option<MakeRustlsConnect>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("tls", &self.tls.is_some())
            .finish()
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
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        // Unreadable system certificates are not fatal: a private CA in PGSSLROOTCERT may be
        // all a deployment needs, and a server not trusted fails its handshake clearly.
        for e in &native.errors {
            tracing::debug!(error = %e, "loading the system's root certificates");
        }
        roots.add_parsable_certificates(native.certs);
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
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| format!("{ROOT_CERT_ENV}={shown}: {e}"))?;
            }
        }
        // The provider is named, not taken from the process default: no panic when none or
        // two are installed, and no second provider compiled in.
        let tls =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS configuration: {e}"))?
                .with_root_certificates(roots)
                .with_no_client_auth();
        Ok(Connector {
            tls: Some(MakeRustlsConnect::new(tls)),
        })
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
