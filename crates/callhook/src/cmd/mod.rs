//! The subcommands.

pub mod render;
