//! `nabla serve` over HTTP: the server started on port 0 in this process (or as the binary),
//! driven with plain HTTP/1.1 requests, then stopped.

#![cfg(feature = "serve")]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use common::http::{Reply, get, post, request, send, serve_binary};
use common::test_accuracy;
use nabla::serve::{MAX_BODY_BYTES, MAX_TRAININGS, ServeConfig, Server, start};
use serde_json::{Value, json};

fn server(runs: &std::path::Path) -> Server {
    let mut config = ServeConfig::new(runs);
    config.port = 0;
    start(&config).unwrap()
}

fn wait_for(address: SocketAddr, id: u64, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let progress = get(address, &format!("/api/train/{id}")).json();
        if done(&progress) {
            return progress;
        }
        assert!(Instant::now() < deadline, "{progress}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_training_pauses_steps_resumes_and_streams_its_epochs() {
    let runs = tempfile::tempdir().unwrap();
    let server = server(runs.path());
    let a = server.address;
    let started = post(
        a,
        "/api/train?paused=true",
        &json!({"epochs": 20, "delay_ms": 15}),
    );
    assert_eq!(started.status, 201, "{}", started.body);
    let id = started.json()["id"].as_u64().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let paused = get(a, &format!("/api/train/{id}")).json();
    assert_eq!(paused["status"], "paused");
    assert_eq!(paused["epochs"].as_array().unwrap().len(), 0);
    for _ in 0..2 {
        assert_eq!(
            post(a, &format!("/api/train/{id}/step"), &json!({})).status,
            200
        );
    }
    let stepped = wait_for(a, id, |p| p["epochs"].as_array().unwrap().len() >= 2);
    std::thread::sleep(Duration::from_millis(200));
    let still = get(a, &format!("/api/train/{id}")).json();
    assert_eq!(still["epochs"].as_array().unwrap().len(), 2, "{stepped}");
    assert_eq!(still["boundary"]["epoch"], 2);

    // The event stream: everything first, then an update per change until the end.
    let mut stream = TcpStream::connect(a).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET /api/train/{id}/events HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    assert_eq!(
        post(a, &format!("/api/train/{id}/resume"), &json!({})).status,
        200
    );
    let mut events = Vec::new();
    let mut epochs_seen = 2;
    for line in BufReader::new(stream).lines() {
        let line = line.unwrap();
        if let Some(name) = line.strip_prefix("event: ") {
            events.push(name.to_string());
        } else if let Some(data) = line.strip_prefix("data: ") {
            let data: Value = serde_json::from_str(data).unwrap();
            if events.last().map(String::as_str) == Some("progress") {
                // Everything so far: 2 epochs, or more when the resume was served before the
                // stream took its first look.
                epochs_seen = data["epochs"].as_array().unwrap().len();
                assert!(epochs_seen >= 2, "{data}");
            }
            if events.last().map(String::as_str) == Some("update") {
                assert_eq!(data["epochs_from"], epochs_seen);
                epochs_seen += data["epochs"].as_array().unwrap().len();
            }
            if data["status"] == "finished" {
                assert!(data["test_accuracy"].as_f64().unwrap() > 0.5);
                break;
            }
        }
    }
    assert_eq!(events[0], "progress");
    assert!(events.len() >= 3, "{events:?}");
    assert_eq!(epochs_seen, 20, "every epoch reached the stream once");
    assert_eq!(
        request(a, "DELETE", &format!("/api/train/{id}"), "localhost", b"").status,
        204
    );
    assert_eq!(get(a, &format!("/api/train/{id}")).status, 404);
    server.stop();
}

#[test]
fn a_playground_run_scores_as_nabla_train_with_the_same_settings() {
    let runs = tempfile::tempdir().unwrap();
    let server = server(runs.path());
    let spec = json!({"data": "spirals", "samples": 600, "hidden": [24, 24], "epochs": 40,
                      "learning_rate": 0.01, "seed": 3});
    let started = post(server.address, "/api/train", &spec);
    assert_eq!(started.status, 201, "{}", started.body);
    let id = started.json()["id"].as_u64().unwrap();
    let done = wait_for(server.address, id, |p| p["status"] != "running");
    assert_eq!(done["status"], "finished", "{done}");
    let command = done["command"].as_str().unwrap();
    let words: Vec<&str> = command.split_whitespace().skip(1).collect();
    let cli = Command::new(env!("CARGO_BIN_EXE_nabla"))
        .args(&words)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&cli.stdout);
    let accuracy = test_accuracy(&report);
    let playground = done["test_accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.6, "{report}");
    assert!(
        (playground - accuracy).abs() < 1e-4,
        "playground {playground}, `{command}` {accuracy}"
    );
    server.stop();
}

#[test]
fn a_refused_pairing_gets_its_reason_fix_and_derivation() {
    let runs = tempfile::tempdir().unwrap();
    let server = server(runs.path());
    let refused = post(
        server.address,
        "/api/train",
        &json!({"output": "relu", "loss": "cross-entropy"}),
    );
    assert_eq!(refused.status, 400);
    let body = refused.json();
    assert!(body["error"].as_str().unwrap().contains("ReLU"), "{body}");
    let refusal = &body["refusal"];
    assert!(refusal["fix"].as_str().unwrap().contains("softmax"));
    assert_eq!(refusal["sound_output"], "softmax");
    let link = refusal["explain"].as_str().unwrap();
    let page = get(server.address, link);
    assert_eq!(page.status, 200);
    assert!(page.headers.contains("text/html"));
    let derivation = get(server.address, &link.replace("/explain", "/api/explain")).json();
    assert_eq!(derivation["compatible"], false);
    assert!(
        derivation["gradient"]["latex"]
            .as_str()
            .unwrap()
            .contains("frac")
    );
    assert_eq!(derivation["checked"]["points"], 1000);
    let steps = derivation["steps"].as_array().unwrap();
    assert_eq!(steps[0]["check"]["against"], "nabla's loss");
    assert_eq!(steps.last().unwrap()["check"]["against"], "the step before");
    assert!(
        steps.last().unwrap()["check"]["max_relative_difference"]
            .as_f64()
            .unwrap()
            < 1e-9
    );
    // Bad names get the command line's errors.
    let bad = post(
        server.address,
        "/api/train",
        &json!({"activation": "relu7"}),
    );
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"].as_str().unwrap().contains("relu7"));
    let unknown = post(server.address, "/api/train", &json!({"layers": 3}));
    assert!(unknown.json()["error"].as_str().unwrap().contains("layers"));
    let no_file = post(
        server.address,
        "/api/train",
        &json!({"data": "/etc/passwd"}),
    );
    assert_eq!(no_file.status, 400);
    server.stop();
}

#[test]
fn a_foreign_host_is_refused() {
    let runs = tempfile::tempdir().unwrap();
    let server = server(runs.path());
    let port = server.address.port();
    for host in [
        "evil.example",
        &format!("evil.example:{port}"),
        "localhost:1",
    ] {
        let reply = request(server.address, "GET", "/api/options", host, b"");
        assert_eq!(reply.status, 403, "{host}");
        assert!(reply.body.contains("DNS rebinding"), "{}", reply.body);
    }
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        assert_eq!(
            request(server.address, "GET", "/api/options", &host, b"").status,
            200
        );
    }
    server.stop();
}

