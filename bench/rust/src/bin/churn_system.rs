//! rust.churn on std::alloc::System (glibc malloc): the peer.
#[path = "../churn.rs"]
mod churn;

#[global_allocator]
static ALLOCATOR: std::alloc::System = std::alloc::System;

fn main() {
    churn::run("system");
}
