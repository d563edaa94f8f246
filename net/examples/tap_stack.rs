//! The whole stack as a Linux program on a TAP device: it answers ping
//! (the interface does that by itself, large pings through fragmentation
//! included), serves UDP and TCP echo on port 7, takes its address by DHCP
//! or from the command line, can resolve a name through DNS, and can run a
//! TCP client against an echo server on the Linux side.
//!
//! ```text
//! ip netns exec NS target/debug/examples/tap_stack --tap nt-tap0 \
//!     (--dhcp | --ip 10.0.0.2/24 [--gw 10.0.0.1]) [--dns ADDR]... \
//!     [--ipv6 | --ip6 ADDR/PLEN [--gw6 ADDR]] \
//!     [--resolve NAME] [--mac 02:..] [--duration-s N] \
//!     [--loss PPM] [--reorder PPM] [--dup PPM] [--corrupt PPM] [--fault-seed N] \
//!     [--connect ADDR:PORT --send-bytes N [--check-echo] [--data-seed N]]
//! ```
//!
//! IPv6 (with `--ipv6`, or `--ip6` for a static address): a link-local
//! address from the MAC, SLAAC from router advertisements, and every
//! service over IPv6 too (the echo sockets take both families);
//! `--connect [ADDR]:PORT` connects over IPv6.
//!
//! TCP echo: one listener on port 7 over a pool of [`TCP_POOL`] sockets
//! with 64 KiB buffers each way. Back-pressure instead of loss: a
//! connection reads only as many bytes as it can queue back, so a client
//! that stops reading closes its own window. After the client's FIN, once
//! everything is echoed, the server closes its side too.
//!
//! Faults: `--loss`, `--reorder`, `--dup` and `--corrupt` (parts per
//! million) wrap the TAP in a seeded [`FaultInjector`] applying them to
//! both directions, so a test impairs the path without `netem`.
//!
//! Client: `--connect ADDR:PORT --send-bytes N` opens a TCP connection
//! from our stack once it has an address, sends N bytes of a seeded
//! pseudo-random stream (`--data-seed`, default 1) while reading the echo
//! back (with `--check-echo`, comparing every byte), closes, waits for the
//! peer's close, prints `client: N bytes echoed intact in S s` and exits
//! 0; a mismatch, a reset, or `--duration-s` running out exits 1.
//!
//! Lines meant for test scripts to wait for:
//! - `listening udp/7`, `listening tcp/7` once the echo sockets are bound;
//! - `ipv6 address ADDR in use`, `ipv6 address ADDR duplicate`, `ipv6
//!   router ADDR` as IPv6 autoconfiguration goes;
//! - `configured 10.0.0.2/24 gw 10.0.0.1 dns 10.0.0.1` each time the
//!   address, gateway or DNS servers change (`gw -`, `dns -` when unset),
//!   `deconfigured` when a DHCP lease is withdrawn;
//! - `resolved NAME -> ADDR[, ADDR...]` or `resolve NAME failed: WHY`
//!   (the lookup starts once an address and a DNS server are known);
//! - `dhcp: STATE` as the DHCP client moves (Discovering, Requesting,
//!   Bound, Renewing, ...);
//! - `tcp_echo/7: idle after N connections (N completed, N reset)` each
//!   time the last open echo connection is gone;
//! - `client: ...` as above, then `client info: ...` (retransmits, RTT).
//!
//! It stops after `--duration-s N`, on SIGTERM/SIGINT (taken through a
//! signalfd, so it is woken like by a frame), or when the client is done,
//! and then prints `stopping: WHY` and its counters: one `counters LAYER:
//! name=value ...` line per interface layer, the TAP's, the fault
//! injector's (one line per direction) and each service's.
//!
//! The loop sleeps on the TAP's file descriptor until the instant the
//! interface (or the fault injector) asks to be polled at, or a frame or
//! signal arrives: no busy waiting. Every buffer is allocated once at
//! start; the stack itself never allocates.

