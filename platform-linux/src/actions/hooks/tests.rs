//! Hook tests: real `sh` processes, each test with its own temporary directory.

use super::*;

use std::path::Path;

const KEY: &[u8] = b"k3y-material-7f1c9a-not-in-argv";

fn ctx() -> HookContext {
    HookContext {
        role: HookRole::Import,
        epoch: 42,
        pool: "tank".to_owned(),
        virtual_hostname: "nas-virtual".to_owned(),
        node: "A".to_owned(),
    }
}

/// `sh -c script hook args...`: `$1`... are `args`.
fn sh(script: &str, args: &[&Path], timeout: Duration) -> HookSpec {
    let mut argv = vec!["sh".to_owned(), "-c".to_owned(), script.to_owned(), "hook".to_owned()];
    argv.extend(args.iter().map(|p| p.display().to_string()));
    HookSpec { name: "test-hook".to_owned(), argv, timeout }
}

fn read_pid(path: &Path) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(s) = std::fs::read_to_string(path)
            && let Ok(pid) = s.trim().parse()
        {
            return pid;
        }
        assert!(Instant::now() < deadline, "no pid in {}", path.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `(state, pgrp)` of a process, from `/proc/<pid>/stat`.
fn stat(pid: i32) -> Option<(char, i32)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid pgrp ...": comm may contain spaces, cut at the last ')'.
    let (_, rest) = s.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}

/// Running (not zombie) processes of process group `pgid`.
fn live_members(pgid: i32) -> Vec<i32> {
    let mut live = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if let Some((state, pgrp)) = stat(pid)
            && pgrp == pgid
            && state != 'Z'
        {
            live.push(pid);
        }
    }
    live
}

fn is_live(pid: i32) -> bool {
    stat(pid).is_some_and(|(state, _)| state != 'Z')
}

/// Waits (a little) for the group to be gone: SIGKILL is asynchronous.
fn assert_group_gone(pgid: i32) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let live = live_members(pgid);
        if live.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "processes of group {pgid} survive: {live:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn environment_is_visible_to_the_hook() {
    let spec = sh(
        r#"echo "role=$FAILOVER_ROLE"
           echo "epoch=$FAILOVER_EPOCH"
           echo "pool=$FAILOVER_POOL"
           echo "vhost=$FAILOVER_VIRTUAL_HOSTNAME"
           echo "node=$FAILOVER_NODE"
           echo "stdin=$(readlink /proc/$$/fd/0)"
           echo "stdin-bytes=$(wc -c)""#,
        &[],
        Duration::from_secs(10),
    );
    let out = run_hook(&spec, &ctx(), None).await.expect("hook succeeds");
    assert_eq!(
        out.stdout_tail,
        [
            "role=import",
            "epoch=42",
            "pool=tank",
            "vhost=nas-virtual",
            "node=A",
            "stdin=/dev/null",
            "stdin-bytes=0",
        ]
    );
    assert!(out.elapsed < Duration::from_secs(10));

    let export = HookContext { role: HookRole::Export, ..ctx() };
    let out = run_hook(&sh("echo $FAILOVER_ROLE", &[], Duration::from_secs(10)), &export, None)
        .await
        .expect("hook succeeds");
    assert_eq!(out.stdout_tail, ["export"]);
}

#[tokio::test]
async fn key_arrives_on_stdin_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report");
    // The key is not in this script (the script is argv); the hook reads it from
    // stdin and looks for it in its own argv and environment.
    let spec = sh(
        r#"key=$(cat)
           {
             echo "got=$key"
             if tr '\0' '\n' < /proc/$$/cmdline | grep -qF -e "$key"; then echo argv=leaked; else echo argv=clean; fi
             if tr '\0' '\n' < /proc/$$/environ | grep -qF -e "$key"; then echo environ=leaked; else echo environ=clean; fi
             if env | grep -qF -e "$key"; then echo env=leaked; else echo env=clean; fi
             if tr '\0' '\n' < /proc/self/cmdline | grep -qF -e "$key"; then echo self=leaked; else echo self=clean; fi
           } > "$1""#,
        &[&report],
        Duration::from_secs(10),
    );
    run_hook(&spec, &ctx(), Some(KEY)).await.expect("hook succeeds");
    let report = std::fs::read_to_string(&report).expect("report");
    let key = std::str::from_utf8(KEY).expect("ascii key");
    assert_eq!(
        report.lines().collect::<Vec<_>>(),
        [format!("got={key}").as_str(), "argv=clean", "environ=clean", "env=clean", "self=clean"]
    );
    assert!(spec.argv.iter().all(|a| !a.contains(key)));
}

#[tokio::test]
async fn a_hook_that_ignores_its_key_still_runs() {
    let out = run_hook(&sh("echo ok", &[], Duration::from_secs(10)), &ctx(), Some(KEY))
        .await
        .expect("hook succeeds");
    assert_eq!(out.stdout_tail, ["ok"]);
    // A big key the hook never reads: the write fails with EPIPE, harmlessly.
    let big = vec![b'x'; 1 << 20];
    let out = run_hook(&sh("echo ok", &[], Duration::from_secs(10)), &ctx(), Some(&big))
        .await
        .expect("hook succeeds");
    assert_eq!(out.stdout_tail, ["ok"]);
}

