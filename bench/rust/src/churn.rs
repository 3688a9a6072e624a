//! The rust.churn workload and the measuring loop, shared by both subjects.
//!
//! One op is one step of a mixed churn over a steady working set: insert or
//! replace a formatted String in a HashMap, remove one, build a Vec<u64> of
//! 0..63 values into a ring of 1024 slots (freeing the one it replaces), or
//! grow a String by appends (reallocations). The random choices come from a
//! fixed xorshift seed, so both subjects run exactly the same sequence.
//! Output is the line format of bench/support/bench.h: the median of the
//! repetitions (BENCH_REPS, at least 5, default 7) after one warm-up run.
use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

const OPS: u64 = 1_000_000;
const RING_SLOTS: usize = 1024;
const KEYS: u64 = 4096;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Runs `ops` steps and returns the elapsed nanoseconds.
fn churn(ops: u64) -> f64 {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut map: HashMap<u64, String> = HashMap::new();
    let mut ring: Vec<Vec<u64>> = Vec::new();
    let start = Instant::now();
    for i in 0..ops {
        let r = rng.next();
        match r % 4 {
            0 => {
                map.insert(r % KEYS, format!("value {i} {r:x}"));
            }
            1 => {
                map.remove(&((r >> 8) % KEYS));
            }
            2 => {
                let values: Vec<u64> = (0..(r >> 16) % 64).collect();
                let slot = ((r >> 24) as usize) % RING_SLOTS;
                if ring.len() < RING_SLOTS {
                    ring.push(values);
                } else {
                    ring[slot] = values;
                }
            }
            _ => {
                let mut text = String::new();
                for _ in 0..(r >> 32) % 24 {
                    text.push_str("abc");
                }
                black_box(&text);
            }
        }
    }
    drop(black_box(map));
    drop(black_box(ring));
    start.elapsed().as_nanos() as f64
}

fn reps() -> usize {
    let reps = std::env::var("BENCH_REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(7);
    reps.clamp(5, 31)
}

/// Measures the workload and prints `subject`'s JSON line.
pub fn run(subject: &str) {
    churn(OPS / 10); // warm-up
    let mut samples: Vec<f64> = (0..reps()).map(|_| churn(OPS) / OPS as f64).collect();
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    let median = if n % 2 == 1 { samples[n / 2] } else { (samples[n / 2 - 1] + samples[n / 2]) / 2.0 };
    println!(
        "{{\"bench\":\"rust.churn\",\"subject\":\"{subject}\",\"ns_per_op\":{median:.3},\"reps\":{n},\"min\":{:.3},\"max\":{:.3},\"ops\":{OPS}}}",
        samples[0],
        samples[n - 1]
    );
}
