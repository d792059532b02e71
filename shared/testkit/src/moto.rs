//! moto, the AWS stand-in, for tests: one server per test process, serving
//! one request at a time (`tests/aws/moto_serial.py`), on a free port of
//! 127.0.0.1.
//!
//! The Python interpreter is the project's virtualenv (`.venv/bin/python`,
//! which `scripts/test` creates) unless `KONTOR_PYTHON` names another. A
//! missing moto fails the test with instructions; it never skips it. The
//! server reads its standard input and exits when that closes, so it ends
//! with the test process however that ends.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub struct Moto {
    port: u16,
    // Held so the server's standard input stays open while the process lives.
    _child: Mutex<Child>,
}

static SHARED: OnceLock<Moto> = OnceLock::new();

/// The workspace root, where `.venv/` and `tests/aws/` live.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The project's Python, which has moto, boto3 and cargo-lambda: the
/// virtualenv that `scripts/test` creates, unless `KONTOR_PYTHON` names another.
pub fn python() -> PathBuf {
    std::env::var_os("KONTOR_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/python"))
}

impl Moto {
    /// The test process's moto server, started on first use.
    pub fn shared() -> &'static Moto {
        SHARED.get_or_init(Moto::start)
    }

    /// Starts a new server (most tests want [`Moto::shared`]).
    pub fn start() -> Moto {
        let root = workspace_root();
        let python = python();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new(&python)
            .arg("-c")
            .arg(
                "import sys, threading, os, runpy\n\
                 threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()\n\
                 sys.argv = [sys.argv[1], sys.argv[2]]\n\
                 runpy.run_path(sys.argv[0], run_name='__main__')",
            )
            .arg(root.join("tests/aws/moto_serial.py"))
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start moto with {} ({e}); run `bash scripts/test`, which installs it into .venv",
                    python.display()
                )
            });
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().expect("moto's status") {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                panic!("moto exited ({status}) before it listened: {stderr}\nrun `bash scripts/test`, which installs moto into .venv");
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            assert!(Instant::now() < deadline, "moto did not listen within 60 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        // Drain moto's request log so the pipe never fills up and blocks it.
        if let Some(mut stderr) = child.stderr.take() {
            std::thread::spawn(move || {
                let mut sink = [0u8; 8192];
                while matches!(stderr.read(&mut sink), Ok(n) if n > 0) {}
            });
        }
        Moto {
            port,
            _child: Mutex::new(child),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The e-mails SES has accepted so far (`source`, `subject`, `body`,
    /// `destinations.ToAddresses`), from the server's `/kontor/sent-mail`.
    pub fn sent_mail(&self) -> Vec<serde_json::Value> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("moto listens");
        stream
            .write_all(b"GET /kontor/sent-mail HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .expect("moto takes the request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("moto answers");
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        assert!(
            head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
            "{head}"
        );
        serde_json::from_str(body).expect("a JSON list of e-mails")
    }
}
