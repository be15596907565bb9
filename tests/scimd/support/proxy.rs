//! A TCP proxy in front of the PostgreSQL server, which a test can cut (every connection
//! through it dropped, new ones refused) and restore: the database going away and coming back
//! as scimd sees it, without touching the server other tests use.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::task::AbortHandle;

/// Where the proxy forwards to.
#[derive(Debug, Clone)]
enum Upstream {
    Tcp(String),
    Unix(PathBuf),
}

pub struct Proxy {
    pub address: SocketAddr,
    open: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl Proxy {
    /// A proxy to the server of `server_url` (a TCP address, or a socket directory in `host`).
    pub async fn to(server_url: &str) -> Self {
        let upstream = match server_url.split_once("?host=") {
            Some((_, dir)) => Upstream::Unix(PathBuf::from(dir).join(".s.PGSQL.5432")),
            None => {
                let authority = server_url
                    .split_once('@')
                    .map_or(server_url, |(_, rest)| rest);
                Upstream::Tcp(authority.split('/').next().unwrap_or(authority).to_owned())
            }
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let open = Arc::new(AtomicBool::new(true));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let accept = tokio::spawn(accept(
            listener,
            upstream,
            open.clone(),
            connections.clone(),
        ))
        .abort_handle();
        Self {
            address,
            open,
            connections,
            accept,
        }
    }

    /// Drops every connection and refuses new ones until [`Proxy::restore`].
    pub fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    pub fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

async fn accept(
    listener: TcpListener,
    upstream: Upstream,
    open: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
) {
    while let Ok((mut client, _)) = listener.accept().await {
        if !open.load(Ordering::SeqCst) {
            continue; // dropped: the connection is reset
        }
        let upstream = upstream.clone();
        let task = tokio::spawn(async move {
            match upstream {
                Upstream::Tcp(address) => {
                    if let Ok(mut server) = TcpStream::connect(address).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }
                Upstream::Unix(path) => {
                    if let Ok(mut server) = UnixStream::connect(path).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }
            }
        });
        connections.lock().unwrap().push(task.abort_handle());
    }
}
