//! Plain HTTP/1.1 requests to a server under test, as a browser's page or a script sends them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

pub struct Reply {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One request with `Connection: close`, read to the end: JSON bodies, as the pages send.
pub fn request(address: SocketAddr, method: &str, path: &str, host: &str, body: &[u8]) -> Reply {
    send(
        address,
        method,
        path,
        host,
        &[("Content-Type", "application/json")],
        body,
    )
}

/// One request to `host` with these headers and body, `Connection: close`, read to the end.
pub fn send(
    address: SocketAddr,
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n\
         Connection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // A refused body may be answered before it is all sent.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = headers.split(' ').nth(1).unwrap().parse().unwrap();
    Reply {
        status,
        headers: headers.to_string(),
        body: body.to_string(),
    }
}

pub fn get(address: SocketAddr, path: &str) -> Reply {
    request(
        address,
        "GET",
        path,
        &format!("localhost:{}", address.port()),
        b"",
    )
}

pub fn post(address: SocketAddr, path: &str, body: &Value) -> Reply {
    request(
        address,
        "POST",
        path,
        &format!("127.0.0.1:{}", address.port()),
        body.to_string().as_bytes(),
    )
}

/// The binary serving (`nabla serve --port 0` and `args`), and the address its first line
/// prints.
pub fn serve_binary(args: &[&std::ffi::OsStr]) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nabla"))
        .args(["serve", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.split_whitespace().nth(2).unwrap();
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    (child, format!("127.0.0.1:{port}").parse().unwrap())
}
