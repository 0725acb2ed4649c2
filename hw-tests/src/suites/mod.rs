//! The suites the runner knows.

pub mod model;
pub mod netns;
pub mod rig;
pub mod shared_toml;
pub mod sim;
pub mod ui;
