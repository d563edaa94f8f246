//! Internet checksum throughput: the word-at-a-time implementation in
//! `net::wire::checksum` against a byte-pair baseline, on 64 B, 1500 B and
//! 64 KiB buffers, measured in the same run.
//!
//! Run with `cargo bench -p net --bench checksum`. Each figure is the best
//! of several timed rounds of a calibrated batch, so the whole run takes
//! about one to two seconds.

use std::hint::black_box;
use std::time::{Duration, Instant};

use net::wire::checksum;

/// The straightforward RFC 1071 loop: big-endian byte pairs summed into a
/// u32, carries folded at the end.
fn baseline(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut pairs = data.chunks_exact(2);
    for pair in &mut pairs {
        sum += u32::from(u16::from_be_bytes([pair[0], pair[1]]));
    }
    if let [last] = pairs.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Bytes per second of `f` over `buf`: calibrate a batch that takes about
/// `round`, then keep the best of `rounds` timed batches.
fn throughput(buf: &[u8], f: fn(&[u8]) -> u16, round: Duration, rounds: u32) -> f64 {
    let mut batch: u64 = 1;
    loop {
        let start = Instant::now();
        for _ in 0..batch {
            black_box(f(black_box(buf)));
        }
        if start.elapsed() >= round / 4 {
            break;
        }
        batch *= 2;
    }
    let mut best = Duration::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..batch {
            black_box(f(black_box(buf)));
        }
        best = best.min(start.elapsed());
    }
    (buf.len() as u64 * batch) as f64 / best.as_secs_f64()
}

fn main() {
    // A fixed pseudo-random fill (xorshift) so both sides sum the same data.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let data: Vec<u8> = (0..65536 + 1)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();

    let round = Duration::from_millis(10);
    let rounds = 15;
    println!("checksum throughput (best of {rounds} rounds, same data for both)");
    println!("{:>8}  {:>14}  {:>14}  {:>6}", "size", "fast", "byte-pair", "ratio");
    for size in [64usize, 1500, 65536] {
        let buf = &data[..size];
        assert_eq!(checksum::data(buf), baseline(buf));
        let fast = throughput(buf, checksum::data, round, rounds);
        let base = throughput(buf, baseline, round, rounds);
        println!("{:>8}  {:>9.2} GB/s  {:>9.2} GB/s  {:>5.2}x", size, fast / 1e9, base / 1e9, fast / base);
    }
    // An odd offset and length: the fast path must not depend on alignment.
    let buf = &data[1..1501];
    assert_eq!(checksum::data(buf), baseline(buf));
    let fast = throughput(buf, checksum::data, round, rounds);
    let base = throughput(buf, baseline, round, rounds);
    println!("{:>8}  {:>9.2} GB/s  {:>9.2} GB/s  {:>5.2}x  (offset 1)", 1500, fast / 1e9, base / 1e9, fast / base);
}
