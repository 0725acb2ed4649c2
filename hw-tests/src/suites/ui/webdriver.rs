//! A small W3C WebDriver client: the dozen commands the `ui` suite uses, as JSON over
//! HTTP/1.1 to chromedriver on loopback, one connection per command (`Connection:
//! close`), blocking. Small enough to read in one sitting, and no browser-automation
//! dependency tree.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The key of an element reference in WebDriver answers.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// A command taking longer than this is a hung browser.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// A command's failure: the WebDriver error code (`no such element`, ...) and message,
/// or a transport problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WdError {
    /// The WebDriver error code, or `transport`.
    pub code: String,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "webdriver: {}: {}", self.code, self.message.lines().next().unwrap_or_default())
    }
}

fn transport(message: impl Into<String>) -> WdError {
    WdError { code: "transport".into(), message: message.into() }
}

/// One HTTP exchange with chromedriver: `(status, body)`.
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Vec<u8>), WdError> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| transport(format!("connect: {e}")))?;
    s.set_read_timeout(Some(COMMAND_TIMEOUT)).map_err(|e| transport(e.to_string()))?;
    let payload = body.map(Value::to_string).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    );
    s.write_all(head.as_bytes())
        .and_then(|()| s.write_all(payload.as_bytes()))
        .map_err(|e| transport(e.to_string()))?;
    // chromedriver keeps the connection open whatever the request says: read until
    // the response is complete rather than to the end of the stream.
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while !complete(&raw) {
        let n = s.read(&mut buf).map_err(|e| transport(format!("read: {e}")))?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    parse_response(&raw)
}

/// Whether `raw` holds a whole response: headers, then `Content-Length` bytes or the
/// last chunk.
fn complete(raw: &[u8]) -> bool {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else { return false };
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    let body = &raw[end + 4..];
    if let Some(len) = head.lines().find_map(|l| l.strip_prefix("content-length:")) {
        return len.trim().parse::<usize>().is_ok_and(|n| body.len() >= n);
    }
    if head.contains("transfer-encoding: chunked") {
        return body.ends_with(b"0\r\n\r\n");
    }
    false
}

/// Split an HTTP/1.1 response into its status and (de-chunked) body.
pub fn parse_response(raw: &[u8]) -> Result<(u16, Vec<u8>), WdError> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| transport("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let status =
        head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| {
            transport(format!("bad status line: {}", head.lines().next().unwrap_or_default()))
        })?;
    let body = &raw[end + 4..];
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if !chunked {
        return Ok((status, body.to_vec()));
    }
    let (mut out, mut rest) = (Vec::new(), body);
    loop {
        let nl = rest.windows(2).position(|w| w == b"\r\n").ok_or_else(|| transport("bad chunk"))?;
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&rest[..nl]).split(';').next().unwrap_or("").trim(),
            16,
        )
        .map_err(|_| transport("bad chunk size"))?;
        rest = &rest[nl + 2..];
        if size == 0 {
            return Ok((status, out));
        }
        let chunk = rest.get(..size).ok_or_else(|| transport("short chunk"))?;
        out.extend_from_slice(chunk);
        rest = rest.get(size + 2..).unwrap_or_default();
    }
}

/// Decode standard base64 (screenshots).
pub fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("`{}` is not base64", char::from(c))),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

/// A browser session.
#[derive(Debug)]
pub struct Session {
    port: u16,
    id: String,
}

