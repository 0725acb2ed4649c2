//! The management API end to end: a fake control plane served on a Unix socket in a
//! temporary directory, exercised through `ApiClient`, raw requests and the built
//! `failoverctl` binary.

use std::io;
use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use failover_linux::api::client::{ApiClient, ClientError};
use failover_linux::api::control::{ControlError, ControlPlane};
use failover_linux::api::server::{METRICS_CONTENT_TYPE, serve_tcp_listener, serve_unix};
use failover_linux::api::types::{
    ErrorJson, EventJson, InterfaceJson, LastFailover, NetworkJson, PathState, PeerJson, SettingsJson,
    StatusJson, SyncJson, TakeoverJson, UnlockJson,
};
use hyper::body::Bytes;
use hyper::{Method, StatusCode};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const PASSPHRASE: &str = "correct horse battery staple";
const EDIT_REFUSED: &str = "interfaces cannot be edited while failover is enabled";

/// The fake service's state.
struct State {
    settings: SettingsJson,
    network: NetworkJson,
    interfaces: Vec<InterfaceJson>,
    status: String,
    epoch: u64,
    passphrase_needed: bool,
    last_failover: Option<LastFailover>,
    events: Vec<EventJson>,
    syncs: Vec<String>,
}

/// An in-memory control plane with the service's rules.
struct Fake {
    state: Mutex<State>,
}

