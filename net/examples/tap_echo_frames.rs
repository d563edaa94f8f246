//! Opens a TAP interface and prints a line for every frame that arrives
//! (ARP requests decoded), optionally recording them to a pcap file: a
//! quick check that a TAP made by `qemu/rig.sh` carries frames.
//!
//! ```text
//! ip netns exec NS cargo run -p net --features std --example tap_echo_frames -- \
//!     --tap nt-tap0 [--count N] [--duration-s S] [--pcap FILE]
//! ```
//! Stops after N frames (default 10) or S seconds (default 10).

use std::fs::File;
use std::io::BufWriter;
use std::process::ExitCode;
use std::time::{Duration, Instant as StdInstant};

use net::phy::{Device, PcapWriter, RxToken, TapDevice};
use net::time::Instant;

struct Options {
    tap: String,
    count: u64,
    duration: Duration,
    pcap: Option<String>,
}

fn parse_args() -> Result<Options, String> {
    let mut opts = Options { tap: String::new(), count: 10, duration: Duration::from_secs(10), pcap: None };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--tap" => opts.tap = value()?,
            "--count" => opts.count = value()?.parse().map_err(|e| format!("--count: {e}"))?,
            "--duration-s" => {
                opts.duration = Duration::from_secs(value()?.parse().map_err(|e| format!("--duration-s: {e}"))?)
            }
            "--pcap" => opts.pcap = Some(value()?),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if opts.tap.is_empty() {
        return Err("--tap NAME is required".into());
    }
    Ok(opts)
}

fn mac(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

fn ipv4(bytes: &[u8]) -> String {
    bytes.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(".")
}

/// One line describing an Ethernet frame, never panicking on short input.
fn describe(frame: &[u8]) -> String {
    let (Some(dst), Some(src), Some(ty)) = (frame.get(0..6), frame.get(6..12), frame.get(12..14)) else {
        return format!("runt frame of {} bytes", frame.len());
    };
    let ethertype = u16::from_be_bytes([ty[0], ty[1]]);
    let head = format!("{} > {} type 0x{ethertype:04x} len {}", mac(src), mac(dst), frame.len());
    let payload = &frame[14..];
    match (ethertype, payload.get(6..8), payload.get(14..18), payload.get(24..28)) {
        (0x0806, Some(op), Some(sender_ip), Some(target_ip)) => {
            let op = u16::from_be_bytes([op[0], op[1]]);
            match op {
                1 => format!("{head}: ARP who-has {} tell {}", ipv4(target_ip), ipv4(sender_ip)),
                2 => format!("{head}: ARP reply {} is-at {}", ipv4(sender_ip), mac(&payload[8..14])),
                _ => format!("{head}: ARP op {op}"),
            }
        }
        (0x0800, _, _, _) => match (payload.get(9), payload.get(12..16), payload.get(16..20)) {
            (Some(proto), Some(s), Some(d)) => {
                format!("{head}: IPv4 {} > {} proto {proto}", ipv4(s), ipv4(d))
            }
            _ => format!("{head}: truncated IPv4"),
        },
        _ => head,
    }
}

fn run<D: Device>(dev: &mut D, wait: &dyn Fn(Duration), opts: &Options) -> u64 {
    let start = StdInstant::now();
    let mut seen = 0;
    while seen < opts.count {
        let elapsed = start.elapsed();
        if elapsed >= opts.duration {
            break;
        }
        let now = Instant::from_micros(elapsed.as_micros() as i64);
        match dev.receive(now) {
            Some((rx, _reply)) => {
                seen += 1;
                let line = rx.consume(describe);
                println!("{:>9.6}s {line}", elapsed.as_secs_f64());
            }
            None => wait((opts.duration - elapsed).min(Duration::from_millis(100))),
        }
    }
    seen
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(opts) => opts,
        Err(err) => {
            eprintln!("tap_echo_frames: {err}");
            return ExitCode::from(2);
        }
    };
    let tap = match TapDevice::new(&opts.tap) {
        Ok(tap) => tap,
        Err(err) => {
            eprintln!("tap_echo_frames: cannot open TAP {}: {err}", opts.tap);
            return ExitCode::FAILURE;
        }
    };
    eprintln!("tap_echo_frames: listening on {}", tap.name());
    let seen = match &opts.pcap {
        None => {
            let mut tap = tap;
            // The wait borrows the fd only; receive needs &mut, so wait on
            // a duplicate view through the raw fd.
            let fd = std::os::fd::AsRawFd::as_raw_fd(&tap);
            let wait = move |t: Duration| {
                let _ = net::phy::wait_readable(&[&fd], Some(t));
            };
            run(&mut tap, &wait, &opts)
        }
        Some(path) => {
            let file = match File::create(path) {
                Ok(f) => BufWriter::new(f),
                Err(err) => {
                    eprintln!("tap_echo_frames: cannot create {path}: {err}");
                    return ExitCode::FAILURE;
                }
            };
            let fd = std::os::fd::AsRawFd::as_raw_fd(&tap);
            let wait = move |t: Duration| {
                let _ = net::phy::wait_readable(&[&fd], Some(t));
            };
            let mut dev = PcapWriter::new(tap, file);
            run(&mut dev, &wait, &opts)
        }
    };
    eprintln!("tap_echo_frames: {seen} frames");
    ExitCode::SUCCESS
}
