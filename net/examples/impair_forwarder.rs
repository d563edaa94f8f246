//! An impairing forwarder: bridges two links frame by frame through a
//! seeded `FaultInjector`, so tests get loss, duplication, reordering,
//! corruption, delay and a bandwidth cap on a path this machine's kernel
//! cannot impair (no netem).
//!
//! Modes (see qemu/README.md for the topology):
//! - `--udp-local ADDR --udp-remote ADDR --tap NAME`: a QEMU guest's
//!   `-netdev dgram` socket on one side, a TAP (the Linux side) on the other.
//! - `--tap-a NAME --tap-b NAME`: two TAP interfaces (host-only tests).
//!
//! Faults (same for both directions; probabilities in parts per million):
//! `--seed N --loss PPM --dup PPM --reorder PPM --corrupt PPM --delay-us N
//! --rate-bytes-per-s N`.
//!
//! `--pcap FILE` records the frames on the second side (the TAP in the
//! first mode, `--tap-b` in the second) as they cross it, i.e. after the
//! faults towards it and before the faults away from it.
//!
//! Stopping: after `--duration-s N`, when `--stop-file PATH` exists, or with
//! `--stop-on-stdin-eof` when standard input closes. Counters are printed
//! every `--stats-s N` seconds (default 5, 0 for never) and at the end; a
//! signal ends the process without the final line, so scripts should stop
//! it with the stop file.

use std::fs::File;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant as StdInstant};

use net::phy::{
    wait_readable, Device, FaultConfig, FaultCounters, FaultInjector, PcapWriter, RateLimit, RxToken, TapDevice,
    TxToken, UdpLink,
};
use net::time::{Duration, Instant};

/// Frames each direction's fault queue holds.
const QUEUE_FRAMES: usize = 512;
/// Longest sleep between checks of the stop conditions.
const MAX_SLEEP: StdDuration = StdDuration::from_millis(100);

enum Sides {
    UdpTap { local: SocketAddr, remote: SocketAddr, tap: String },
    TapTap { a: String, b: String },
}

struct Options {
    sides: Sides,
    seed: u64,
    faults: FaultConfig,
    duration: Option<StdDuration>,
    stop_file: Option<PathBuf>,
    stop_on_stdin_eof: bool,
    stats_every: Option<StdDuration>,
    pcap: Option<PathBuf>,
}

const USAGE: &str =
    "usage: impair_forwarder (--udp-local ADDR --udp-remote ADDR --tap NAME | --tap-a NAME --tap-b NAME)
    [--seed N] [--loss PPM] [--dup PPM] [--reorder PPM] [--corrupt PPM] [--delay-us N]
    [--rate-bytes-per-s N] [--duration-s N] [--stop-file PATH] [--stop-on-stdin-eof] [--stats-s N]
    [--pcap FILE]";