/// An element of the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Session {
    /// A new session on chromedriver at `port` with `capabilities`.
    pub fn new(port: u16, capabilities: &Value) -> Result<Self, WdError> {
        let v = command(port, "POST", "/session", Some(&json!({ "capabilities": capabilities })))?;
        let id = v["sessionId"].as_str().ok_or_else(|| transport(format!("no sessionId in {v}")))?;
        Ok(Self { port, id: id.to_owned() })
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, WdError> {
        command(self.port, method, &format!("/session/{}{path}", self.id), body.as_ref())
    }

    /// Load `url` and wait for it.
    pub fn goto(&self, url: &str) -> Result<(), WdError> {
        self.cmd("POST", "/url", Some(json!({ "url": url }))).map(drop)
    }

    /// The current URL.
    pub fn url(&self) -> Result<String, WdError> {
        Ok(self.cmd("GET", "/url", None)?.as_str().unwrap_or_default().to_owned())
    }

    /// The first element matching a CSS selector.
    pub fn find(&self, css: &str) -> Result<Element, WdError> {
        let v = self.cmd("POST", "/element", Some(json!({ "using": "css selector", "value": css })))?;
        v[ELEMENT_KEY]
            .as_str()
            .map(|e| Element(e.to_owned()))
            .ok_or_else(|| transport(format!("no element in {v}")))
    }

    /// Whether an element matches.
    pub fn exists(&self, css: &str) -> Result<bool, WdError> {
        match self.find(css) {
            Ok(_) => Ok(true),
            Err(e) if e.code == "no such element" => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The rendered text of the first match.
    pub fn text(&self, css: &str) -> Result<String, WdError> {
        let e = self.find(css)?;
        Ok(self.cmd("GET", &format!("/element/{}/text", e.0), None)?.as_str().unwrap_or_default().to_owned())
    }

    /// A DOM property of the first match (`checked`, `disabled`, `value`, ...).
    pub fn property(&self, css: &str, name: &str) -> Result<Value, WdError> {
        let e = self.find(css)?;
        self.cmd("GET", &format!("/element/{}/property/{name}", e.0), None)
    }

    /// Click the first match.
    pub fn click(&self, css: &str) -> Result<(), WdError> {
        let e = self.find(css)?;
        self.cmd("POST", &format!("/element/{}/click", e.0), Some(json!({}))).map(drop)
    }

    /// Replace the first match's value with `text`, as typed.
    pub fn fill(&self, css: &str, text: &str) -> Result<(), WdError> {
        let e = self.find(css)?;
        self.cmd("POST", &format!("/element/{}/clear", e.0), Some(json!({})))?;
        self.cmd("POST", &format!("/element/{}/value", e.0), Some(json!({ "text": text }))).map(drop)
    }

    /// Run `script` in the page (its `return` value).
    pub fn execute(&self, script: &str) -> Result<Value, WdError> {
        self.cmd("POST", "/execute/sync", Some(json!({ "script": script, "args": [] })))
    }

    /// The open alert's text, if one is open.
    pub fn alert_text(&self) -> Result<Option<String>, WdError> {
        match self.cmd("GET", "/alert/text", None) {
            Ok(v) => Ok(Some(v.as_str().unwrap_or_default().to_owned())),
            Err(e) if e.code == "no such alert" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Result<Vec<u8>, WdError> {
        let v = self.cmd("GET", "/screenshot", None)?;
        base64_decode(v.as_str().unwrap_or_default()).map_err(transport)
    }

    /// Poll the text of `css` until `want` holds, for at most `limit`; the text.
    pub fn wait_text(
        &self,
        css: &str,
        limit: Duration,
        want: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        let t0 = Instant::now();
        loop {
            let last = match self.text(css) {
                Ok(t) if want(&t) => return Ok(t),
                Ok(t) => t,
                Err(e) => e.to_string(),
            };
            if t0.elapsed() >= limit {
                return Err(format!("`{css}` after {} ms: {last:?}", limit.as_millis()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = command(self.port, "DELETE", &format!("/session/{}", self.id), None);
    }
}

/// One command: its `value`, or its error.
pub fn command(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, WdError> {
    let (status, bytes) = http(port, method, path, body)?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
        transport(format!("HTTP {status}: not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
    })?;
    let value = v.get("value").cloned().unwrap_or(Value::Null);
    if let Some(code) = value.get("error").and_then(Value::as_str) {
        let message = value.get("message").and_then(Value::as_str).unwrap_or_default();
        return Err(WdError { code: code.to_owned(), message: message.to_owned() });
    }
    if !(200..300).contains(&status) {
        return Err(transport(format!("HTTP {status}: {v}")));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_parse_plain_and_chunked() {
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(parse_response(plain), Ok((200, b"{}".to_vec())));
        let chunked =
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked), Ok((404, b"abcde".to_vec())));
        assert!(parse_response(b"HTTP/1.1 200").is_err());
        assert!(complete(plain));
        assert!(!complete(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n{}"));
        assert!(complete(chunked));
        assert!(!complete(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"));
    }

    #[test]
    fn base64_decodes() {
        assert_eq!(base64_decode("aGVsbG8="), Ok(b"hello".to_vec()));
        assert_eq!(base64_decode("iVBORw0KGgo="), Ok(vec![0x89, b'P', b'N', b'G', 13, 10, 26, 10]));
        assert!(base64_decode("a$").is_err());
    }
}
