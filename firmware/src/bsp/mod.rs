//! Board support: one module per board; exactly one is selected by a cargo feature.

#[cfg(feature = "board-ast1030-evb")]
pub(crate) mod ast1030_evb;
#[cfg(feature = "board-ast1030-evb")]
pub(crate) use ast1030_evb as board;

#[cfg(not(feature = "board-ast1030-evb"))]
compile_error!("select a board with a `board-*` feature (only `board-ast1030-evb` exists)");
