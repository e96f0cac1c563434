//! The subcommands.

pub mod demo;
pub mod enqueue;
pub mod render;
pub mod test;
pub mod worker;