/// A request as a browser sends it: these headers, the body as given.
fn browser(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let host = format!("127.0.0.1:{}", address.port());
    send(address, method, path, &host, headers, body)
}

/// Any page the user visits could make the browser POST to the playground: a form (form-encoded
/// or multipart), or fetch with text/plain, none of which needs a preflight. Such requests are
/// refused and start nothing; the playground's own requests still work; its trainings are
/// numbered unguessably, and a foreign page cannot stop or pause them.
#[test]
fn a_foreign_page_cannot_drive_the_server() {
    let runs = tempfile::tempdir().unwrap();
    let server = server(runs.path());
    let a = server.address;
    let own = format!("http://127.0.0.1:{}", a.port());
    let evil = [
        ("Origin", "http://evil.example"),
        ("Sec-Fetch-Site", "cross-site"),
    ];
    for (kind, body) in [
        ("text/plain", "{}"),
        ("application/x-www-form-urlencoded", "a=1"),
        ("multipart/form-data; boundary=x", "--x--"),
        ("application/json", "{}"),
    ] {
        let mut headers = evil.to_vec();
        headers.push(("Content-Type", kind));
        let reply = browser(a, "POST", "/api/train", &headers, body.as_bytes());
        assert_eq!(reply.status, 403, "{kind}: {}", reply.body);
        assert!(
            reply.json()["error"]
                .as_str()
                .unwrap()
                .contains("evil.example")
        );
    }
    // Without the browser's headers (an older browser, a form through some proxy), a body of
    // another type than JSON is still refused.
    let reply = browser(
        a,
        "POST",
        "/api/train",
        &[("Content-Type", "text/plain")],
        b"{}",
    );
    assert_eq!(reply.status, 415, "{}", reply.body);
    // Nothing started: the playground's own page may still start all of them.
    let json = [
        ("Origin", own.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
        ("Content-Type", "application/json"),
    ];
    let mut ids = Vec::new();
    for _ in 0..MAX_TRAININGS {
        let reply = browser(a, "POST", "/api/train?paused=true", &json, b"{}");
        assert_eq!(reply.status, 201, "{}", reply.body);
        ids.push(reply.json()["id"].as_u64().unwrap());
    }
    // Not 1, 2, 3…: numbers a page cannot guess, and that JavaScript holds exactly.
    assert!(
        ids.iter().all(|&id| id > 1 << 20 && id < 1 << 53),
        "{ids:?}"
    );
    for action in ["stop", "pause", "resume"] {
        let path = format!("/api/train/{}/{action}", ids[0]);
        let reply = browser(a, "POST", &path, &evil, b"");
        assert_eq!(reply.status, 403, "{action}");
    }
    let reply = browser(a, "DELETE", &format!("/api/train/{}", ids[0]), &evil, b"");
    assert_eq!(reply.status, 403);
    assert_eq!(get(a, &format!("/api/train/{}", ids[0])).status, 200);
    let reply = browser(
        a,
        "POST",
        &format!("/api/train/{}/stop", ids[0]),
        &json[..2],
        b"",
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    server.stop();
}

#[test]
fn an_oversized_body_is_refused() {
    let runs = tempfile::tempdir().unwrap();
    let server = server(runs.path());
    let big = vec![b' '; MAX_BODY_BYTES + 1];
    let reply = request(server.address, "POST", "/api/train", "localhost", &big);
    assert_eq!(reply.status, 413);
    assert!(reply.json()["error"].as_str().unwrap().contains("bytes"));
    server.stop();
}

/// Every error is a JSON reply, whoever makes it (the router, the body limit, the extractors,
/// the library), and a spec is refused before its run starts: a JSON array (serde would read
/// it by position), a noise beyond any use (1e39 used to start, then fail as "normalization
/// mean[0]: NaN") or below 0.
#[test]
fn every_refusal_is_json_and_comes_before_the_run() {
    let runs = tempfile::tempdir().unwrap();
    let server = server(runs.path());
    let a = server.address;
    for (reply, status, words) in [
        (get(a, "/api/nothing"), 404, "nothing at /api/nothing"),
        (
            request(a, "PUT", "/api/options", "localhost", b""),
            405,
            "PUT is not allowed",
        ),
        (get(a, "/api/train/abc"), 400, "abc"),
        (post(a, "/api/train", &json!([1, 2])), 400, "got an array"),
        (post(a, "/api/train", &json!({"noise": 1e39})), 400, "noise"),
        (post(a, "/api/train", &json!({"noise": -1.0})), 400, "noise"),
    ] {
        assert_eq!(reply.status, status, "{}", reply.body);
        let error = reply.json()["error"].as_str().unwrap().to_string();
        assert!(error.contains(words), "{error}");
    }
    // Nothing was started by the refused specs.
    for _ in 0..MAX_TRAININGS {
        assert_eq!(post(a, "/api/train?paused=true", &json!({})).status, 201);
    }
    server.stop();
}

#[test]
fn only_a_few_trainings_run_at_once() {
    let runs = tempfile::tempdir().unwrap();
    let server = server(runs.path());
    let too_big = post(
        server.address,
        "/api/train",
        &json!({"samples": 10_000_000}),
    );
    assert_eq!(too_big.status, 400);
    assert!(
        too_big.json()["error"]
            .as_str()
            .unwrap()
            .contains("samples")
    );
    for _ in 0..MAX_TRAININGS {
        let started = post(server.address, "/api/train?paused=true", &json!({}));
        assert_eq!(started.status, 201);
    }
    let refused = post(server.address, "/api/train?paused=true", &json!({}));
    assert_eq!(refused.status, 429);
    server.stop();
}

#[test]
fn runs_are_read_as_they_grow_and_nothing_outside_runs_is() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    std::fs::create_dir(&runs).unwrap();
    std::fs::write(dir.path().join("secret.jsonl"), "{\"epoch\": 1}\n").unwrap();
    let trained = Command::new(env!("CARGO_BIN_EXE_nabla"))
        .args([
            "train",
            "--data",
            "moons",
            "--epochs",
            "3",
            "--threads",
            "1",
        ])
        .arg("--metrics")
        .arg(runs.join("moons.jsonl"))
        .output()
        .unwrap();
    assert!(trained.status.success());
    let server = server(&runs);
    let listed = get(server.address, "/api/runs").json();
    assert_eq!(listed["runs"][0]["name"], "moons.jsonl");
    let run = get(server.address, "/api/run?name=moons.jsonl&from=1").json();
    assert_eq!(run["next"], 3);
    assert_eq!(run["records"][0]["epoch"], 2);
    for name in [
        "../secret.jsonl",
        "%2E%2E%2Fsecret.jsonl",
        "..%2Fsecret.jsonl",
    ] {
        let reply = get(server.address, &format!("/api/run?name={name}"));
        assert_eq!(reply.status, 400, "{name}");
        assert!(!reply.body.contains("\"records\""));
    }
    let absolute = dir.path().join("secret.jsonl");
    let reply = get(
        server.address,
        &format!("/api/run?name={}", absolute.display()),
    );
    assert_eq!(reply.status, 400);
    assert_eq!(get(server.address, "/assets/../Cargo.toml").status, 404);
    assert_eq!(get(server.address, "/assets/nabla.css").status, 200);
    assert_eq!(
        get(server.address, "/assets/vendor/katex/katex.min.js").status,
        200
    );
    server.stop();
}

#[test]
fn the_binary_prints_its_url_and_stops_within_a_second_of_sigint() {
    let runs = tempfile::tempdir().unwrap();
    let (mut child, address) = serve_binary(&["--runs".as_ref(), runs.path().as_os_str()]);
    assert_eq!(
        post(address, "/api/train", &json!({"epochs": 5000})).status,
        201
    );
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let sent = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(sent.elapsed() < Duration::from_secs(1), "still running");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "{status}");
    let missing = Command::new(env!("CARGO_BIN_EXE_nabla"))
        .args(["serve", "--runs", "/no/such/folder"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/no/such/folder"));
}
