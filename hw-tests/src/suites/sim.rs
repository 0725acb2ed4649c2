//! The `sim` suite (placeholder until the seeded simulation lands in this file).
use crate::report::CaseResult;

/// Options of the seeded simulation.
#[derive(Clone, Copy, Debug)]
pub struct SimOpts {
    /// Seeds to run.
    pub seeds: u64,
    /// Replay only this seed, with its trace.
    pub seed: Option<u64>,
}

/// Run the simulation.
pub fn run(_opts: SimOpts) -> Vec<CaseResult> {
    Vec::new()
}
