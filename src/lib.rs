//! kraftd: the shared library behind `kraft-install` and the `kraftd` daemon.
//!
//! One folder (or file) per subsystem; each module's first line says what it owns.

pub mod cluster_id;
pub mod config;
pub mod daemon;
pub mod dist;
pub mod exit;
pub mod fsutil;
pub mod install_lock;
pub mod installed;
pub mod java;
pub mod jvm;
pub mod kafka;
pub mod net;
pub mod ops;
pub mod render;
pub mod storage;
pub mod tools;

pub use cluster_id::ClusterId;
pub use config::{Layout, Settings};
pub use dist::{KafkaDist, KafkaVersion};
