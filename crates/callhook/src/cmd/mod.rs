//! The subcommands.

pub mod api;
pub mod demo;
pub mod enqueue;
pub mod logs;
pub mod render;
pub mod retry;
pub mod test;
pub mod worker;
