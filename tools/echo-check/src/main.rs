//! TCP echo integrity check for the tests and benchmarks: K clients at
//! once each send N bytes of seeded pseudo-random data to an echo server
//! while reading the echo back, compare every byte, half-close, and wait
//! for the server's clean close. Prints one summary line with the aggregate
//! rate; exits 0 only if every client got every byte back exactly.
//!
//! ```text
//! echo-check HOST [--port 7] [--bytes N] [--clients K] [--seed S] [--deadline SECONDS]
//! ```
mod client;
mod options;
mod pattern;

use options::Options;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("echo-check: {message}\n{}", options::USAGE);
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    let deadline = start + options.deadline;
    let (done, results) = mpsc::channel();
    for index in 0..options.clients {
        let done = done.clone();
        let options = options.clone();
        std::thread::spawn(move || {
            let outcome = client::run(&options, index, deadline);
            let _ = done.send((index, outcome));
        });
    }
    drop(done);
    let mut failures: Vec<(usize, String)> = Vec::new();
    let mut finished = vec![false; options.clients];
    while finished.iter().any(|f| !f) {
        let left = deadline.saturating_duration_since(Instant::now());
        match results.recv_timeout(left.max(Duration::from_millis(1))) {
            Ok((index, outcome)) => {
                finished[index] = true;
                if let Err(e) = outcome {
                    failures.push((index, e));
                }
            }
            Err(_) => break,
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    for (index, _) in finished.iter().enumerate().filter(|(_, f)| !**f) {
        failures.push((index, format!("did not finish in {} s", options.deadline.as_secs_f64())));
    }
    failures.sort();
    let total = options.bytes as f64 * options.clients as f64;
    let rate = if elapsed > 0.0 { total / elapsed / 1e6 } else { 0.0 };
    let mut line = format!(
        "tcp echo: {} of {} clients x {} bytes intact, {elapsed:.2} s, {rate:.1} MB/s each way",
        options.clients - failures.len(),
        options.clients,
        options.bytes
    );
    if !failures.is_empty() {
        let shown: Vec<String> = failures.iter().take(3).map(|(i, e)| format!("client {i}: {e}")).collect();
        line += &format!("; failures: {}", shown.join("; "));
    }
    println!("{line}");
    // Threads still blocked in a socket call end with the process.
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
