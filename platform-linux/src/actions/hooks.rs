//! Pool import / export hooks: external programs run for one pool on a takeover
//! (`import`) or a demotion (`export`).
//!
//! A hook is run from its configured argv (no shell) in a process group of its own,
//! with the daemon's environment minus any inherited `FAILOVER_*` variable, plus:
//!
//! | variable                    | value                                   |
//! |-----------------------------|-----------------------------------------|
//! | `FAILOVER_ROLE`             | `import` or `export`                    |
//! | `FAILOVER_EPOCH`            | the failover epoch, decimal             |
//! | `FAILOVER_POOL`             | the pool name                           |
//! | `FAILOVER_VIRTUAL_HOSTNAME` | the virtual hostname                    |
//! | `FAILOVER_NODE`             | this controller's node name             |
//!
//! A pool key, when there is one, is written to the hook's stdin, which is then
//! closed; it never appears in argv or the environment (both are readable by other
//! local users through `/proc`). Without a key stdin is `/dev/null`.
//!
//! Each line of stdout / stderr is logged (`tracing`, fields `pool`, `hook`, `stream`;
//! stdout at info, stderr at warn level) and the last [`TAIL_LINES`] lines of each are
//! kept for the outcome and the errors. Lines longer than [`MAX_LINE`] bytes are cut.
//!
//! When the hook outlives its timeout the whole process group is killed (SIGKILL), so
//! children it started die with it. The same happens when the future returned by
//! [`run_hook`] is dropped before the hook finished. After a normal exit, the group is
//! left alone; if some leftover process still holds stdout / stderr open, reading
//! stops [`DRAIN_GRACE`] after the exit.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::Command;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

/// How many of the last lines of each stream are kept.
pub const TAIL_LINES: usize = 20;
/// Longest line kept or logged, in bytes; the rest of the line is dropped.
pub const MAX_LINE: usize = 4096;
/// How long output is still read after the hook exited.
pub const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// Why a hook runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HookRole {
    /// After this controller imported the pool (takeover).
    Import,
    /// Before / while this controller exports the pool (demotion).
    Export,
}

impl HookRole {
    /// `import` or `export`, the value of `FAILOVER_ROLE`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Import => "import",
            Self::Export => "export",
        }
    }
}

impl fmt::Display for HookRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One configured hook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookSpec {
    /// The name used in logs and errors.
    pub name: String,
    /// Program and arguments, run without a shell; `argv[0]` is looked up in `PATH`
    /// when it has no `/`.
    pub argv: Vec<String>,
    /// After this long the hook's process group is killed.
    pub timeout: Duration,
}

/// What the hook is told about the run (its `FAILOVER_*` environment).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookContext {
    /// `FAILOVER_ROLE`.
    pub role: HookRole,
    /// `FAILOVER_EPOCH`.
    pub epoch: u64,
    /// `FAILOVER_POOL`.
    pub pool: String,
    /// `FAILOVER_VIRTUAL_HOSTNAME`.
    pub virtual_hostname: String,
    /// `FAILOVER_NODE`.
    pub node: String,
}

/// A hook that exited with status 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookOutcome {
    /// From spawn to exit.
    pub elapsed: Duration,
    /// The last [`TAIL_LINES`] lines of stdout.
    pub stdout_tail: Vec<String>,
}

/// A hook that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The hook could not be started: missing or non-executable program, empty argv.
    #[error("hook {hook}: cannot start: {source}")]
    Spawn {
        /// The hook's name.
        hook: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The hook ran longer than its timeout; its process group was killed.
    #[error("hook {hook} for pool {pool} timed out after {after:?}; its process group was killed")]
    Timeout {
        /// The hook's name.
        hook: String,
        /// The pool.
        pool: String,
        /// The timeout that expired.
        after: Duration,
    },
    /// The hook exited non-zero or was killed by a signal.
    #[error(
        "hook {hook} for pool {pool} failed ({}){}",
        describe_code(*.code),
        describe_tail(.stderr_tail)
    )]
    Failed {
        /// The hook's name.
        hook: String,
        /// The pool.
        pool: String,
        /// The exit code; `None` when a signal ended it.
        code: Option<i32>,
        /// The last [`TAIL_LINES`] lines of stderr.
        stderr_tail: Vec<String>,
    },
    /// Waiting for the hook failed (should not happen).
    #[error("hook {hook} for pool {pool}: waiting for it failed: {source}")]
    Wait {
        /// The hook's name.
        hook: String,
        /// The pool.
        pool: String,
        /// Why.
        #[source]
        source: io::Error,
    },
}

