//! The whole stack as a Linux program on a TAP device: it answers ping
//! (the interface does that by itself, large pings through fragmentation
//! included), serves UDP echo on port 7, takes its address by DHCP or from
//! the command line, and can resolve a name through DNS.
//!
//! ```text
//! ip netns exec NS target/debug/examples/tap_stack --tap nt-tap0 \
//!     (--dhcp | --ip 10.0.0.2/24 [--gw 10.0.0.1]) [--dns ADDR]... \
//!     [--resolve NAME] [--mac 02:..] [--duration-s N]
//! ```
//!
//! Lines meant for test scripts to wait for:
//! - `listening udp/7` once the echo socket is bound;
//! - `configured 10.0.0.2/24 gw 10.0.0.1 dns 10.0.0.1` each time the
//!   address, gateway or DNS servers change (`gw -`, `dns -` when unset),
//!   `deconfigured` when a DHCP lease is withdrawn;
//! - `resolved NAME -> ADDR[, ADDR...]` or `resolve NAME failed: WHY`
//!   (the lookup starts once an address and a DNS server are known);
//! - `dhcp: STATE` as the DHCP client moves (Discovering, Requesting,
//!   Bound, Renewing, ...).
//!
//! It stops after `--duration-s N`, or on SIGTERM/SIGINT (taken through a
//! signalfd, so it is woken like by a frame), and then prints `stopping:
//! WHY` and its counters: one `counters LAYER: name=value ...` line per
//! interface layer, the TAP's and each service's.
//!
//! The loop sleeps on the TAP's file descriptor until the instant the
//! interface asks to be polled at (or a frame or signal arrives): no busy
//! waiting. Every buffer is allocated once at start; the stack itself
//! never allocates.

