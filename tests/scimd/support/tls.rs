//! HTTPS for the tests: a certificate authority of the test's own (rcgen) that issues server
//! certificates, an HTTPS client that trusts it alone (reqwest, no redirects followed), and a
//! bare handshake (tokio-rustls) that reports the version and ALPN protocol negotiated and the
//! certificate served.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;

/// A CA that signs the server certificates of a test.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate: its chain (the certificate, then the CA's) and key as PEM.
pub struct Issued {
    pub chain_pem: String,
    pub key_pem: String,
    pub der: CertificateDer<'static>,
}

impl Issued {
    /// Writes the chain and the key to `cert` and `key`, each replaced at once (a rename), as
    /// a certificate manager renews them.
    pub fn write(&self, cert: &Path, key: &Path) {
        for (path, text) in [(cert, &self.chain_pem), (key, &self.key_pem)] {
            let part = path.with_extension("part");
            std::fs::write(&part, text).unwrap();
            std::fs::rename(&part, path).unwrap();
        }
    }
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        Self {
            issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names` (host names or IP addresses), named `common_name`.
    pub fn issue(&self, names: &[&str], common_name: &str) -> Issued {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Issued {
            chain_pem: format!("{}{}", cert.pem(), self.issuer.pem()),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
        }
    }

    /// An HTTPS client that trusts this CA only and follows no redirects.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(self.pem().as_bytes()).unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap()
    }

    /// A TLS handshake with the server at `address` as `localhost`, offering `versions` and
    /// ALPN `h2` and `http/1.1`, verified against this CA.
    pub async fn handshake(
        &self,
        address: SocketAddr,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> std::io::Result<Handshake> {
        handshake(address, &self.pem(), versions).await
    }
}

/// A TLS handshake with the server at `address` as `localhost`, offering `versions` and ALPN
/// `h2` and `http/1.1`, verified against the CA certificates of `roots_pem`.
pub async fn handshake(
    address: SocketAddr,
    roots_pem: &str,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> std::io::Result<Handshake> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(roots_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(versions)
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let stream = TcpStream::connect(address).await?;
    let tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), stream)
        .await?;
    let (_, session) = tls.get_ref();
    Ok(Handshake {
        version: session.protocol_version(),
        alpn: session.alpn_protocol().map(|p| p.to_vec()),
        served: session.peer_certificates().unwrap()[0].clone(),
    })
}

/// What a handshake settled.
#[derive(Debug)]
pub struct Handshake {
    pub version: Option<rustls::ProtocolVersion>,
    pub alpn: Option<Vec<u8>>,
    pub served: CertificateDer<'static>,
}

/// Sends a TLS 1.1 ClientHello that has everything else a TLS 1.2 server asks for (signature
/// algorithms, groups, ECDHE suites, SNI `localhost`) to `address`, and returns the server's
/// first record: a refusal is an alert record (`0x15`) with level and description.
pub async fn tls_1_1_hello(address: SocketAddr) -> std::io::Result<Vec<u8>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    fn with_len16(body: &[u8]) -> Vec<u8> {
        let mut out = (body.len() as u16).to_be_bytes().to_vec();
        out.extend_from_slice(body);
        out
    }
    fn extension(kind: u16, body: &[u8]) -> Vec<u8> {
        let mut out = kind.to_be_bytes().to_vec();
        out.extend(with_len16(body));
        out
    }
    let mut extensions = Vec::new();
    let mut name = vec![0u8];
    name.extend(with_len16(b"localhost"));
    extensions.extend(extension(0x0000, &with_len16(&name)));
    extensions.extend(extension(
        0x000d,
        &with_len16(&[0x04, 0x03, 0x08, 0x04, 0x04, 0x01]),
    ));
    extensions.extend(extension(0x000a, &with_len16(&[0x00, 0x1d, 0x00, 0x17])));
    extensions.extend(extension(0x000b, &[0x01, 0x00]));
    let mut hello = vec![0x03, 0x02]; // client_version: TLS 1.1
    hello.extend([0x5a; 32]); // random
    hello.push(0); // no session id
    hello.extend(with_len16(&[0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x13])); // ECDHE suites
    hello.extend([0x01, 0x00]); // null compression
    hello.extend(with_len16(&extensions));
    let mut handshake = vec![0x01, 0x00];
    handshake.extend(with_len16(&hello));
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend(with_len16(&handshake));
    let mut stream = TcpStream::connect(address).await?;
    stream.write_all(&record).await?;
    let mut answer = vec![0u8; 7];
    stream.read_exact(&mut answer).await?;
    Ok(answer)
}
