//! The subcommands.

pub mod enqueue;
pub mod render;
pub mod worker;
