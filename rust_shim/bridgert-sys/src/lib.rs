//! Raw FFI declarations of the bridgert C ABI, one module per public header,
//! under the C names (`brt_alloc`, `brt_mem_stats`, `BRT_E_OUT_OF_RANGE`).
//!
//! Everything here is `unsafe` to call and follows the C contract described in
//! the headers (`abi/include/bridgert/*.h`) and docs/abi.md. The safe API is the
//! `bridgert` crate. C enums are declared as `c_uint` type aliases with one
//! constant per value (what the C compiler uses for an enum without negative
//! values), so a value unknown to these declarations — from a newer library —
//! is still a valid Rust value rather than undefined behaviour.
//!
//! `tests/layout.rs` checks these declarations against the C headers: sizes,
//! alignments and field offsets of every struct, the value of every enum
//! constant (measured by a C program that meson builds), and that every
//! `BRT_API` function of the headers is declared here.
#![no_std]
#![deny(missing_docs)]
#![allow(non_camel_case_types)]

mod config;
mod error;
mod memory;
mod monitor;
mod runtime;
mod status;
mod value;
mod version;

pub use config::*;
pub use error::*;
pub use memory::*;
pub use monitor::*;
pub use runtime::*;
pub use status::*;
pub use value::*;
pub use version::*;
