//! bridgert for Rust: the safe API over the C core (`bridgert-sys`).
//!
//! - [`Error`], [`Status`], [`Origin`], [`Result`]: the error model. Every
//!   failing call returns `Err(Error)` with the full C record (status,
//!   message, origin, C++ exception type, OS code, cause).
//! - [`catch_panic`], [`status_boundary`]: nothing unwinds into C.
//! - [`Config`]: configuration in code, from JSON and the environment.
//! - [`Allocator`]: Rust's global allocator on the shared allocator.
//! - [`Block`], [`Buffer`], [`mem_stats`]: managed blocks any language may
//!   hold, and the allocator's statistics by heap type.
//! - [`Value`], [`Schema`]: the value model, JSON and validation; tensors
//!   that share a `Block` without copying.
//! - [`Runtime`], [`Prepared`]: plugins, the algorithm registry and typed
//!   native calls whose signature is checked before anything runs.
//!
//! See docs/rust.md for a guided tour and which types are `Send`/`Sync`.
#![deny(missing_docs)]
mod alloc;
mod block;
mod config;
#[cfg(feature = "cxx")]
mod cxx_bridge;
mod error;
mod native;
mod panic;
mod runtime;
mod stats;
mod status;
mod value;
mod version;

pub use alloc::Allocator;
pub use block::{block_info, Block, BlockInfo, Buffer, MemType};
pub use bridgert_sys as sys;
pub use config::{Config, Isolation, Tracking};
pub use error::{Causes, Error, Result};
pub use native::{signature_of, NativeArg, NativeArgs, NativeRet, Prepared, TypedFn};
pub use panic::{catch_panic, panic_error, panic_message, status_boundary};
pub use runtime::{AlgorithmInfo, Format, Health, HealthLevel, Runtime};
pub use stats::{
    collect, mem_stats, set_memory_limit, size_classes, try_mem_stats, visit_live, with_budget, BudgetReport,
    ClassStats, MemStats,
};
pub use status::{Origin, Status};
pub use value::{Dtype, Kind, Schema, TensorElement, TensorInfo, Value};
pub use version::{check_abi, version, version_string};
