//! scimd served in the test's process on 127.0.0.1:0 (`scimd::serve`) by a tokio runtime of
//! its own with two worker threads — the cores of a small host — and spoken to over real
//! sockets (`process::request`). Unlike `oneshot` on the test's runtime, requests compete for
//! those two workers as they do in production, so a test can tell when one holds a worker
//! (a core) without yielding.

use std::net::SocketAddr;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::{TestDb, settings};

/// The server; stops when dropped.
pub struct Served {
    pub address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Served {
    /// scimd on `db` with the test configuration, once it listens and its state is built.
    pub async fn start(db: &TestDb) -> Self {
        let config = settings(&db.url);
        let (listening, address) = oneshot::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let state = scimd::build_state(&config).await.expect("start scimd");
                listening.send(listener.local_addr().unwrap()).unwrap();
                let shutdown = async {
                    let _ = stopped.await;
                };
                scimd::serve(listener, state, shutdown).await.unwrap();
            });
        });
        Self {
            address: address.await.expect("scimd listens"),
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // the server finishes the requests in flight, then its runtime ends with the thread
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
