//! `nabla serve` under load (loopback only, bounded): a flood of quick trainings, large
//! metrics files read at once, hundreds of idle connections and requests trickled a byte at a
//! time. The server's peak memory and open descriptors stay bounded, idle and slow connections
//! are closed, and a legitimate request is answered all along.

#![cfg(all(feature = "serve", target_os = "linux"))]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::http::{get, post, serve_binary};
use nabla::serve::{HEAD_TIMEOUT, IDLE_CONNECTION};
use serde_json::json;

/// The cap given to the server under test.
const MAX_CONNECTIONS: usize = 48;
/// Idle connections opened (more than the cap, as in the report: 300 locked everyone out).
const IDLE: usize = 300;

/// The binary serving `runs` on a free port, with its address.
fn serve(runs: &std::path::Path) -> (Child, SocketAddr) {
    let cap = MAX_CONNECTIONS.to_string();
    serve_binary(&[
        "--max-connections".as_ref(),
        cap.as_ref(),
        "--runs".as_ref(),
        runs.as_os_str(),
    ])
}

/// A field of `/proc/<pid>/status` in kB (VmHWM: the peak resident memory).
fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// The process's open file descriptors.
fn descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// A metrics file of `epochs` lines of about 300 bytes (60 MB for 200 000).
fn metrics_file(path: &std::path::Path, epochs: usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let padding = "x".repeat(200);
    for epoch in 1..=epochs {
        writeln!(
            file,
            "{{\"epoch\":{epoch},\"train_loss\":0.5,\"train_accuracy\":0.9,\"note\":\"{padding}\"}}"
        )
        .unwrap();
    }
    file.flush().unwrap();
}

/// Whether the server has closed this connection (a read sees the end, or a reset).
fn closed_by_server(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut byte = [0_u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

#[test]
fn a_flood_leaves_memory_and_connections_bounded_and_the_page_answered() {
    let runs = tempfile::tempdir().unwrap();
    metrics_file(&runs.path().join("big.jsonl"), 200_000);
    let (mut child, address) = serve(runs.path());
    let pid = child.id();
    let start_descriptors = descriptors(pid);
    let started = Instant::now();
    let flooding = Arc::new(AtomicBool::new(true));

    // Idle connections: opened and never written to.
    let mut idle: Vec<TcpStream> = (0..IDLE)
        .filter_map(|_| TcpStream::connect(address).ok())
        .collect();
    // Requests trickled a byte a second (never a whole head).
    let trickling: Vec<thread::JoinHandle<bool>> = (0..8)
        .map(|_| {
            thread::spawn(move || {
                let Ok(mut stream) = TcpStream::connect(address) else {
                    return true;
                };
                let head = b"GET /api/options HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
                let deadline = Instant::now() + HEAD_TIMEOUT + Duration::from_secs(8);
                for &byte in head.iter().chain(std::iter::repeat(&b'a')) {
                    if stream.write_all(&[byte]).is_err() || closed_by_server(&mut stream) {
                        return true;
                    }
                    if Instant::now() > deadline {
                        return false;
                    }
                    thread::sleep(Duration::from_millis(800));
                }
                false
            })
        })
        .collect();
    // Quick one-epoch trainings, as fast as they are answered.
    let trainings = {
        let flooding = Arc::clone(&flooding);
        thread::spawn(move || {
            let mut started = 0;
            while flooding.load(Ordering::Relaxed) {
                let reply = post(address, "/api/train", &json!({"epochs": 1, "samples": 50}));
                assert!(matches!(reply.status, 201 | 429), "{}", reply.body);
                started += usize::from(reply.status == 201);
            }
            started
        })
    };
    // The 60 MB metrics file, read from the start by three readers at once, over and over.
    let readers: Vec<thread::JoinHandle<usize>> = (0..3)
        .map(|_| {
            let flooding = Arc::clone(&flooding);
            thread::spawn(move || {
                let mut replies = 0;
                while flooding.load(Ordering::Relaxed) {
                    let reply = get(address, "/api/run?name=big.jsonl&from=0");
                    assert_eq!(reply.status, 200, "{}", reply.body);
                    assert_eq!(reply.json()["more"], true);
                    replies += 1;
                }
                replies
            })
        })
        .collect();

    // The page: a request every half second, each answered promptly; the server watched.
    let mut slowest = Duration::ZERO;
    let mut peak_descriptors = 0;
    while started.elapsed() < Duration::from_secs(12) {
        let asked = Instant::now();
        let reply = get(address, "/api/options");
        assert_eq!(reply.status, 200, "{}", reply.body);
        slowest = slowest.max(asked.elapsed());
        peak_descriptors = peak_descriptors.max(descriptors(pid));
        thread::sleep(Duration::from_millis(500));
    }
    flooding.store(false, Ordering::Relaxed);
    let started_runs = trainings.join().unwrap();
    let replies: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
    let trickles_closed = trickling
        .into_iter()
        .map(|t| t.join().unwrap_or(false))
        .filter(|&closed| closed)
        .count();
    let peak_kb = status_kb(pid, "VmHWM:");
    eprintln!(
        "serve under load: peak memory {} MB, descriptors {start_descriptors} at start, \
         peak {peak_descriptors}; slowest page request {slowest:?}; {started_runs} trainings, \
         {replies} metrics replies",
        peak_kb / 1024
    );
    assert!(started_runs > 4 && replies > 3, "the flood ran");
    assert!(slowest < Duration::from_secs(3), "{slowest:?}");
    assert!(
        peak_descriptors <= start_descriptors + MAX_CONNECTIONS + 16,
        "{peak_descriptors} descriptors"
    );
    assert!(peak_kb < 400 * 1024, "peak memory {peak_kb} kB");
    assert_eq!(trickles_closed, 8, "trickled heads are cut off");

    // Idle connections: the oldest ones made room at once, the rest close when idle.
    let wait = IDLE_CONNECTION + Duration::from_secs(3);
    if let Some(left) = wait.checked_sub(started.elapsed()) {
        thread::sleep(left);
    }
    let still_open = idle
        .iter_mut()
        .map(closed_by_server)
        .filter(|closed| !closed)
        .count();
    assert_eq!(still_open, 0, "idle connections are closed");
    assert_eq!(get(address, "/api/options").status, 200);
    child.kill().unwrap();
    child.wait().unwrap();
}
