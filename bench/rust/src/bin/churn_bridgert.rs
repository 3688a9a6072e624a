//! rust.churn with every Rust allocation on bridgert::Allocator.
#[path = "../churn.rs"]
mod churn;

#[global_allocator]
static ALLOCATOR: bridgert::Allocator = bridgert::Allocator;

fn main() {
    churn::run("bridgert");
}