fn describe_code(code: Option<i32>) -> String {
    match code {
        Some(code) => format!("exit code {code}"),
        None => "killed by a signal".to_owned(),
    }
}

fn describe_tail(tail: &[String]) -> String {
    if tail.is_empty() { String::new() } else { format!(": {}", tail.join(" | ")) }
}

/// The last lines of one stream, shared between its reader task and [`run_hook`].
type Tail = Arc<Mutex<VecDeque<String>>>;

fn tail_lines(tail: &Tail) -> Vec<String> {
    tail.lock().unwrap_or_else(PoisonError::into_inner).iter().cloned().collect()
}

/// Kills the hook's process group when dropped, unless disarmed: covers the timeout
/// and a caller that drops the [`run_hook`] future half-way.
struct GroupKiller {
    pgid: Option<Pid>,
}

impl GroupKiller {
    fn kill(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            match killpg(pgid, Signal::SIGKILL) {
                Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
                Err(e) => warn!(pgid = pgid.as_raw(), error = %e, "cannot kill hook process group"),
            }
        }
    }

    fn disarm(&mut self) {
        self.pgid = None;
    }
}

impl Drop for GroupKiller {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `spec` for `ctx`, feeding `secret` (a pool key) on stdin when given.
///
/// Succeeds when the hook exits with status 0 within `spec.timeout`.
pub async fn run_hook(
    spec: &HookSpec,
    ctx: &HookContext,
    secret: Option<&[u8]>,
) -> Result<HookOutcome, HookError> {
    let hook = spec.name.clone();
    let pool = ctx.pool.clone();
    let Some((program, args)) = spec.argv.split_first() else {
        return Err(HookError::Spawn {
            hook,
            source: io::Error::new(io::ErrorKind::InvalidInput, "empty argv"),
        });
    };

    let mut command = Command::new(program);
    command.args(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FAILOVER_") {
            command.env_remove(key);
        }
    }
    command
        .env("FAILOVER_ROLE", ctx.role.as_str())
        .env("FAILOVER_EPOCH", ctx.epoch.to_string())
        .env("FAILOVER_POOL", &ctx.pool)
        .env("FAILOVER_VIRTUAL_HOSTNAME", &ctx.virtual_hostname)
        .env("FAILOVER_NODE", &ctx.node)
        .stdin(if secret.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);

    let started = Instant::now();
    let mut child = command.spawn().map_err(|source| HookError::Spawn { hook: hook.clone(), source })?;
    // The child leads its own group (process_group(0)): its pid is the group id.
    let mut killer =
        GroupKiller { pgid: child.id().and_then(|id| i32::try_from(id).ok()).map(Pid::from_raw) };
    info!(%pool, %hook, role = %ctx.role, epoch = ctx.epoch, pid = ?child.id(), "hook started");

    let stdout_tail = Tail::default();
    let stderr_tail = Tail::default();
    let mut readers: Vec<JoinHandle<()>> = Vec::with_capacity(2);
    if let Some(out) = child.stdout.take() {
        readers.push(spawn_reader(out, "stdout", &hook, &pool, &stdout_tail));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(spawn_reader(err, "stderr", &hook, &pool, &stderr_tail));
    }
    let stdin = child.stdin.take();