fn parse_args() -> Result<Options, String> {
    fn num<T: std::str::FromStr>(flag: &str, v: String) -> Result<T, String> {
        v.parse().map_err(|_| format!("{flag}: not a number: {v}"))
    }
    let (mut udp_local, mut udp_remote, mut tap, mut tap_a, mut tap_b) = (None, None, None, None, None);
    let mut opts = Options {
        sides: Sides::TapTap { a: String::new(), b: String::new() },
        seed: 1,
        faults: FaultConfig::clean(),
        duration: None,
        stop_file: None,
        stop_on_stdin_eof: false,
        stats_every: Some(StdDuration::from_secs(5)),
        pcap: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--stop-on-stdin-eof" {
            opts.stop_on_stdin_eof = true;
            continue;
        }
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.into());
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let f = &mut opts.faults;
        match flag.as_str() {
            "--udp-local" => udp_local = Some(num::<SocketAddr>(&flag, value)?),
            "--udp-remote" => udp_remote = Some(num::<SocketAddr>(&flag, value)?),
            "--tap" => tap = Some(value),
            "--tap-a" => tap_a = Some(value),
            "--tap-b" => tap_b = Some(value),
            "--seed" => opts.seed = num(&flag, value)?,
            "--loss" => f.drop_ppm = num(&flag, value)?,
            "--dup" => f.duplicate_ppm = num(&flag, value)?,
            "--reorder" => f.reorder_ppm = num(&flag, value)?,
            "--corrupt" => f.corrupt_ppm = num(&flag, value)?,
            "--delay-us" => f.delay = Duration::from_micros(num(&flag, value)?),
            "--rate-bytes-per-s" => {
                let rate: u64 = num(&flag, value)?;
                // A burst of ~10 ms of traffic, at least two full frames.
                f.rate_limit = Some(RateLimit { bytes_per_sec: rate, burst_bytes: (rate / 100).max(3028) });
            }
            "--duration-s" => opts.duration = Some(StdDuration::from_secs(num(&flag, value)?)),
            "--stop-file" => opts.stop_file = Some(PathBuf::from(value)),
            "--pcap" => opts.pcap = Some(PathBuf::from(value)),
            "--stats-s" => {
                let s: u64 = num(&flag, value)?;
                opts.stats_every = (s > 0).then(|| StdDuration::from_secs(s));
            }
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    opts.sides = match (udp_local, udp_remote, tap, tap_a, tap_b) {
        (Some(local), Some(remote), Some(tap), None, None) => Sides::UdpTap { local, remote, tap },
        (None, None, None, Some(a), Some(b)) => Sides::TapTap { a, b },
        _ => return Err(format!("choose one mode\n{USAGE}")),
    };
    Ok(opts)
}

/// Moves frames from `from` to `to` while both can; returns how many.
fn forward<A: Device, B: Device>(from: &mut A, to: &mut B, now: Instant) -> u64 {
    let mut moved = 0;
    // Bounded so one busy direction cannot starve the other.
    for _ in 0..QUEUE_FRAMES {
        let Some(tx) = to.transmit(now) else { break };
        let Some((rx, _reply)) = from.receive(now) else {
            break;
        };
        rx.consume(|frame| tx.consume(frame.len(), |buf| buf.copy_from_slice(frame)));
        moved += 1;
    }
    moved
}

/// One direction's counters on one line.
fn counters(c: &FaultCounters) -> String {
    format!(
        "in={} out={} lost={} dup={} reordered={} corrupted={} delayed={} throttled={} overflow={} oversized={}",
        c.frames,
        c.delivered,
        c.dropped,
        c.duplicated,
        c.reordered,
        c.corrupted,
        c.delayed,
        c.throttled,
        c.overflowed,
        c.oversized
    )
}

/// Why the loop ended.
fn should_stop(opts: &Options, started: StdInstant, stdin_closed: &AtomicBool) -> Option<&'static str> {
    if opts.duration.is_some_and(|d| started.elapsed() >= d) {
        return Some("duration elapsed");
    }
    if opts.stop_file.as_ref().is_some_and(|p| p.exists()) {
        return Some("stop file appeared");
    }
    if stdin_closed.load(Ordering::Relaxed) {
        return Some("stdin closed");
    }
    None
}

