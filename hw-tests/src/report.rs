//! Case results and the closing `N passed, N failed` line every suite prints.

use std::time::Duration;

/// The outcome of one case.
#[derive(Debug)]
pub struct CaseResult {
    /// The case's name, `suite/case`.
    pub name: String,
    /// `Ok(detail)` or `Err(reason)`.
    pub outcome: Result<String, String>,
    /// Wall time the case took.
    pub elapsed: Duration,
}

/// Run one case's body, turning a panic into a failure that says so: one broken case
/// must not end a suite, nor leave its rig (namespaces, daemons, VMs) behind.
pub fn guarded<T>(body: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        let msg = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        Err(format!("panicked: {msg}"))
    })
}

/// Tally of a run.
#[derive(Debug, Default)]
pub struct Tally {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
}

impl Tally {
    /// Print one case's line and count it.
    pub fn record(&mut self, r: &CaseResult) {
        let ms = r.elapsed.as_secs_f64() * 1e3;
        match &r.outcome {
            Ok(detail) => {
                self.passed += 1;
                println!("PASS {} ({ms:.0} ms) {detail}", r.name);
            }
            Err(reason) => {
                self.failed += 1;
                println!("FAIL {} ({ms:.0} ms) {reason}", r.name);
            }
        }
    }

    /// The closing line.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_counts_and_summarises() {
        let mut t = Tally::default();
        t.record(&CaseResult { name: "a/b".into(), outcome: Ok(String::new()), elapsed: Duration::ZERO });
        t.record(&CaseResult { name: "a/c".into(), outcome: Err("no".into()), elapsed: Duration::ZERO });
        assert_eq!(t.summary(), "1 passed, 1 failed");
    }

    #[test]
    fn a_panicking_case_is_a_failure_that_says_so() {
        assert_eq!(guarded(|| Ok::<_, String>(3)), Ok(3));
        assert_eq!(guarded::<()>(|| Err("no".into())), Err("no".to_owned()));
        assert_eq!(guarded::<()>(|| panic!("boom {}", 1)), Err("panicked: boom 1".to_owned()));
    }
}