    let run = async {
        let feed = async {
            if let (Some(mut stdin), Some(secret)) = (stdin, secret) {
                // A hook that exits without reading its key makes this fail (EPIPE);
                // that is the hook's business, its exit status tells.
                if let Err(e) = stdin.write_all(secret).await {
                    debug!(%pool, %hook, error = %e, "hook did not take its key");
                }
                // Dropping stdin closes it: the hook sees the end of the key.
            }
        };
        let ((), status) = tokio::join!(feed, child.wait());
        status
    };

    let result = tokio::time::timeout(spec.timeout, run).await;
    let status: io::Result<ExitStatus> = match result {
        Ok(status) => status,
        Err(_elapsed) => {
            killer.kill();
            let _ = child.wait().await;
            finish_readers(readers, &hook, &pool).await;
            warn!(%pool, %hook, after = ?spec.timeout, "hook timed out; process group killed");
            return Err(HookError::Timeout { hook, pool, after: spec.timeout });
        }
    };
    let elapsed = started.elapsed();
    let status = match status {
        Ok(status) => {
            // Reaped: the group id may be reused from now on, never signal it again.
            killer.disarm();
            status
        }
        Err(source) => {
            killer.kill();
            finish_readers(readers, &hook, &pool).await;
            return Err(HookError::Wait { hook, pool, source });
        }
    };
    finish_readers(readers, &hook, &pool).await;

    if status.success() {
        info!(%pool, %hook, ?elapsed, "hook succeeded");
        Ok(HookOutcome { elapsed, stdout_tail: tail_lines(&stdout_tail) })
    } else {
        let code = status.code();
        warn!(%pool, %hook, ?elapsed, %status, "hook failed");
        Err(HookError::Failed { hook, pool, code, stderr_tail: tail_lines(&stderr_tail) })
    }
}

/// Lets the readers drain for [`DRAIN_GRACE`], then stops them.
async fn finish_readers(readers: Vec<JoinHandle<()>>, hook: &str, pool: &str) {
    let deadline = tokio::time::Instant::now() + DRAIN_GRACE;
    for mut reader in readers {
        if tokio::time::timeout_at(deadline, &mut reader).await.is_err() {
            warn!(%pool, %hook, "a process left behind by the hook holds its output open; no longer reading it");
            reader.abort();
        }
    }
}

fn spawn_reader<R>(stream: R, name: &'static str, hook: &str, pool: &str, tail: &Tail) -> JoinHandle<()>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    let hook = hook.to_owned();
    let pool = pool.to_owned();
    let tail = Arc::clone(tail);
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream);
        let mut line: Vec<u8> = Vec::new();
        let mut cut = false;
        loop {
            let buf = match reader.fill_buf().await {
                Ok(buf) => buf,
                Err(e) => {
                    warn!(%pool, %hook, stream = name, error = %e, "cannot read hook output");
                    break;
                }
            };
            if buf.is_empty() {
                if !line.is_empty() {
                    emit(&line, cut, name, &hook, &pool, &tail);
                }
                break;
            }
            let (chunk, consumed, complete) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (&buf[..i], i + 1, true),
                None => (buf, buf.len(), false),
            };
            let room = MAX_LINE.saturating_sub(line.len());
            if chunk.len() > room {
                cut = true;
            }
            line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            reader.consume(consumed);
            if complete {
                emit(&line, cut, name, &hook, &pool, &tail);
                line.clear();
                cut = false;
            }
        }
    })
}

fn emit(line: &[u8], cut: bool, stream: &'static str, hook: &str, pool: &str, tail: &Tail) {
    let mut text = String::from_utf8_lossy(line).into_owned();
    if text.ends_with('\r') {
        text.pop();
    }
    if cut {
        text.push_str(" [...]");
    }
    if stream == "stderr" {
        warn!(%pool, %hook, stream, "{text}");
    } else {
        info!(%pool, %hook, stream, "{text}");
    }
    let mut tail = tail.lock().unwrap_or_else(PoisonError::into_inner);
    if tail.len() == TAIL_LINES {
        tail.pop_front();
    }
    tail.push_back(text);
}

#[cfg(test)]
mod tests;
