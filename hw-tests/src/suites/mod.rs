//! The suites the runner knows.

pub mod model;
pub mod sim;