#[tokio::test]
async fn timeout_kills_the_hook() {
    let spec = HookSpec {
        name: "sleeper".to_owned(),
        argv: vec!["sleep".to_owned(), "30".to_owned()],
        timeout: Duration::from_millis(300),
    };
    let started = Instant::now();
    let err = run_hook(&spec, &ctx(), None).await.expect_err("times out");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    match &err {
        HookError::Timeout { hook, pool, after } => {
            assert_eq!(hook, "sleeper");
            assert_eq!(pool, "tank");
            assert_eq!(*after, Duration::from_millis(300));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    let s = err.to_string();
    assert!(s.contains("sleeper") && s.contains("tank") && s.contains("timed out"), "{s}");
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let leader = dir.path().join("leader");
    let background = dir.path().join("background");
    let spec = sh(
        r#"echo $$ > "$1"; sleep 30 & echo $! > "$2"; sleep 30"#,
        &[&leader, &background],
        Duration::from_millis(500),
    );
    let err = run_hook(&spec, &ctx(), None).await.expect_err("times out");
    assert!(matches!(err, HookError::Timeout { .. }), "{err:?}");
    let leader = read_pid(&leader);
    let background = read_pid(&background);
    assert_group_gone(leader);
    assert!(!is_live(leader), "the hook survives");
    assert!(!is_live(background), "its background child survives");
}

#[tokio::test]
async fn dropping_the_future_kills_the_process_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let leader = dir.path().join("leader");
    let spec = sh(r#"echo $$ > "$1"; sleep 30 & sleep 30"#, &[&leader], Duration::from_secs(60));
    let context = ctx();
    let cancelled = tokio::time::timeout(Duration::from_millis(500), run_hook(&spec, &context, None)).await;
    assert!(cancelled.is_err(), "still running when dropped");
    let leader = read_pid(&leader);
    assert_group_gone(leader);
}

#[tokio::test]
async fn nonzero_exit_reports_code_and_stderr_tail() {
    let spec = sh(
        "echo progress; echo first problem >&2; echo second problem >&2; exit 7",
        &[],
        Duration::from_secs(10),
    );
    let err = run_hook(&spec, &ctx(), None).await.expect_err("fails");
    match &err {
        HookError::Failed { hook, pool, code, stderr_tail } => {
            assert_eq!(hook, "test-hook");
            assert_eq!(pool, "tank");
            assert_eq!(*code, Some(7));
            assert_eq!(stderr_tail, &["first problem", "second problem"]);
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    let s = err.to_string();
    assert!(s.contains("exit code 7") && s.contains("second problem"), "{s}");

    let err =
        run_hook(&sh("kill -9 $$", &[], Duration::from_secs(10)), &ctx(), None).await.expect_err("killed");
    assert!(matches!(err, HookError::Failed { code: None, .. }), "{err:?}");
    assert!(err.to_string().contains("signal"), "{err}");
}

#[tokio::test]
async fn missing_executable_is_a_spawn_error() {
    let spec = HookSpec {
        name: "ghost".to_owned(),
        argv: vec!["/nonexistent/fo-hook-ghost".to_owned(), "--import".to_owned()],
        timeout: Duration::from_secs(5),
    };
    let err = run_hook(&spec, &ctx(), None).await.expect_err("no such program");
    match &err {
        HookError::Spawn { hook, source } => {
            assert_eq!(hook, "ghost");
            assert_eq!(source.kind(), io::ErrorKind::NotFound);
        }
        other => panic!("expected a spawn error, got {other:?}"),
    }
    assert!(err.to_string().contains("ghost"));

    let empty = HookSpec { argv: Vec::new(), ..spec };
    let err = run_hook(&empty, &ctx(), None).await.expect_err("empty argv");
    assert!(
        matches!(&err, HookError::Spawn { source, .. } if source.kind() == io::ErrorKind::InvalidInput),
        "{err:?}"
    );
}

#[tokio::test]
async fn output_tail_keeps_the_last_lines_and_cuts_long_ones() {
    let spec = sh(
        r#"i=1; while [ $i -le 50 ]; do echo "line $i"; i=$((i+1)); done
           printf 'partial'"#,
        &[],
        Duration::from_secs(10),
    );
    let out = run_hook(&spec, &ctx(), None).await.expect("succeeds");
    assert_eq!(out.stdout_tail.len(), TAIL_LINES);
    assert_eq!(out.stdout_tail[0], "line 32");
    assert_eq!(out.stdout_tail[TAIL_LINES - 2], "line 50");
    assert_eq!(out.stdout_tail[TAIL_LINES - 1], "partial", "an unterminated last line counts");

    let spec = sh(r#"head -c 10000 /dev/zero | tr '\0' 'a'; echo; echo after"#, &[], Duration::from_secs(10));
    let out = run_hook(&spec, &ctx(), None).await.expect("succeeds");
    assert_eq!(out.stdout_tail.len(), 2);
    assert!(out.stdout_tail[0].starts_with(&"a".repeat(MAX_LINE)));
    assert!(out.stdout_tail[0].ends_with(" [...]"));
    assert_eq!(out.stdout_tail[0].len(), MAX_LINE + " [...]".len());
    assert_eq!(out.stdout_tail[1], "after");
}

#[tokio::test]
async fn a_leftover_process_holding_output_does_not_block() {
    let dir = tempfile::tempdir().expect("tempdir");
    let background = dir.path().join("background");
    let spec = sh(r#"sleep 20 & echo $! > "$1"; echo done"#, &[&background], Duration::from_secs(10));
    let started = Instant::now();
    let out = run_hook(&spec, &ctx(), None).await.expect("succeeds");
    assert!(started.elapsed() < DRAIN_GRACE + Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(out.stdout_tail, ["done"]);
    // After a normal exit the group is left alone; clean up after the test.
    let pid = read_pid(&background);
    assert!(is_live(pid), "a normal exit does not kill the group");
    let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
}