use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::time::{Duration as StdDuration, Instant as StdInstant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use net::iface::{Config, Interface, InterfaceStorage, NeighbourSlot, PendingSlot, ReassemblySlot};
use net::phy::{wait_readable, TapDevice};
use net::socket::dhcpv4::{DhcpClient, DhcpState};
use net::socket::dns::{DnsQuerySlot, DnsResolver, QueryHandle, QueryKind};
use net::socket::udp::{UdpPacketMetadata, UdpSocket};
use net::socket::{SocketHandle, SocketSet, SocketStorage};
use net::storage::PacketBuffer;
use net::time::Instant;
use net::wire::{EthernetAddress, Ipv4Address, Ipv4Cidr};

/// Datagrams and bytes each UDP socket buffers per direction: room for a
/// burst of full-size datagrams, or one 64 KiB datagram.
const UDP_SLOTS: usize = 64;
const UDP_BYTES: usize = 64 * 1024;
/// Datagrams reassembled at once; each slot holds the largest IPv4 datagram.
const REASSEMBLY_SLOTS: usize = 4;
const REASSEMBLY_BYTES_PER_SLOT: usize = 65536;
/// Packets (and their bytes) waiting for ARP.
const PENDING_SLOTS: usize = 64;
const PENDING_BYTES: usize = 64 * 1024;
const NEIGHBOURS: usize = 64;
const SOCKETS: usize = 8;
const DNS_QUERIES: usize = 4;

/// How the interface gets its address.
enum Addressing {
    Dhcp,
    Static { cidr: Ipv4Cidr, gateway: Option<Ipv4Address> },
}

struct Options {
    tap: String,
    addressing: Addressing,
    dns: Vec<Ipv4Address>,
    resolve: Option<String>,
    mac: Option<EthernetAddress>,
    duration: Option<StdDuration>,
}

const USAGE: &str = "usage: tap_stack --tap NAME (--dhcp | --ip ADDR/PLEN [--gw ADDR]) \
[--dns ADDR]... [--resolve NAME] [--mac XX:XX:XX:XX:XX:XX] [--duration-s N]";

fn parse_args() -> Result<Options, String> {
    let mut tap = None;
    let mut dhcp = false;
    let mut ip: Option<Ipv4Cidr> = None;
    let mut gateway = None;
    let mut opts = Options {
        tap: String::new(),
        addressing: Addressing::Dhcp,
        dns: Vec::new(),
        resolve: None,
        mac: None,
        duration: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err("help".into());
        }
        if flag == "--dhcp" {
            dhcp = true;
            continue;
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--tap" => tap = Some(value),
            "--ip" => ip = Some(value.parse().map_err(|e| bad(&e))?),
            "--gw" => gateway = Some(value.parse().map_err(|e| bad(&e))?),
            "--dns" => opts.dns.push(value.parse().map_err(|e| bad(&e))?),
            "--resolve" => opts.resolve = Some(value),
            "--mac" => opts.mac = Some(parse_mac(&value).ok_or_else(|| bad(&"not a MAC address"))?),
            "--duration-s" => {
                let secs: u64 = value.parse().map_err(|e| bad(&e))?;
                opts.duration = Some(StdDuration::from_secs(secs));
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    opts.tap = tap.ok_or("--tap NAME is required")?;
    opts.addressing = match (dhcp, ip) {
        (true, None) => Addressing::Dhcp,
        (false, Some(cidr)) => Addressing::Static { cidr, gateway },
        (true, Some(_)) => return Err("--dhcp and --ip exclude each other".into()),
        (false, None) => return Err("one of --dhcp or --ip ADDR/PLEN is required".into()),
    };
    if dhcp && gateway.is_some() {
        return Err("--gw goes with --ip".into());
    }
    Ok(opts)
}

fn parse_mac(text: &str) -> Option<EthernetAddress> {
    let mut bytes = [0u8; 6];
    let mut parts = text.split(':');
    for byte in bytes.iter_mut() {
        *byte = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    let mac = EthernetAddress(bytes);
    (parts.next().is_none() && mac.is_unicast()).then_some(mac)
}

/// 64 unpredictable bits from the kernel, or from the clock and pid if
/// /dev/urandom cannot be read. They seed what must differ between runs:
/// IP identifications and the resolver's port (interface seed), DHCP
/// transaction ids, DNS query ids, the MAC address (and, with TCP, the ISN
/// secret and ephemeral ports).
fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    match File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)) {
        Ok(()) => u64::from_ne_bytes(bytes),
        Err(_) => {
            let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
            nanos ^ (u64::from(std::process::id()) << 32)
        }
    }
}

fn random_u32() -> u32 {
    (random_u64() >> 16) as u32
}

/// A locally administered unicast address.
fn random_mac() -> EthernetAddress {
    let mut bytes = [0u8; 6];
    bytes.copy_from_slice(&random_u64().to_be_bytes()[..6]);
    bytes[0] = (bytes[0] & 0xfc) | 0x02;
    EthernetAddress(bytes)
}

/// Something the program serves over its sockets, once per loop turn
/// after the interface has polled. A TCP echo service is another
/// implementation: create its listening socket in its `new`, push it onto
/// `services` in `main`.
trait Service {
    /// Handles what arrived; queued replies go out at the next poll.
    fn serve(&mut self, sockets: &mut SocketSet<'_>);
    /// One line of counters for the final report.
    fn counters(&self, sockets: &SocketSet<'_>) -> String;
}

/// UDP echo (RFC 862): every datagram goes back to its sender unchanged.
struct UdpEcho {
    handle: SocketHandle,
    port: u16,
    echoed: u64,
    /// Datagrams dropped because the transmit buffer had no room.
    dropped_tx_full: u64,
    scratch: Vec<u8>,
}

impl UdpEcho {
    fn new<'a>(
        sockets: &mut SocketSet<'a>,
        port: u16,
        rx: (&'a mut [UdpPacketMetadata], &'a mut [u8]),
        tx: (&'a mut [UdpPacketMetadata], &'a mut [u8]),
    ) -> UdpEcho {
        let mut socket = UdpSocket::new(PacketBuffer::new(rx.0, rx.1), PacketBuffer::new(tx.0, tx.1));
        socket.bind(port).expect("a fresh socket binds to a non-zero port");
        let handle = sockets.add(socket);
        println!("listening udp/{port}");
        UdpEcho { handle, port, echoed: 0, dropped_tx_full: 0, scratch: vec![0; 65536] }
    }
}

impl Service for UdpEcho {
    fn serve(&mut self, sockets: &mut SocketSet<'_>) {
        let socket = sockets.get_mut::<UdpSocket>(self.handle);
        // Take a datagram only while there is room to answer it, so a burst
        // waits in the receive buffer instead of being lost here.
        while socket.can_send() {
            let Ok((len, from)) = socket.recv_slice(&mut self.scratch) else { break };
            match socket.send_slice(&self.scratch[..len], from) {
                Ok(()) => self.echoed += 1,
                Err(_) => self.dropped_tx_full += 1,
            }
        }
    }

    fn counters(&self, sockets: &SocketSet<'_>) -> String {
        let stats = sockets.get::<UdpSocket>(self.handle).stats();
        format!(
            "udp_echo/{}: received={} sent={} dropped_rx_full={} echoed={} dropped_tx_full={}",
            self.port, stats.received, stats.sent, stats.dropped_rx_full, self.echoed, self.dropped_tx_full
        )
    }
}

/// The `--resolve` lookup: waits for a DNS server, asks once, reports.
enum Lookup {
    Waiting(String),
    Asked(String, QueryHandle),
    Done,
}

impl Lookup {
    fn step(self, sockets: &mut SocketSet<'_>, resolver: SocketHandle, now: Instant, configured: bool) -> Lookup {
        let dns = sockets.get_mut::<DnsResolver>(resolver);
        match self {
            // The interface hands the resolver its servers during a poll.
            Lookup::Waiting(name) if configured && dns.servers().next().is_some() => {
                match dns.start_query(&name, QueryKind::A, now) {
                    Ok(handle) => Lookup::Asked(name, handle),
                    Err(err) => {
                        println!("resolve {name} failed: {err:?}");
                        Lookup::Done
                    }
                }
            }
            Lookup::Asked(name, handle) => match dns.query_result(handle) {
                Ok(None) => Lookup::Asked(name, handle),
                Ok(Some(addrs)) => {
                    let list: Vec<String> = addrs.as_slice().iter().map(|a| a.to_string()).collect();
                    println!("resolved {name} -> {}", list.join(", "));
                    Lookup::Done
                }
                Err(err) => {
                    println!("resolve {name} failed: {err:?}");
                    Lookup::Done
                }
            },
            other => other,
        }
    }
}

/// What `configured` lines report; printed again whenever it changes.
#[derive(PartialEq)]
struct Configuration {
    addresses: Vec<Ipv4Cidr>,
    gateway: Option<Ipv4Address>,
    dns: Vec<Ipv4Address>,
}

impl Configuration {
    fn of(iface: &Interface<'_>) -> Configuration {
        Configuration {
            addresses: iface.addresses().collect(),
            gateway: iface.default_gateway(),
            dns: iface.dns_servers().collect(),
        }
    }

    fn describe(&self) -> String {
        let list = |items: Vec<String>| if items.is_empty() { "-".to_string() } else { items.join(",") };
        format!(
            "configured {} gw {} dns {}",
            list(self.addresses.iter().map(|a| a.to_string()).collect()),
            self.gateway.map_or("-".to_string(), |g| g.to_string()),
            list(self.dns.iter().map(|d| d.to_string()).collect()),
        )
    }
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(opts) => opts,
        Err(err) if err == "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("tap_stack: {err}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tap_stack: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(opts: Options) -> Result<(), String> {
    // Termination signals arrive on a file descriptor the loop waits on
    // together with the TAP, so the counters are printed on the way out.
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGTERM);
    mask.add(Signal::SIGINT);
    mask.thread_block().map_err(|e| format!("cannot block signals: {e}"))?;
    let mut signals =
        SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK).map_err(|e| format!("cannot open a signalfd: {e}"))?;

    let mut tap = TapDevice::new(&opts.tap).map_err(|e| format!("cannot open TAP {}: {e}", opts.tap))?;
    let mac = opts.mac.unwrap_or_else(random_mac);

    // Every buffer the stack works in, allocated once here.
    let mut neighbours = [NeighbourSlot::EMPTY; NEIGHBOURS];
    let mut pending_slots = [PendingSlot::EMPTY; PENDING_SLOTS];
    let mut pending_bytes = vec![0u8; PENDING_BYTES];
    let mut reassembly_slots = [ReassemblySlot::EMPTY; REASSEMBLY_SLOTS];
    let mut reassembly_bytes = vec![0u8; REASSEMBLY_SLOTS * REASSEMBLY_BYTES_PER_SLOT];
    let mut echo_rx_meta = [UdpPacketMetadata::EMPTY; UDP_SLOTS];
    let mut echo_rx_bytes = vec![0u8; UDP_BYTES];
    let mut echo_tx_meta = [UdpPacketMetadata::EMPTY; UDP_SLOTS];
    let mut echo_tx_bytes = vec![0u8; UDP_BYTES];
    let mut dns_queries = [DnsQuerySlot::EMPTY; DNS_QUERIES];
    let mut socket_storage = [SocketStorage::EMPTY; SOCKETS];

    let mut config = Config::new(mac);
    config.seed = random_u32();
    let mut iface = Interface::new(
        config,
        InterfaceStorage {
            neighbours: &mut neighbours,
            pending_slots: &mut pending_slots,
            pending_bytes: &mut pending_bytes,
            reassembly_slots: &mut reassembly_slots,
            reassembly_bytes: &mut reassembly_bytes,
        },
    );
    let mut sockets = SocketSet::new(&mut socket_storage[..]);
    println!("tap_stack on {} mac {mac}", tap.name());

    let dhcp = match opts.addressing {
        Addressing::Dhcp => Some(sockets.add(DhcpClient::new(mac, random_u32()))),
        Addressing::Static { cidr, gateway } => {
            iface.add_address(cidr).map_err(|e| format!("cannot use address {cidr}: {e:?}"))?;
            iface.set_default_gateway(gateway);
            None
        }
    };
    // Static DNS servers; with DHCP, the lease's servers replace them.
    if !opts.dns.is_empty() {
        iface.set_dns_servers(&opts.dns);
    }
    let resolver = sockets.add(DnsResolver::new(&mut dns_queries, random_u32()));
    let mut lookup = opts.resolve.map_or(Lookup::Done, Lookup::Waiting);

    let mut services: Vec<Box<dyn Service>> = vec![Box::new(UdpEcho::new(
        &mut sockets,
        7,
        (&mut echo_rx_meta, &mut echo_rx_bytes),
        (&mut echo_tx_meta, &mut echo_tx_bytes),
    ))];
    // TCP: services.push(Box::new(TcpEcho::new(&mut sockets, 7, ...)));

    let started = StdInstant::now();
    let deadline = opts.duration.map(|d| started + d);
    let mut shown: Option<Configuration> = None;
    let mut dhcp_shown: Option<DhcpState> = None;
    let stop_reason = loop {
        let now = Instant::from_micros(started.elapsed().as_micros() as i64);
        let result = iface.poll(now, &mut tap, &mut sockets);
        for service in services.iter_mut() {
            service.serve(&mut sockets);
        }

        if let Some(handle) = dhcp {
            let state = sockets.get::<DhcpClient>(handle).state();
            if dhcp_shown != Some(state) {
                println!("dhcp: {state:?}");
                dhcp_shown = Some(state);
            }
        }
        let current = Configuration::of(&iface);
        let configured = !current.addresses.is_empty();
        if shown.as_ref() != Some(&current) {
            if configured {
                println!("{}", current.describe());
            } else if shown.is_some() {
                println!("deconfigured");
            }
            shown = Some(current);
        }
        lookup = lookup.step(&mut sockets, resolver, now, configured);

        if let Some(signal) = signals.read_signal().ok().flatten() {
            let name = Signal::try_from(signal.ssi_signo as i32).map_or("a signal", |s| s.as_str());
            break name.to_string();
        }
        let left = match deadline {
            Some(deadline) => match deadline.checked_duration_since(StdInstant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => break "duration elapsed".to_string(),
            },
            None => None,
        };
        if result.rx_budget_exhausted {
            continue; // frames are still waiting
        }
        // Sleep until the interface's next deadline (new work the services
        // queued makes that "now"), the end of the run, or a frame/signal.
        let due = iface.poll_at(now, &sockets).map(|at| {
            let micros = (at - now).total_micros();
            StdDuration::from_micros(micros)
        });
        let timeout = match (due, left) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if timeout != Some(StdDuration::ZERO) {
            let tap_fd = tap.as_raw_fd();
            wait_readable(&[&tap_fd, &signals], timeout).map_err(|e| format!("poll: {e}"))?;
        }
    };

    println!("stopping: {stop_reason}");
    for (layer, counters) in layers(&iface) {
        println!("counters {layer}: {counters}");
    }
    let tap_counters = tap.counters();
    println!(
        "counters tap: rx_frames={} tx_frames={} tx_errors={}",
        tap_counters.rx_frames, tap_counters.tx_frames, tap_counters.tx_errors
    );
    for service in &services {
        println!("counters {}", service.counters(&sockets));
    }
    if let Some(handle) = dhcp {
        println!("counters dhcp: state={:?}", sockets.get::<DhcpClient>(handle).state());
    }
    Ok(())
}

/// The interface's counters grouped by layer, `name=value` separated by
/// spaces, in the order [`net::iface::Stats::iter`] gives them.
fn layers(iface: &Interface<'_>) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for (layer, name, value) in iface.stats().iter() {
        match out.last_mut() {
            Some((l, line)) if *l == layer => line.push_str(&format!(" {name}={value}")),
            _ => out.push((layer, format!("{name}={value}"))),
        }
    }
    out
}