impl Fake {
    fn new() -> Self {
        Self {
            state: Mutex::new(State {
                settings: SettingsJson {
                    disabled: false,
                    primary: "A".into(),
                    timeout_ms: 3000,
                    heartbeat_interval_ms: 500,
                },
                network: NetworkJson {
                    hostname_a: "nas-a".into(),
                    hostname_b: "nas-b".into(),
                    hostname_virtual: "nas".into(),
                },
                interfaces: vec![InterfaceJson {
                    name: "eth0".into(),
                    critical: true,
                    group: Some(1),
                    vhid: Some(10),
                    addresses: vec!["10.0.0.2/24".into()],
                    peer_addresses: vec!["10.0.0.3/24".into()],
                    virtual_addresses: vec!["10.0.0.1/24".into()],
                    state: "BACKUP".into(),
                    carrier: true,
                }],
                status: "BACKUP".into(),
                epoch: 6,
                passphrase_needed: true,
                last_failover: None,
                events: vec![EventJson { at_ms: 5, what: "started".into() }],
                syncs: vec![],
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("fake state poisoned")
    }
}

impl State {
    fn event(&mut self, what: impl Into<String>) {
        let at_ms = self.events.last().map_or(0, |e| e.at_ms) + 1000;
        self.events.push(EventJson { at_ms, what: what.into() });
    }
}

fn bad(m: impl Into<String>) -> ControlError {
    ControlError::BadRequest(m.into())
}

impl ControlPlane for Fake {
    async fn status(&self) -> StatusJson {
        let s = self.lock();
        let mut disabled_reasons = vec![];
        if s.settings.disabled {
            disabled_reasons.push("NO_FAILOVER".to_owned());
        }
        disabled_reasons.push("NO_BMC_LINK".to_owned());
        StatusJson {
            node: "A".into(),
            hostname: s.network.hostname_a.clone(),
            status: s.status.clone(),
            state: if s.status == "MASTER" { "active" } else { "standby" }.into(),
            epoch: s.epoch,
            disabled_reasons,
            peer: PeerJson {
                verdict: "alive".into(),
                status: Some(if s.status == "MASTER" { "BACKUP" } else { "MASTER" }.into()),
                host_link: PathState { up: true, last_seen_ms: Some(120) },
                bmc_link: Some(PathState { up: false, last_seen_ms: None }),
                config_digest: Some("0011223344556677".into()),
            },
            last_failover: s.last_failover.clone(),
            passphrase_needed: s.passphrase_needed,
            config_digest: "0011223344556677".into(),
        }
    }

    async fn settings(&self) -> SettingsJson {
        self.lock().settings.clone()
    }

    async fn set_settings(&self, new: SettingsJson) -> Result<SettingsJson, ControlError> {
        if new.primary != "A" && new.primary != "B" {
            return Err(bad(format!("primary: `{}` is not a controller (A or B)", new.primary)));
        }
        if !(10..=10_000).contains(&new.heartbeat_interval_ms) {
            return Err(bad("heartbeat_interval_ms: must be 10 to 10000 ms"));
        }
        if new.timeout_ms > 120_000 {
            return Err(bad("timeout_ms: must be at most 120000 ms"));
        }
        if new.timeout_ms < 3 * new.heartbeat_interval_ms {
            return Err(bad(format!(
                "timeout_ms: must be at least 3 x heartbeat_interval_ms ({} ms)",
                3 * new.heartbeat_interval_ms
            )));
        }
        let mut s = self.lock();
        s.settings = new.clone();
        s.event("settings changed");
        Ok(new)
    }

    async fn takeover(&self, t: TakeoverJson) -> Result<(), ControlError> {
        let mut s = self.lock();
        if s.status == "MASTER" {
            return Err(ControlError::Conflict("this controller is already active".into()));
        }
        if s.settings.disabled && !t.force {
            return Err(ControlError::Conflict("failover is disabled: use a forced takeover".into()));
        }
        s.epoch += 1;
        s.status = "MASTER".into();
        s.last_failover = Some(LastFailover {
            cause: if t.force { "forced" } else { "handover" }.into(),
            epoch: s.epoch,
            detect_ms: None,
            fence_ms: Some(12.5),
            import_ms: Some(250.0),
            total_ms: Some(262.5),
        });
        s.event("became MASTER");
        Ok(())
    }

    async fn giveback(&self) -> Result<(), ControlError> {
        let mut s = self.lock();
        if s.status != "MASTER" {
            return Err(ControlError::Conflict("this controller is not active".into()));
        }
        s.status = "BACKUP".into();
        s.event("gave back");
        Ok(())
    }

    async fn sync(&self, sync: SyncJson) -> Result<(), ControlError> {
        match sync.direction.as_str() {
            "to-peer" => {
                self.lock().syncs.push(sync.direction);
                Ok(())
            }
            "from-peer" => Err(ControlError::Internal("sync from peer failed: peer unreachable".into())),
            other => Err(bad(format!("direction: `{other}` is neither to-peer nor from-peer"))),
        }
    }

    async fn interfaces(&self) -> Vec<InterfaceJson> {
        self.lock().interfaces.clone()
    }

    async fn set_interface(&self, i: InterfaceJson) -> Result<(), ControlError> {
        let mut s = self.lock();
        if !s.settings.disabled {
            return Err(ControlError::Conflict(EDIT_REFUSED.into()));
        }
        if i.critical && i.group.is_none() {
            return Err(bad("group: required when the interface is critical"));
        }
        if i.vhid == Some(0) {
            return Err(bad("vhid: must be 1 to 255"));
        }
        let Some(slot) = s.interfaces.iter_mut().find(|x| x.name == i.name) else {
            return Err(bad(format!("name: no interface `{}`", i.name)));
        };
        *slot = i;
        Ok(())
    }

    async fn network(&self) -> NetworkJson {
        self.lock().network.clone()
    }

    async fn set_network(&self, n: NetworkJson) -> Result<NetworkJson, ControlError> {
        for (field, v) in [
            ("hostname_a", &n.hostname_a),
            ("hostname_b", &n.hostname_b),
            ("hostname_virtual", &n.hostname_virtual),
        ] {
            if v.is_empty() || v.contains(' ') {
                return Err(bad(format!("{field}: `{v}` is not a hostname")));
            }
        }
        self.lock().network = n.clone();
        Ok(n)
    }

    async fn unlock(&self, u: UnlockJson) -> Result<(), ControlError> {
        let mut s = self.lock();
        if !s.passphrase_needed {
            return Err(ControlError::Conflict("no pool is locked".into()));
        }
        if u.passphrase != PASSPHRASE {
            return Err(bad("passphrase: wrong passphrase"));
        }
        s.passphrase_needed = false;
        s.event("pools unlocked");
        Ok(())
    }

    async fn events(&self) -> Vec<EventJson> {
        self.lock().events.clone()
    }

    async fn metrics(&self) -> String {
        format!("# TYPE failover_epoch gauge\nfailover_epoch {}\n", self.lock().epoch)
    }
}

/// A fake served on a Unix socket in a temporary directory.
struct Served {
    _dir: tempfile::TempDir,
    socket: PathBuf,
    fake: Arc<Fake>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl Served {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("run").join("failoverd.sock");
        let fake = Arc::new(Fake::new());
        let (stop, task) = spawn_server(&socket, fake.clone());
        wait_for_socket(&socket).await;
        Self { _dir: dir, socket, fake, stop: Some(stop), task: Some(task) }
    }

    fn client(&self) -> ApiClient {
        ApiClient::new(&self.socket).with_timeout(Duration::from_secs(10))
    }

    async fn stop(mut self) -> io::Result<()> {
        let _ = self.stop.take().expect("stopped twice").send(());
        self.task.take().expect("stopped twice").await.expect("server task panicked")
    }

    /// Run the built `failoverctl` against this server.
    async fn ctl(&self, args: &[&str]) -> Output {
        ctl(Some(&self.socket), args, None).await
    }
}

fn spawn_server(socket: &Path, fake: Arc<Fake>) -> (oneshot::Sender<()>, JoinHandle<io::Result<()>>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let socket = socket.to_owned();
    let task = tokio::spawn(async move {
        serve_unix(&socket, fake, async {
            let _ = stopped.await;
        })
        .await
    });
    (stop, task)
}

async fn wait_for_socket(socket: &Path) {
    for _ in 0..400 {
        if std::fs::symlink_metadata(socket).is_ok_and(|m| m.file_type().is_socket()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{} never appeared", socket.display());
}

async fn ctl(socket: Option<&Path>, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_failoverctl"));
    cmd.env_remove("FAILOVERCTL_SOCKET");
    if let Some(socket) = socket {
        cmd.arg("--socket").arg(socket);
    }
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.spawn().expect("spawn failoverctl");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin piped");
        pipe.write_all(text.as_bytes()).await.expect("write stdin");
        drop(pipe);
    }
    child.wait_with_output().await.expect("wait for failoverctl")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "stdout: {}\nstderr: {}", stdout(o), stderr(o));
}

#[track_caller]
fn api_error(r: Result<impl std::fmt::Debug, ClientError>) -> (StatusCode, String) {
    match r {
        Err(ClientError::Api { status, message }) => (status, message),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn error_body(body: &Bytes) -> String {
    serde_json::from_slice::<ErrorJson>(body)
        .unwrap_or_else(|e| panic!("not an ErrorJson ({e}): {body:?}"))
        .error
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_through_the_client() {
    let served = Served::start().await;
    let c = served.client();

    let status = c.status().await.unwrap();
    assert_eq!((status.node.as_str(), status.status.as_str(), status.epoch), ("A", "BACKUP", 6));
    assert!(status.passphrase_needed);

    let settings = c.settings().await.unwrap();
    assert_eq!(settings.timeout_ms, 3000);
    let wanted = SettingsJson { timeout_ms: 6000, primary: "B".into(), ..settings };
    assert_eq!(c.set_settings(&wanted).await.unwrap(), wanted);
    assert_eq!(c.settings().await.unwrap(), wanted);

    c.takeover(&TakeoverJson { force: false }).await.unwrap();
    let status = c.status().await.unwrap();
    assert_eq!((status.status.as_str(), status.epoch), ("MASTER", 7));
    assert_eq!(status.last_failover.unwrap().cause, "handover");
    c.giveback().await.unwrap();
    assert_eq!(c.status().await.unwrap().status, "BACKUP");

    c.sync(&SyncJson { direction: "to-peer".into() }).await.unwrap();
    assert_eq!(served.fake.lock().syncs, vec!["to-peer".to_owned()]);

    let interfaces = c.interfaces().await.unwrap();
    assert_eq!(interfaces.len(), 1);
    let mut eth0 = interfaces[0].clone();
    eth0.vhid = Some(20);
    c.set_settings(&SettingsJson { disabled: true, ..wanted.clone() }).await.unwrap();
    c.set_interface(&eth0).await.unwrap();
    assert_eq!(c.interfaces().await.unwrap()[0].vhid, Some(20));

    let network = c.network().await.unwrap();
    let renamed = NetworkJson { hostname_virtual: "filer".into(), ..network };
    assert_eq!(c.set_network(&renamed).await.unwrap(), renamed);
    assert_eq!(c.network().await.unwrap().hostname_virtual, "filer");

    c.unlock(&UnlockJson { passphrase: PASSPHRASE.into() }).await.unwrap();
    assert!(!c.status().await.unwrap().passphrase_needed);

    let events = c.events().await.unwrap();
    let whats: Vec<&str> = events.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(
        whats,
        ["started", "settings changed", "became MASTER", "gave back", "settings changed", "pools unlocked"]
    );

    assert_eq!(c.metrics().await.unwrap(), "# TYPE failover_epoch gauge\nfailover_epoch 7\n");
    let raw = c.raw(Method::GET, "/metrics", None).await.unwrap();
    assert_eq!(raw.status, StatusCode::OK);
    assert_eq!(raw.content_type.as_deref(), Some(METRICS_CONTENT_TYPE));
    assert!(METRICS_CONTENT_TYPE.starts_with("text/plain; version=0.0.4"));

    served.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_map_to_status_codes_with_an_error_body() {
    let served = Served::start().await;
    let c = served.client();
    let settings = c.settings().await.unwrap();

    // 400: an invalid value, named.
    let (status, message) =
        api_error(c.set_settings(&SettingsJson { timeout_ms: 5, ..settings.clone() }).await);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.starts_with("timeout_ms:"), "{message}");
    let (status, message) = api_error(c.sync(&SyncJson { direction: "sideways".into() }).await);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("direction"), "{message}");
    let (status, message) = api_error(c.unlock(&UnlockJson { passphrase: "guess".into() }).await);
    assert_eq!((status, message.as_str()), (StatusCode::BAD_REQUEST, "passphrase: wrong passphrase"));

    // 409: refused in this state.
    let eth0 = c.interfaces().await.unwrap().remove(0);
    let (status, message) = api_error(c.set_interface(&eth0).await);
    assert_eq!((status, message.as_str()), (StatusCode::CONFLICT, EDIT_REFUSED));
    let (status, _) = api_error(c.giveback().await);
    assert_eq!(status, StatusCode::CONFLICT);

    // 500: the service failed.
    let (status, message) = api_error(c.sync(&SyncJson { direction: "from-peer".into() }).await);
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(message.contains("peer unreachable"), "{message}");

    // Unknown routes and methods also answer with an ErrorJson.
    let r = c.raw(Method::GET, "/v1/nope", None).await.unwrap();
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(error_body(&r.body).contains("/v1/nope"));
    let r = c.raw(Method::DELETE, "/v1/settings", None).await.unwrap();
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(error_body(&r.body).contains("DELETE"));

    // Nothing refused changed anything.
    assert_eq!(c.settings().await.unwrap(), settings);
    assert_eq!(c.interfaces().await.unwrap()[0], eth0);
    served.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_json_is_a_400_naming_the_problem() {
    let served = Served::start().await;
    let c = served.client();
    let before = c.settings().await.unwrap();

    let cases: [(Method, &str, &str, &str); 7] = [
        (Method::PUT, "/v1/settings", "{not json", "key must be a string"),
        (
            Method::PUT,
            "/v1/settings",
            r#"{"disabled": false, "primary": "A", "timeout_ms": 3000}"#,
            "heartbeat_interval_ms",
        ),
        (
            Method::PUT,
            "/v1/settings",
            r#"{"disabled": "no", "primary": "A", "timeout_ms": 3000, "heartbeat_interval_ms": 500}"#,
            "disabled: invalid type",
        ),
        (Method::POST, "/v1/takeover", "", "empty"),
        (Method::PUT, "/v1/interfaces", r#""eth0""#, "invalid type"),
        (Method::POST, "/v1/unlock", r#"{"passphrase": 7}"#, "passphrase: invalid type"),
        (Method::POST, "/v1/sync", r#"{"direction": "to-peer"} trailing"#, "trailing characters"),
    ];
    for (method, path, body, expect) in cases {
        let r = c.raw(method.clone(), path, Some(Bytes::from(body))).await.unwrap();
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{method} {path} {body}");
        let message = error_body(&r.body);
        assert!(message.contains("malformed JSON body"), "{message}");
        assert!(message.contains(expect), "{method} {path}: `{message}` lacks `{expect}`");
    }
    assert_eq!(c.settings().await.unwrap(), before);
    assert_eq!(c.status().await.unwrap().status, "BACKUP");
    served.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn socket_file_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("failoverd.sock");

    // A stale socket from a crashed run is replaced.
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    assert!(socket.exists());
    let (stop, task) = spawn_server(&socket, Arc::new(Fake::new()));
    wait_for_socket(&socket).await;
    let client = ApiClient::new(&socket);
    let mut tries = 0;
    while client.status().await.is_err() {
        tries += 1;
        assert!(tries < 400, "the server never answered on the replaced socket");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);

    // A live socket is not stolen by a second instance.
    let err = serve_unix(&socket, Arc::new(Fake::new()), std::future::pending()).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
    assert!(client.status().await.is_ok());

    // Shutdown removes the socket.
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
    assert!(!socket.exists());

    // A regular file is never replaced.
    std::fs::write(&socket, b"not a socket").unwrap();
    let err = serve_unix(&socket, Arc::new(Fake::new()), std::future::pending()).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
    assert_eq!(std::fs::read(&socket).unwrap(), b"not a socket");
}

async fn tcp_request(addr: std::net::SocketAddr, method: &str, path: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req =
        format!("{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("send");
    let mut answer = String::new();
    s.read_to_string(&mut answer).await.expect("receive");
    answer
}

#[tokio::test(flavor = "multi_thread")]
async fn tcp_listener_is_read_only() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let fake = Arc::new(Fake::new());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve_tcp_listener(listener, fake.clone(), async {
        let _ = stopped.await;
    }));

    let metrics = tcp_request(addr, "GET", "/metrics").await;
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(metrics.contains("failover_epoch 6"), "{metrics}");
    assert!(tcp_request(addr, "GET", "/v1/status").await.starts_with("HTTP/1.1 200"));
    for (method, path) in [("POST", "/v1/giveback"), ("PUT", "/v1/settings"), ("POST", "/v1/unlock")] {
        let answer = tcp_request(addr, method, path).await;
        assert!(answer.starts_with("HTTP/1.1 403"), "{method} {path}: {answer}");
        assert!(answer.contains("read-only"), "{answer}");
    }
    assert!(tcp_request(addr, "GET", "/v1/nope").await.starts_with("HTTP/1.1 404"));
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn failoverctl_status() {
    let served = Served::start().await;

    let o = served.ctl(&["status", "--json"]).await;
    assert_exit(&o, 0);
    let parsed: StatusJson = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(parsed, served.fake.status().await);

    served
        .client()
        .set_settings(&SettingsJson { disabled: true, ..served.fake.settings().await })
        .await
        .unwrap();
    served.client().takeover(&TakeoverJson { force: true }).await.unwrap();
    let o = served.ctl(&["status"]).await;
    assert_exit(&o, 0);
    let text = stdout(&o);
    for expected in [
        "node:           A (nas-a)\n",
        "status:         MASTER (active)\n",
        "epoch:          7\n",
        "peer:           alive, reports BACKUP\n",
        "  host link:    up, last frame 120 ms ago\n",
        "  bmc link:     down, never heard\n",
        "failover:       unavailable:\n",
        "  NO_FAILOVER  failover is disabled by the administrator\n",
        "  NO_BMC_LINK  the BMC path (host to BMC, or BMC to BMC) is silent\n",
        "last failover:  forced at epoch 7\n",
        "  detect -, fence 12.5 ms, import 250.0 ms, total 262.5 ms\n",
        "passphrase:     needed",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    served.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn failoverctl_settings() {
    let served = Served::start().await;

    let o = served.ctl(&["settings", "set", "--timeout-ms", "5"]).await;
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("timeout_ms"), "{}", stderr(&o));
    assert!(stderr(&o).starts_with("failoverctl: invalid request: "), "{}", stderr(&o));
    assert_eq!(served.fake.settings().await.timeout_ms, 3000);

    let o = served
        .ctl(&["settings", "set", "--timeout-ms", "9000", "--primary", "b", "--disabled", "true"])
        .await;
    assert_exit(&o, 0);
    assert!(stdout(&o).contains("failover:       disabled\n"), "{}", stdout(&o));
    let s = served.fake.settings().await;
    assert_eq!(
        (s.timeout_ms, s.primary.as_str(), s.disabled, s.heartbeat_interval_ms),
        (9000, "B", true, 500)
    );

    let o = served.ctl(&["settings", "show", "--json"]).await;
    assert_exit(&o, 0);
    assert_eq!(serde_json::from_str::<SettingsJson>(&stdout(&o)).unwrap(), s);

    // Nothing to change, or a bad value: usage errors, nothing sent.
    assert_exit(&served.ctl(&["settings", "set"]).await, 2);
    assert_exit(&served.ctl(&["settings", "set", "--primary", "C"]).await, 2);
    served.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn failoverctl_interfaces() {
    let served = Served::start().await;

    let o = served.ctl(&["interfaces"]).await;
    assert_exit(&o, 0);
    let text = stdout(&o);
    assert!(text.starts_with(
        "NAME  CRITICAL  GROUP  VHID  ADDRESSES    PEER         VIRTUAL      STATE   CARRIER\n"
    ));
    assert!(
        text.contains("eth0  yes       1      10    10.0.0.2/24  10.0.0.3/24  10.0.0.1/24  BACKUP  yes\n")
    );

    // Refused while failover is enabled: the server's error, exit 1.
    let o = served.ctl(&["interfaces", "set", "eth0", "--vhid", "20"]).await;
    assert_exit(&o, 1);
    assert_eq!(stderr(&o), format!("failoverctl: refused: {EDIT_REFUSED}\n"));
    assert_eq!(served.fake.interfaces().await[0].vhid, Some(10));

    assert_exit(&served.ctl(&["settings", "set", "--disabled", "true"]).await, 0);
    let o = served
        .ctl(&["interfaces", "set", "eth0", "--vhid", "20", "--virtual", "10.0.0.1/24,10.0.0.9/24"])
        .await;
    assert_exit(&o, 0);
    let eth0 = served.fake.interfaces().await.remove(0);
    assert_eq!(eth0.vhid, Some(20));
    assert_eq!(eth0.virtual_addresses, ["10.0.0.1/24", "10.0.0.9/24"]);

    // The service's validation, and the CLI's own.
    let o = served.ctl(&["interfaces", "set", "eth0", "--group", "none"]).await;
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("group"), "{}", stderr(&o));
    assert_exit(&served.ctl(&["interfaces", "set", "eth9", "--vhid", "3"]).await, 2);
    assert_exit(&served.ctl(&["interfaces", "set", "eth0", "--virtual", "10.0.0.1"]).await, 2);

    let o = served.ctl(&["interfaces", "--json"]).await;
    assert_exit(&o, 0);
    assert_eq!(serde_json::from_str::<Vec<InterfaceJson>>(&stdout(&o)).unwrap(), vec![eth0]);
    served.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn failoverctl_actions() {
    let served = Served::start().await;

    let o = served.ctl(&["takeover"]).await;
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "takeover requested\n");
    let o = served.ctl(&["takeover"]).await;
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("already active"), "{}", stderr(&o));
    assert_exit(&served.ctl(&["giveback"]).await, 0);
    assert_eq!(served.fake.status().await.status, "BACKUP");

    let o = served.ctl(&["sync", "to-peer"]).await;
    assert_exit(&o, 0);
    assert!(stderr(&o).contains("troubleshooting"), "{}", stderr(&o));
    let o = served.ctl(&["sync", "from-peer"]).await;
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("failoverctl: failed: sync from peer failed"), "{}", stderr(&o));

    let o = served.ctl(&["network", "set", "--virtual-hostname", "filer"]).await;
    assert_exit(&o, 0);
    assert!(stdout(&o).contains("virtual:        filer"), "{}", stdout(&o));
    let o = served.ctl(&["network", "show", "--json"]).await;
    assert_eq!(serde_json::from_str::<NetworkJson>(&stdout(&o)).unwrap().hostname_virtual, "filer");

    // The passphrase comes from stdin, never argv.
    let o = ctl(Some(&served.socket), &["unlock"], Some("wrong\n")).await;
    assert_exit(&o, 1);
    let o = ctl(Some(&served.socket), &["unlock"], Some(&format!("{PASSPHRASE}\n"))).await;
    assert_exit(&o, 0);
    assert!(!served.fake.status().await.passphrase_needed);
    assert_exit(&ctl(Some(&served.socket), &["unlock"], Some("")).await, 2);

    let o = served.ctl(&["events"]).await;
    assert_exit(&o, 0);
    assert!(stdout(&o).starts_with("0.005s  started\n"), "{}", stdout(&o));
    assert!(stdout(&o).contains("s  pools unlocked\n"), "{}", stdout(&o));
    let o = served.ctl(&["events", "--json"]).await;
    assert_eq!(serde_json::from_str::<Vec<EventJson>>(&stdout(&o)).unwrap(), served.fake.events().await);

    let o = served.ctl(&["metrics"]).await;
    assert_eq!(stdout(&o), "# TYPE failover_epoch gauge\nfailover_epoch 7\n");
    served.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn failoverctl_connection_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nobody-home.sock");
    let o = ctl(Some(&missing), &["status"], None).await;
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("is failoverd running?"), "{err}");

    // The socket from the environment, when --socket is not given.
    let served = Served::start().await;
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_failoverctl"))
        .arg("status")
        .arg("--json")
        .env("FAILOVERCTL_SOCKET", &served.socket)
        .output()
        .await
        .unwrap();
    assert_exit(&o, 0);
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_failoverctl"))
        .arg("status")
        .env("FAILOVERCTL_SOCKET", &served.socket)
        .arg("--socket")
        .arg(&missing)
        .output()
        .await
        .unwrap();
    assert_exit(&o, 2);
    served.stop().await.unwrap();

    // Usage errors are 2 as well.
    assert_exit(&ctl(Some(&missing), &["frobnicate"], None).await, 2);
}