/// Runs the bridge: frames from `a` to `b` get the injector's receive
/// faults, frames from `b` to `a` its transmit faults.
fn bridge<A, B>(a: A, mut b: B, a_name: &str, b_name: &str, opts: &Options) -> Result<(), String>
where
    A: Device + AsRawFd,
    B: Device + AsRawFd,
{
    let stdin_closed = Arc::new(AtomicBool::new(false));
    if opts.stop_on_stdin_eof {
        let flag = stdin_closed.clone();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            flag.store(true, Ordering::Relaxed);
        });
    }
    let mut a = FaultInjector::with_capacity(a, QUEUE_FRAMES, opts.seed);
    a.set_rx_faults(opts.faults);
    a.set_tx_faults(opts.faults);
    let started = StdInstant::now();
    let (mut a_to_b, mut b_to_a) = (0u64, 0u64);
    let mut next_stats = opts.stats_every.map(|every| started + every);
    let print = |a: &FaultInjector<A, Vec<u8>>, a_to_b: u64, b_to_a: u64, why: &str| {
        println!(
            "[{:.1}s] {why}: {a_name}->{b_name} forwarded={a_to_b} {}; {b_name}->{a_name} forwarded={b_to_a} {}",
            started.elapsed().as_secs_f64(),
            counters(a.rx_counters()),
            counters(a.tx_counters())
        );
    };
    loop {
        let now = Instant::from_micros(started.elapsed().as_micros() as i64);
        a_to_b += forward(&mut a, &mut b, now);
        b_to_a += forward(&mut b, &mut a, now);
        a.flush(now);
        if let Some(why) = should_stop(opts, started, &stdin_closed) {
            print(&a, a_to_b, b_to_a, why);
            return Ok(());
        }
        if next_stats.is_some_and(|t| StdInstant::now() >= t) {
            print(&a, a_to_b, b_to_a, "stats");
            next_stats = opts.stats_every.map(|every| StdInstant::now() + every);
        }
        // Sleep until a device has a frame or a held frame is due; skip a
        // device whose frames cannot move yet (its queue is full), or the
        // wait would return at once and spin.
        let due = a.poll_at(now).map(|t| StdDuration::from_micros((t - now).total_micros()));
        let timeout = due.map_or(MAX_SLEEP, |d| d.min(MAX_SLEEP));
        let mut sources: Vec<&dyn AsRawFd> = Vec::with_capacity(2);
        if !a.rx_is_full() {
            sources.push(a.inner());
        }
        if !a.tx_is_full() {
            sources.push(&b);
        }
        if sources.is_empty() {
            std::thread::sleep(timeout);
        } else {
            wait_readable(&sources, Some(timeout)).map_err(|e| format!("wait: {e}"))?;
        }
    }
}

/// Runs the bridge, recording side B to the pcap file if one was asked
/// for. The file is unbuffered so a killed forwarder leaves whole records.
fn bridge_with_capture<A, B>(a: A, b: B, a_name: &str, b_name: &str, opts: &Options) -> Result<(), String>
where
    A: Device + AsRawFd,
    B: Device + AsRawFd,
{
    match &opts.pcap {
        None => bridge(a, b, a_name, b_name, opts),
        Some(path) => {
            let file = File::create(path).map_err(|e| format!("create {}: {e}", path.display()))?;
            bridge(a, PcapWriter::new(b, file), a_name, b_name, opts)
        }
    }
}

fn run(opts: &Options) -> Result<(), String> {
    match &opts.sides {
        Sides::UdpTap { local, remote, tap } => {
            let udp = UdpLink::bind(*local, *remote).map_err(|e| format!("bind {local}: {e}"))?;
            let tap_dev = TapDevice::new(tap).map_err(|e| format!("open TAP {tap}: {e}"))?;
            println!("impair_forwarder: udp {local} <-> {remote} bridged with tap {tap}, seed {}", opts.seed);
            bridge_with_capture(udp, tap_dev, "udp", tap, opts)
        }
        Sides::TapTap { a, b } => {
            let dev_a = TapDevice::new(a).map_err(|e| format!("open TAP {a}: {e}"))?;
            let dev_b = TapDevice::new(b).map_err(|e| format!("open TAP {b}: {e}"))?;
            println!("impair_forwarder: tap {a} <-> tap {b}, seed {}", opts.seed);
            bridge_with_capture(dev_a, dev_b, a, b, opts)
        }
    }
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(opts) => opts,
        Err(err) => {
            eprintln!("impair_forwarder: {err}");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("impair_forwarder: {err}");
            ExitCode::FAILURE
        }
    }
}