use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::time::{Duration as StdDuration, Instant as StdInstant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use net::iface::{
    Config, Interface, InterfaceStorage, Ipv6Config, Ipv6Event, NdpSlot, NeighbourSlot, PendingSlot, ReassemblySlot,
};
use net::phy::{wait_readable, Device, FaultConfig, FaultCounters, FaultInjector, TapDevice};
use net::rand::Rng;
use net::socket::dhcpv4::{DhcpClient, DhcpState};
use net::socket::dns::{DnsQuerySlot, DnsResolver, QueryHandle, QueryKind};
use net::socket::tcp::{ListenerConfig, RecvError, State, TcpConfig, TcpListener, TcpSocket};
use net::socket::udp::{UdpPacketMetadata, UdpSocket};
use net::socket::{SocketHandle, SocketSet, SocketStorage};
use net::storage::{PacketBuffer, RingBuffer};
use net::time::Instant;
use net::wire::{EthernetAddress, IpAddress, IpEndpoint, Ipv4Address, Ipv4Cidr, Ipv6Address, Ipv6Cidr};

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
/// TCP echo connections served at once (the listener's socket pool).
const TCP_POOL: usize = 40;
/// Bytes each TCP socket buffers per direction.
const TCP_BUFFER: usize = 64 * 1024;
/// Frames the fault injector queues per direction (as the impairing
/// forwarder does): a full window of segments and their ACKs.
const FAULT_QUEUE_FRAMES: usize = 512;

/// How the interface gets its address.
enum Addressing {
    Dhcp,
    Static { cidr: Ipv4Cidr, gateway: Option<Ipv4Address> },
}

/// The `--connect` client's job.
struct ClientJob {
    remote: IpEndpoint,
    bytes: u64,
    check: bool,
    seed: u64,
}

struct Options {
    tap: String,
    addressing: Addressing,
    dns: Vec<Ipv4Address>,
    resolve: Option<String>,
    mac: Option<EthernetAddress>,
    duration: Option<StdDuration>,
    /// Faults applied to both directions, when any was asked for.
    faults: Option<FaultConfig>,
    fault_seed: u64,
    client: Option<ClientJob>,
    /// IPv6 on (SLAAC unless `ip6` is given).
    ipv6: bool,
    ip6: Option<Ipv6Cidr>,
    gw6: Option<Ipv6Address>,
}

const USAGE: &str = "usage: tap_stack --tap NAME (--dhcp | --ip ADDR/PLEN [--gw ADDR]) \
[--dns ADDR]... [--ipv6 | --ip6 ADDR/PLEN [--gw6 ADDR]] [--resolve NAME] [--mac XX:XX:XX:XX:XX:XX] [--duration-s N] \
[--loss PPM] [--reorder PPM] [--dup PPM] [--corrupt PPM] [--fault-seed N] \
[--connect ADDR:PORT --send-bytes N [--check-echo] [--data-seed N]]";

fn parse_args() -> Result<Options, String> {
    let mut tap = None;
    let mut dhcp = false;
    let mut ip: Option<Ipv4Cidr> = None;
    let mut gateway = None;
    let mut faults = FaultConfig::clean();
    let mut connect: Option<IpEndpoint> = None;
    let mut send_bytes: Option<u64> = None;
    let mut check_echo = false;
    let mut data_seed = 1;
    let mut opts = Options {
        tap: String::new(),
        addressing: Addressing::Dhcp,
        dns: Vec::new(),
        resolve: None,
        mac: None,
        duration: None,
        faults: None,
        fault_seed: 1,
        client: None,
        ipv6: false,
        ip6: None,
        gw6: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--help" | "-h" => return Err("help".into()),
            "--dhcp" => {
                dhcp = true;
                continue;
            }
            "--check-echo" => {
                check_echo = true;
                continue;
            }
            "--ipv6" => {
                opts.ipv6 = true;
                continue;
            }
            _ => {}
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        let ppm = |value: &str| -> Result<u32, String> {
            match value.parse::<u32>() {
                Ok(p) if p <= 1_000_000 => Ok(p),
                Ok(_) => Err(bad(&"more than 1000000 parts per million")),
                Err(e) => Err(bad(&e)),
            }
        };
        match flag.as_str() {
            "--tap" => tap = Some(value),
            "--ip" => ip = Some(value.parse().map_err(|e| bad(&e))?),
            "--gw" => gateway = Some(value.parse().map_err(|e| bad(&e))?),
            "--dns" => opts.dns.push(value.parse().map_err(|e| bad(&e))?),
            "--ip6" => opts.ip6 = Some(value.parse().map_err(|e| bad(&e))?),
            "--gw6" => opts.gw6 = Some(value.parse().map_err(|e| bad(&e))?),
            "--resolve" => opts.resolve = Some(value),
            "--mac" => opts.mac = Some(parse_mac(&value).ok_or_else(|| bad(&"not a MAC address"))?),
            "--duration-s" => {
                let secs: u64 = value.parse().map_err(|e| bad(&e))?;
                opts.duration = Some(StdDuration::from_secs(secs));
            }
            "--loss" => faults.drop_ppm = ppm(&value)?,
            "--reorder" => faults.reorder_ppm = ppm(&value)?,
            "--dup" => faults.duplicate_ppm = ppm(&value)?,
            "--corrupt" => faults.corrupt_ppm = ppm(&value)?,
            "--fault-seed" => opts.fault_seed = value.parse().map_err(|e| bad(&e))?,
            "--connect" => connect = Some(parse_endpoint(&value).ok_or_else(|| bad(&"not ADDR:PORT"))?),
            "--send-bytes" => send_bytes = Some(value.parse().map_err(|e| bad(&e))?),
            "--data-seed" => data_seed = value.parse().map_err(|e| bad(&e))?,
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
    opts.ipv6 |= opts.ip6.is_some() || opts.gw6.is_some();
    if faults != FaultConfig::clean() {
        opts.faults = Some(faults);
    }
    opts.client = match (connect, send_bytes) {
        (Some(remote), Some(bytes)) => Some(ClientJob { remote, bytes, check: check_echo, seed: data_seed }),
        (None, None) if !check_echo => None,
        _ => return Err("--connect, --send-bytes (and --check-echo) go together".into()),
    };
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

/// `10.0.0.1:9000` or `[2001:db8::1]:9000`: a unicast address and a
/// non-zero port.
fn parse_endpoint(text: &str) -> Option<IpEndpoint> {
    let (addr, port) = text.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let addr = match addr.strip_prefix('[').and_then(|a| a.strip_suffix(']')) {
        Some(v6) => IpAddress::V6(v6.parse::<Ipv6Address>().ok().filter(Ipv6Address::is_unicast)?),
        None => IpAddress::V4(addr.parse::<Ipv4Address>().ok().filter(|a| a.is_unicast())?),
    };
    (port != 0).then_some(IpEndpoint::new(addr, port))
}

/// 64 unpredictable bits from the kernel, or from the clock and pid if
/// /dev/urandom cannot be read. They seed what must differ between runs:
/// IP identifications and the resolver's port (interface seed), DHCP
/// transaction ids, DNS query ids, the MAC address, the TCP secret (ISNs,
/// SYN cookies, timestamp offsets) and the client's ephemeral port.
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

/// 16 unpredictable bytes: the TCP secret keying initial sequence
/// numbers, SYN cookies and timestamp offsets (RFC 6528).
fn random_secret() -> [u8; 16] {
    let mut secret = [0u8; 16];
    secret[..8].copy_from_slice(&random_u64().to_ne_bytes());
    secret[8..].copy_from_slice(&random_u64().to_ne_bytes());
    secret
}

/// What a service sees of the interface on each loop turn.
struct Turn {
    now: Instant,
    /// The interface's first address, once it has one.
    address: Option<Ipv4Address>,
    /// Its IPv6 addresses once DAD passed: link-local, and global (from
    /// SLAAC or `--ip6`).
    link_local6: Option<Ipv6Address>,
    global6: Option<Ipv6Address>,
}

/// How a service that ends the program (the TCP client) ended.
struct Outcome {
    ok: bool,
    /// The `client: ...` line.
    line: String,
    /// Diagnostics printed after it.
    details: String,
}

/// Something the program serves over its sockets, once per loop turn
/// after the interface has polled.
trait Service {
    /// Handles what arrived; queued replies go out at the next poll.
    fn serve(&mut self, turn: &Turn, sockets: &mut SocketSet<'_>);
    /// One line of counters for the final report.
    fn counters(&self, sockets: &SocketSet<'_>) -> String;
    /// `Some` once a service whose end stops the program is done.
    fn outcome(&self) -> Option<&Outcome> {
        None
    }
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
    fn serve(&mut self, _turn: &Turn, sockets: &mut SocketSet<'_>) {
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

/// TCP echo (RFC 862) for many clients through one listener and its pool
/// of sockets.
struct TcpEcho {
    handle: SocketHandle,
    port: u16,
    /// Connections handed to us by `accept` and not yet released.
    serving: Vec<Connection>,
    accepted: u64,
    /// Connections that ended after both sides closed.
    completed: u64,
    /// Connections that ended before we closed (reset, timed out).
    reset: u64,
    echoed_bytes: u64,
    /// Segments retransmitted by finished connections.
    retransmits: u64,
    scratch: Vec<u8>,
}

impl TcpEcho {
    fn new<'a>(sockets: &mut SocketSet<'a>, port: u16, pool: &'a mut [TcpSocket<'a>], config: TcpConfig) -> TcpEcho {
        // Backlogs as large as the pool: every socket may wait in either
        // queue, so the listener never drops the ACK of a client it
        // answered with a SYN cookie (that client would believe it is
        // connected and be reset later).
        let limits = ListenerConfig { syn_backlog: pool.len(), accept_backlog: pool.len(), syn_cookies: true };
        let handle = sockets.add(TcpListener::new(port, pool, config, limits));
        println!("listening tcp/{port}");
        TcpEcho {
            handle,
            port,
            serving: Vec::with_capacity(TCP_POOL),
            accepted: 0,
            completed: 0,
            reset: 0,
            echoed_bytes: 0,
            retransmits: 0,
            scratch: vec![0; TCP_BUFFER],
        }
    }
}

/// One connection of the echo service.
struct Connection {
    /// Its socket in the listener's pool.
    index: usize,
    /// We closed our side.
    closed: bool,
    /// Its retransmissions so far (a socket forgets them once closed).
    retransmits: u32,
}

/// Echoes what `socket` received, as far as its send buffer has room
/// (back-pressure: the rest waits in the receive buffer, whose window
/// then closes). Returns the bytes echoed.
fn echo_step(socket: &mut TcpSocket<'_>, scratch: &mut [u8]) -> u64 {
    let mut echoed = 0;
    loop {
        let room = socket.send_capacity() - socket.send_queue();
        let n = socket.recv_queue().min(room).min(scratch.len());
        if n == 0 {
            return echoed;
        }
        let got = socket.recv_slice(&mut scratch[..n]).unwrap_or(0);
        let sent = socket.send_slice(&scratch[..got]).unwrap_or(0);
        assert_eq!(sent, got, "the send buffer took fewer bytes than it had room for");
        if got == 0 {
            return echoed;
        }
        echoed += got as u64;
    }
}

impl Service for TcpEcho {
    fn serve(&mut self, _turn: &Turn, sockets: &mut SocketSet<'_>) {
        let listener = sockets.get_mut::<TcpListener>(self.handle);
        while let Some(index) = listener.accept() {
            self.serving.push(Connection { index, closed: false, retransmits: 0 });
            self.accepted += 1;
        }
        let busy = !self.serving.is_empty();
        let TcpEcho { serving, scratch, echoed_bytes, completed, reset, retransmits, .. } = self;
        serving.retain_mut(|connection| {
            let Some(socket) = listener.socket(connection.index) else { return false };
            *echoed_bytes += echo_step(socket, scratch);
            // The client sent its FIN and everything before it is echoed
            // (or queued): close our side, the FIN follows the data.
            if !socket.may_recv() && socket.recv_queue() == 0 && socket.may_send() {
                socket.close();
                connection.closed = true;
            }
            match socket.state() {
                State::Closed | State::TimeWait => {
                    *retransmits += u64::from(connection.retransmits);
                    if connection.closed {
                        *completed += 1;
                    } else {
                        *reset += 1;
                    }
                    listener.release(connection.index);
                    false
                }
                _ => {
                    connection.retransmits = socket.info().retransmits;
                    true
                }
            }
        });
        if busy && self.serving.is_empty() {
            println!(
                "tcp_echo/{}: idle after {} connections ({} completed, {} reset)",
                self.port, self.accepted, self.completed, self.reset
            );
        }
    }

    fn counters(&self, sockets: &SocketSet<'_>) -> String {
        let stats = sockets.get::<TcpListener>(self.handle).stats();
        format!(
            "tcp_echo/{}: accepted={} completed={} reset={} open={} echoed_bytes={} retransmits={} \
syns_queued={} cookies_sent={} cookies_accepted={} cookies_rejected={} cookies_unverified={} dropped={} evicted={}",
            self.port,
            self.accepted,
            self.completed,
            self.reset,
            self.serving.len(),
            self.echoed_bytes,
            self.retransmits,
            stats.syns_queued,
            stats.cookies_sent,
            stats.cookies_accepted,
            stats.cookies_rejected,
            stats.cookies_unverified,
            stats.dropped,
            stats.evicted
        )
    }
}

/// A reproducible pseudo-random byte stream: the same seed gives the same
/// bytes however the stream is cut into pieces (the client generates what
/// it sends and what it expects back in pieces of different sizes).
struct ByteStream {
    rng: Rng,
    word: [u8; 8],
    used: usize,
}

impl ByteStream {
    fn new(seed: u64) -> ByteStream {
        ByteStream { rng: Rng::new(seed), word: [0; 8], used: 8 }
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for byte in buf {
            if self.used == self.word.len() {
                self.word = self.rng.next_u64().to_le_bytes();
                self.used = 0;
            }
            *byte = self.word[self.used];
            self.used += 1;
        }
    }
}

/// Where the `--connect` client is.
enum ClientPhase {
    /// Waiting for the interface to have an address.
    Waiting,
    /// Connected or connecting since the instant given.
    Running(StdInstant),
    Done(Outcome),
}

/// The `--connect` client: sends a seeded stream to an echo server while
/// reading the echo back, then closes and waits for the server's close.
struct TcpEchoClient {
    handle: SocketHandle,
    job: ClientJob,
    to_send: ByteStream,
    expected: ByteStream,
    /// Bytes queued on the socket so far.
    queued: u64,
    /// Bytes of echo received (and checked) so far.
    received: u64,
    /// The FIN is queued after the last byte.
    closed: bool,
    /// The server's FIN arrived (everything before it was read).
    peer_closed: bool,
    scratch: Vec<u8>,
    phase: ClientPhase,
}

impl TcpEchoClient {
    fn new<'a>(sockets: &mut SocketSet<'a>, job: ClientJob, socket: TcpSocket<'a>) -> TcpEchoClient {
        let handle = sockets.add(socket);
        TcpEchoClient {
            handle,
            to_send: ByteStream::new(job.seed),
            expected: ByteStream::new(job.seed),
            job,
            queued: 0,
            received: 0,
            closed: false,
            peer_closed: false,
            scratch: vec![0; TCP_BUFFER],
            phase: ClientPhase::Waiting,
        }
    }

    fn fail(&self, started: StdInstant, why: String) -> ClientPhase {
        ClientPhase::Done(Outcome {
            ok: false,
            line: format!(
                "client: {why} (after {:.2} s, {} of {} bytes sent, {} echoed)",
                started.elapsed().as_secs_f64(),
                self.queued,
                self.job.bytes,
                self.received
            ),
            details: String::new(),
        })
    }

    /// Queues as much of the stream as the socket takes.
    fn push(&mut self, socket: &mut TcpSocket<'_>) {
        while self.queued < self.job.bytes {
            let left = self.job.bytes - self.queued;
            let stream = &mut self.to_send;
            let n = socket
                .send(|buf| {
                    let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    stream.fill(&mut buf[..n]);
                    (n, n)
                })
                .unwrap_or(0);
            if n == 0 {
                break;
            }
            self.queued += n as u64;
        }
        if self.queued == self.job.bytes && !self.closed && socket.may_send() {
            socket.close();
            self.closed = true;
        }
    }

    /// Reads the echo, checking it; `Err` on the first wrong byte.
    fn pull(&mut self, socket: &mut TcpSocket<'_>) -> Result<(), String> {
        loop {
            let (expected, scratch, check, at) = (&mut self.expected, &mut self.scratch, self.job.check, self.received);
            let result = socket.recv(|buf| {
                let n = buf.len().min(scratch.len());
                let mut mismatch = None;
                if check {
                    expected.fill(&mut scratch[..n]);
                    mismatch = buf[..n].iter().zip(&scratch[..n]).position(|(a, b)| a != b);
                }
                (n, (n, mismatch))
            });
            match result {
                Ok((_, Some(offset))) => {
                    return Err(format!("byte mismatch at offset {}", at + offset as u64));
                }
                Ok((0, None)) => return Ok(()),
                Ok((n, None)) => {
                    self.received += n as u64;
                    if self.received > self.job.bytes {
                        return Err(format!("{} bytes echoed, more than the {} sent", self.received, self.job.bytes));
                    }
                }
                Err(RecvError::Finished) => {
                    self.peer_closed = true;
                    return Ok(());
                }
                Err(RecvError::InvalidState) => return Ok(()),
            }
        }
    }
}

impl Service for TcpEchoClient {
    fn serve(&mut self, turn: &Turn, sockets: &mut SocketSet<'_>) {
        let socket = sockets.get_mut::<TcpSocket>(self.handle);
        match self.phase {
            ClientPhase::Waiting => {
                let address = match self.job.remote.addr {
                    IpAddress::V4(_) => turn.address.map(IpAddress::V4),
                    // A source of the destination's scope: a global
                    // destination waits for SLAAC.
                    IpAddress::V6(dst) if dst.is_link_local() => turn.link_local6.map(IpAddress::V6),
                    IpAddress::V6(_) => turn.global6.map(IpAddress::V6),
                };
                let Some(address) = address else { return };
                // An ephemeral port (RFC 6335 range) that differs between runs.
                let port = 49152 + (random_u32() % 16384) as u16;
                let local = IpEndpoint::new(address, port);
                let started = StdInstant::now();
                self.phase = match socket.connect(local, self.job.remote, turn.now) {
                    Ok(()) => {
                        println!("client: connecting {local} -> {}", self.job.remote);
                        ClientPhase::Running(started)
                    }
                    Err(err) => self.fail(started, format!("cannot connect: {err:?}")),
                };
            }
            ClientPhase::Running(started) => {
                self.push(socket);
                if let Err(why) = self.pull(socket) {
                    socket.abort();
                    self.phase = self.fail(started, why);
                    return;
                }
                // Queue more as soon as reading made room in the window
                // the other way (the echo); the socket's FIN goes last.
                self.push(socket);
                let state = socket.state();
                let everything = self.received == self.job.bytes && self.closed && self.peer_closed;
                if everything && matches!(state, State::TimeWait | State::Closed) {
                    let secs = started.elapsed().as_secs_f64();
                    let info = socket.info();
                    let checked = if self.job.check { "intact" } else { "(not checked)" };
                    self.phase = ClientPhase::Done(Outcome {
                        ok: true,
                        line: format!("client: {} bytes echoed {checked} in {secs:.2} s", self.job.bytes),
                        details: format!(
                            "client info: {:.1} MB/s each way, state={state} retransmits={} srtt={:?} rto={:?} mss={}",
                            self.job.bytes as f64 / secs.max(1e-6) / 1e6,
                            info.retransmits,
                            info.srtt,
                            info.rto,
                            info.mss
                        ),
                    });
                } else if state == State::Closed {
                    let why = if self.peer_closed { "closed early" } else { "connection reset or timed out" };
                    self.phase = self.fail(started, why.to_string());
                }
            }
            ClientPhase::Done(_) => {}
        }
    }

    fn counters(&self, sockets: &SocketSet<'_>) -> String {
        let info = sockets.get::<TcpSocket>(self.handle).info();
        format!(
            "tcp_client: sent={} echoed={} state={} retransmits={}",
            self.queued, self.received, info.state, info.retransmits
        )
    }

    fn outcome(&self) -> Option<&Outcome> {
        match &self.phase {
            ClientPhase::Done(outcome) => Some(outcome),
            ClientPhase::Waiting | ClientPhase::Running(_) => None,
        }
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

/// The device the loop runs on: the TAP itself, or the TAP behind a fault
/// injector. Beyond [`Device`], the loop needs the TAP to sleep on and the
/// injector's own deadlines.
trait Link: Device {
    fn tap(&self) -> &TapDevice;
    /// Whether a frame arriving on the TAP can be taken now (the injector
    /// takes none while its receive queue is full): only then is the TAP
    /// worth waiting on.
    fn takes_frames(&self) -> bool {
        true
    }
    /// When frames held back (delayed, reordered) are due.
    fn due(&self, _now: Instant) -> Option<Instant> {
        None
    }
    /// Sends held-back transmitted frames that are due.
    fn flush(&mut self, _now: Instant) {}
    /// (received, transmitted) fault counters.
    fn faults(&self) -> Option<(FaultCounters, FaultCounters)> {
        None
    }
}

impl Link for TapDevice {
    fn tap(&self) -> &TapDevice {
        self
    }
}

impl Link for FaultInjector<TapDevice, Vec<u8>> {
    fn tap(&self) -> &TapDevice {
        self.inner()
    }
    fn takes_frames(&self) -> bool {
        !self.rx_is_full()
    }
    fn due(&self, now: Instant) -> Option<Instant> {
        self.poll_at(now)
    }
    fn flush(&mut self, now: Instant) {
        FaultInjector::flush(self, now);
    }
    fn faults(&self) -> Option<(FaultCounters, FaultCounters)> {
        Some((*self.rx_counters(), *self.tx_counters()))
    }
}

fn run(opts: Options) -> Result<(), String> {
    // Termination signals arrive on a file descriptor the loop waits on
    // together with the TAP, so the counters are printed on the way out.
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGTERM);
    mask.add(Signal::SIGINT);
    mask.thread_block().map_err(|e| format!("cannot block signals: {e}"))?;
    let signals =
        SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK).map_err(|e| format!("cannot open a signalfd: {e}"))?;

    let tap = TapDevice::new(&opts.tap).map_err(|e| format!("cannot open TAP {}: {e}", opts.tap))?;
    match opts.faults {
        None => run_on(opts, tap, signals),
        Some(faults) => {
            let mut link = FaultInjector::with_capacity(tap, FAULT_QUEUE_FRAMES, opts.fault_seed);
            link.set_rx_faults(faults);
            link.set_tx_faults(faults);
            println!(
                "faults both ways: loss={} reorder={} dup={} corrupt={} ppm, seed {}",
                faults.drop_ppm, faults.reorder_ppm, faults.duplicate_ppm, faults.corrupt_ppm, opts.fault_seed
            );
            run_on(opts, link, signals)
        }
    }
}

fn run_on<L: Link>(opts: Options, mut link: L, mut signals: SignalFd) -> Result<(), String> {
    let mac = opts.mac.unwrap_or_else(random_mac);

    // Every buffer the stack works in, allocated once here.
    let mut neighbours = [NeighbourSlot::EMPTY; NEIGHBOURS];
    let mut ndp_neighbours = [NdpSlot::EMPTY; NEIGHBOURS];
    let mut pending_slots = [PendingSlot::EMPTY; PENDING_SLOTS];
    let mut pending_bytes = vec![0u8; PENDING_BYTES];
    let mut reassembly_slots = [ReassemblySlot::EMPTY; REASSEMBLY_SLOTS];
    let mut reassembly_bytes = vec![0u8; REASSEMBLY_SLOTS * REASSEMBLY_BYTES_PER_SLOT];
    let mut echo_rx_meta = [UdpPacketMetadata::EMPTY; UDP_SLOTS];
    let mut echo_rx_bytes = vec![0u8; UDP_BYTES];
    let mut echo_tx_meta = [UdpPacketMetadata::EMPTY; UDP_SLOTS];
    let mut echo_tx_bytes = vec![0u8; UDP_BYTES];
    let mut dns_queries = [DnsQuerySlot::EMPTY; DNS_QUERIES];
    // TCP: the echo listener's pool and the client's socket, 64 KiB each
    // way each, all keyed by one secret (the interface hands the same one
    // to sockets created without it).
    let tcp_secret = random_secret();
    let tcp_config = TcpConfig { isn_secret: tcp_secret, ..TcpConfig::default() };
    let mut tcp_bytes = vec![0u8; (TCP_POOL + 1) * 2 * TCP_BUFFER];
    let mut tcp_chunks = tcp_bytes.chunks_mut(TCP_BUFFER);
    let mut tcp_socket = || {
        let rx = tcp_chunks.next().expect("a buffer per socket and direction");
        let tx = tcp_chunks.next().expect("a buffer per socket and direction");
        TcpSocket::new(RingBuffer::new(rx), RingBuffer::new(tx), tcp_config)
    };
    let mut tcp_pool: Vec<TcpSocket<'_>> = (0..TCP_POOL).map(|_| tcp_socket()).collect();
    let client_socket = tcp_socket();
    let mut socket_storage = [SocketStorage::EMPTY; SOCKETS];

    let mut config = Config::new(mac);
    config.seed = random_u32();
    config.tcp_secret = tcp_secret;
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
    println!("tap_stack on {} mac {mac}", link.tap().name());
    if opts.ipv6 {
        let v6 = Ipv6Config { slaac: opts.ip6.is_none(), seed: random_u32(), ..Ipv6Config::new() };
        iface.enable_ipv6(v6, &mut ndp_neighbours, Instant::ZERO);
        if let Some(cidr) = opts.ip6 {
            iface.add_ipv6_address(Instant::ZERO, cidr).map_err(|e| format!("cannot use address {cidr}: {e:?}"))?;
        }
        iface.set_ipv6_gateway(opts.gw6);
    }

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

    let mut services: Vec<Box<dyn Service>> = vec![
        Box::new(UdpEcho::new(
            &mut sockets,
            7,
            (&mut echo_rx_meta, &mut echo_rx_bytes),
            (&mut echo_tx_meta, &mut echo_tx_bytes),
        )),
        Box::new(TcpEcho::new(&mut sockets, 7, &mut tcp_pool, tcp_config)),
    ];
    let client_mode = opts.client.is_some();
    if let Some(job) = opts.client {
        services.push(Box::new(TcpEchoClient::new(&mut sockets, job, client_socket)));
    }

    let started = StdInstant::now();
    let deadline = opts.duration.map(|d| started + d);
    let mut shown: Option<Configuration> = None;
    let mut dhcp_shown: Option<DhcpState> = None;
    let mut failure = None;
    let stop_reason = loop {
        let now = Instant::from_micros(started.elapsed().as_micros() as i64);
        let result = iface.poll(now, &mut link, &mut sockets);
        let address = iface.addresses().next().map(|cidr| cidr.address());
        while let Some(event) = iface.take_ipv6_event() {
            match event {
                Ipv6Event::AddressPreferred(a) => println!("ipv6 address {a} in use"),
                Ipv6Event::AddressDuplicate(a) => println!("ipv6 address {a} duplicate: not used"),
                Ipv6Event::AddressDeprecated(a) => println!("ipv6 address {a} deprecated"),
                Ipv6Event::AddressExpired(a) => println!("ipv6 address {a} expired"),
                Ipv6Event::RouterAdded(r) => println!("ipv6 router {r}"),
                Ipv6Event::RouterRemoved(r) => println!("ipv6 router {r} gone"),
                Ipv6Event::Disabled(a) => println!("ipv6 disabled: link-local {a} from the MAC is a duplicate"),
            }
        }
        let usable6 = || iface.ipv6_addresses().filter(|a| a.is_assigned()).map(|a| a.address);
        let turn = Turn {
            now,
            address,
            link_local6: usable6().find(|a| a.is_link_local()),
            global6: usable6().find(|a| !a.is_link_local()),
        };
        for service in services.iter_mut() {
            service.serve(&turn, &mut sockets);
        }
        link.flush(now);

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

        if let Some(outcome) = services.iter().find_map(|s| s.outcome()) {
            println!("{}", outcome.line);
            if !outcome.details.is_empty() {
                println!("{}", outcome.details);
            }
            if !outcome.ok {
                failure = Some("the client failed".to_string());
            }
            // One more poll sends what the last turn queued (the ACK of
            // the server's FIN).
            iface.poll(now, &mut link, &mut sockets);
            link.flush(now);
            break "client done".to_string();
        }
        if let Some(signal) = signals.read_signal().ok().flatten() {
            let name = Signal::try_from(signal.ssi_signo as i32).map_or("a signal", |s| s.as_str());
            break name.to_string();
        }
        let left = match deadline {
            Some(deadline) => match deadline.checked_duration_since(StdInstant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => {
                    if client_mode {
                        failure = Some("the client did not finish in time".to_string());
                    }
                    break "duration elapsed".to_string();
                }
            },
            None => None,
        };
        if result.rx_budget_exhausted {
            continue; // frames are still waiting
        }
        // Sleep until the interface's or the link's next deadline (new
        // work the services queued makes that "now"), the end of the run,
        // or a frame/signal.
        let due = [iface.poll_at(now, &sockets), link.due(now)].into_iter().flatten().min().map(|at| {
            let micros = (at - now).total_micros();
            StdDuration::from_micros(micros)
        });
        let timeout = match (due, left) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if timeout != Some(StdDuration::ZERO) {
            let tap_fd = link.tap().as_raw_fd();
            let sources: &[&dyn AsRawFd] = if link.takes_frames() { &[&tap_fd, &signals] } else { &[&signals] };
            wait_readable(sources, timeout).map_err(|e| format!("poll: {e}"))?;
        }
    };

    println!("stopping: {stop_reason}");
    for (layer, counters) in layers(&iface) {
        println!("counters {layer}: {counters}");
    }
    let tap_counters = link.tap().counters();
    println!(
        "counters tap: rx_frames={} tx_frames={} tx_errors={}",
        tap_counters.rx_frames, tap_counters.tx_frames, tap_counters.tx_errors
    );
    if let Some((rx, tx)) = link.faults() {
        for (direction, c) in [("rx", rx), ("tx", tx)] {
            println!(
                "counters faults {direction}: frames={} delivered={} dropped={} duplicated={} reordered={} \
corrupted={} overflowed={}",
                c.frames, c.delivered, c.dropped, c.duplicated, c.reordered, c.corrupted, c.overflowed
            );
        }
    }
    for service in &services {
        println!("counters {}", service.counters(&sockets));
    }
    if let Some(handle) = dhcp {
        println!("counters dhcp: state={:?}", sockets.get::<DhcpClient>(handle).state());
    }
    match failure {
        None => Ok(()),
        Some(why) => Err(why),
    }
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
