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
}
