//! A real SMTP server for tests, on 127.0.0.1: it speaks enough ESMTP for any client (EHLO,
//! MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT), keeps what it receives, can
//! refuse chosen recipients (temporarily or for good) and can be stopped and started again
//! on the same port, so tests can take the mail server away mid-run.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// One message as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope sender.
    pub from: String,
    /// The envelope recipients.
    pub to: Vec<String>,
    /// The message (headers and body), CRLF line ends, dot-unstuffed.
    pub data: Vec<u8>,
}

#[derive(Debug, Default)]
struct State {
    received: Vec<Received>,
    /// (address, reply code) for recipients to refuse.
    refused: Vec<(String, u16)>,
    /// Connections accepted so far.
    connections: usize,
}

/// The server. Dropping it stops it.
#[derive(Debug)]
pub struct SmtpServer {
    port: u16,
    state: Arc<Mutex<State>>,
    tasks: Option<JoinSet<()>>,
}

impl SmtpServer {
    /// Starts on a free port.
    pub async fn start() -> Self {
        Self::start_on(0)
            .await
            .unwrap_or_else(|e| panic!("test SMTP server: {e}"))
    }

    /// Starts on `port` (0: any free port).
    ///
    /// # Errors
    /// The port is taken.
    pub async fn start_on(port: u16) -> std::io::Result<Self> {
        Self::serve(port, Arc::default()).await
    }

    async fn serve(port: u16, state: Arc<Mutex<State>>) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let port = listener.local_addr()?.port();
        let mut tasks = JoinSet::new();
        let shared = state.clone();
        tasks.spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                lock(&shared).connections += 1;
                conns.spawn(session(stream, shared.clone()));
            }
        });
        Ok(Self {
            port,
            state,
            tasks: Some(tasks),
        })
    }

    /// `smtp://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Refuses `address` at RCPT with `code` (e.g. 550 for good, 450 for now).
    pub fn refuse(&self, address: &str, code: u16) {
        lock(&self.state).refused.push((address.to_owned(), code));
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.state).received.clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        lock(&self.state).connections
    }

    /// Waits until at least `n` messages arrived (at most `timeout`), then returns them all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops listening and drops every open connection (what was received is kept in the
    /// returned handle, which [`Self::restart`] starts again on the same port).
    pub fn stop(mut self) -> Stopped {
        if let Some(mut t) = self.tasks.take() {
            t.abort_all();
        }
        Stopped {
            port: self.port,
            state: self.state.clone(),
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some(mut t) = self.tasks.take() {
            t.abort_all();
        }
    }
}

/// A stopped server: its port and what it had received.
#[derive(Debug)]
pub struct Stopped {
    port: u16,
    state: Arc<Mutex<State>>,
}

impl Stopped {
    /// Starts it again on the same port, keeping what it had received. Retries for a
    /// moment while the old socket is released.
    ///
    /// # Panics
    /// The port stays taken for two seconds.
    pub async fn restart(self) -> SmtpServer {
        for _ in 0..100 {
            if let Ok(s) = SmtpServer::serve(self.port, self.state.clone()).await {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("port {} stayed taken", self.port);
    }
}

async fn reply(w: &mut tokio::net::tcp::OwnedWriteHalf, text: &str) -> bool {
    w.write_all(text.as_bytes()).await.is_ok()
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The address inside `MAIL FROM:<a>` / `RCPT TO:<a>` (parameters after it ignored).
fn path_of(arg: &str) -> String {
    let arg = arg.trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(a), Some(b)) if a < b => arg[a + 1..b].to_owned(),
        _ => arg.split_whitespace().next().unwrap_or("").to_owned(),
    }
}

async fn session(stream: TcpStream, state: Arc<Mutex<State>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if !reply(&mut write, "220 tessera-test ESMTP\r\n").await {
        return;
    }
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let cmd = line.trim_end();
        let upper = cmd.to_ascii_uppercase();
        let answer = if upper.starts_with("EHLO") {
            "250-tessera-test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n".to_owned()
        } else if upper.starts_with("HELO") {
            "250 tessera-test\r\n".to_owned()
        } else if upper.starts_with("MAIL FROM:") {
            from = path_of(&cmd[10..]);
            to.clear();
            "250 OK\r\n".to_owned()
        } else if upper.starts_with("RCPT TO:") {
            let rcpt = path_of(&cmd[8..]);
            let refused = lock(&state)
                .refused
                .iter()
                .find(|(a, _)| a.eq_ignore_ascii_case(&rcpt))
                .map(|(_, c)| *c);
            match refused {
                Some(code) => format!("{code} 5.1.1 <{rcpt}>: recipient refused\r\n"),
                None => {
                    to.push(rcpt);
                    "250 OK\r\n".to_owned()
                }
            }
        } else if upper == "DATA" {
            if !reply(&mut write, "354 End data with <CR><LF>.<CR><LF>\r\n").await {
                return;
            }
            let mut data = Vec::new();
            loop {
                line.clear();
                match lines.read_line(&mut line).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let body = line.strip_prefix('.').unwrap_or(&line);
                data.extend_from_slice(body.as_bytes());
            }
            lock(&state).received.push(Received {
                from: std::mem::take(&mut from),
                to: std::mem::take(&mut to),
                data,
            });
            "250 OK queued\r\n".to_owned()
        } else if upper == "RSET" {
            from.clear();
            to.clear();
            "250 OK\r\n".to_owned()
        } else if upper == "NOOP" {
            "250 OK\r\n".to_owned()
        } else if upper == "QUIT" {
            let _ = reply(&mut write, "221 Bye\r\n").await;
            return;
        } else {
            "502 Command not implemented\r\n".to_owned()
        };
        if !reply(&mut write, &answer).await {
            return;
        }
    }
}
