//! The server's safety rules, and how a refusal is answered.
//!
//! DNS rebinding: a page on a hostile site can make its own name resolve to 127.0.0.1 and then
//! talk to a local server as if it were that site; its requests still carry the hostile name in
//! their Host header. So a request is served only when its Host is `localhost` or an IP address
//! (a name an attacker cannot rebind), with this server's port when it gives one.

use axum::Json;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The largest request body accepted (larger ones get 413).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Whether a Host header value names this server (listening on `port`): `localhost` or an IP
/// address, with no port or `port`.
pub fn host_is_allowed(host: &str, port: u16) -> bool {
    let (name, given_port) = match host.rsplit_once(':') {
        // "[::1]:8080", "127.0.0.1:8080", "localhost:8080"; a bare IPv6 address has colons too.
        Some((name, p)) if !name.is_empty() && (name.ends_with(']') || !name.contains(':')) => {
            (name, Some(p))
        }
        _ => (host, None),
    };
    if given_port.is_some_and(|p| p.parse::<u16>() != Ok(port)) {
        return false;
    }
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost") || bare.parse::<std::net::IpAddr>().is_ok()
}

/// Refuses a request whose Host is not this server's address with 403.
pub async fn check_host(port: u16, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(ToString::to_string));
    match host {
        Some(host) if host_is_allowed(&host, port) => next.run(request).await,
        Some(host) => refuse(
            StatusCode::FORBIDDEN,
            format!(
                "Host '{host}' is not this server's address: use http://localhost:{port} or \
                 an IP address (other names are refused against DNS rebinding)"
            ),
        ),
        None => refuse(
            StatusCode::BAD_REQUEST,
            "the request has no Host header".to_string(),
        ),
    }
}

/// A JSON error reply: `{"error": message}`.
pub fn refuse(status: StatusCode, message: String) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_names_and_addresses_with_this_port_are_allowed() {
        for host in [
            "localhost",
            "localhost:8080",
            "LOCALHOST:8080",
            "127.0.0.1:8080",
            "[::1]:8080",
            "[::1]",
            "192.168.1.5:8080",
        ] {
            assert!(host_is_allowed(host, 8080), "{host}");
        }
        for host in [
            "evil.example:8080",
            "evil.example",
            "localhost:9090",
            "127.0.0.1:80",
            "localhost.evil.example:8080",
            "",
        ] {
            assert!(!host_is_allowed(host, 8080), "{host}");
        }
    }
}
