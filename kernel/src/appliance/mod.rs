//! The appliance: the one owner of the network stack (interface, sockets)
//! and of the services that run on it. It is generic over the NIC, so the
//! kernel drives it with its virtio driver and host tests drive it with an
//! in-memory link to a second stack.
//!
//! Services, over IPv4 and IPv6 alike (the listeners take both families):
//! - ping: answered by the interface itself (fragmented pings included);
//! - echo on port 7 (RFC 862), UDP and TCP (many clients, one listener);
//! - HTTP/1.1 on port 80: home page, `/stats` (JSON), `/metrics` (Prometheus).
//!
//! IPv6 is on from boot: a link-local address from the MAC, then SLAAC
//! from router advertisements, or the static address of the bootargs.
mod address;
mod http_service;
mod slot_mask;
mod stats_view;
mod tcp_echo;

pub use address::AddressPlan;
pub use http_service::{HttpService, Slot as HttpSlot};
pub use stats_view::{NicReport, StatsView};
pub use tcp_echo::TcpEcho;

use crate::apps::echo;
use crate::apps::http::{HttpConnection, INPUT_CAPACITY, OUTPUT_CAPACITY};
use crate::apps::stats::Metric;
use crate::bootargs::{Address6Mode, AddressMode};
use log::{info, warn};
use net::iface::{
    Config, Interface, InterfaceStorage, Ipv6Config, Ipv6Event, NdpSlot, NeighbourSlot, PendingSlot, ReassemblySlot,
};
use net::phy::Device;
use net::socket::dhcpv4::DhcpClient;
use net::socket::tcp::{ListenerConfig, TcpConfig, TcpListener, TcpSocket};
use net::socket::udp::{UdpPacketMetadata, UdpSocket};
use net::socket::{SocketHandle, SocketSet, SocketStorage};
use net::storage::{PacketBuffer, RingBuffer};
use net::time::{Duration, Instant};
use net::wire::{EthernetAddress, Ipv4Address, Ipv4Cidr, Ipv6Address};

/// The echo service's port (RFC 862).
pub const ECHO_PORT: u16 = 7;
/// The HTTP service's port.
pub const HTTP_PORT: u16 = 80;
/// TCP echo connections at once (the listener's socket pool).
pub const ECHO_CONNECTIONS: usize = 40;
/// HTTP connections served at once.
pub const HTTP_CONNECTIONS: usize = 64;
/// Sockets beyond the limit, which only answer 503 and close.
const HTTP_BUSY_SOCKETS: usize = 8;
const HTTP_SOCKETS: usize = HTTP_CONNECTIONS + HTTP_BUSY_SOCKETS;
const ECHO_BUFFER: usize = 256 * 1024;
const HTTP_RX_BUFFER: usize = 16 * 1024;
const HTTP_TX_BUFFER: usize = 32 * 1024;
/// How long DHCP may take before the static fallback address is used.
pub const DHCP_FALLBACK_AFTER: Duration = Duration::from_secs(5);

/// Every buffer the appliance uses, provided once by the embedder.
#[derive(Debug)]
pub struct Storage<'a> {
    pub neighbours: &'a mut [NeighbourSlot],
    /// The IPv6 neighbour cache.
    pub ndp_neighbours: &'a mut [NdpSlot],
    pub pending_slots: &'a mut [PendingSlot],
    pub pending_bytes: &'a mut [u8],
    pub reassembly_slots: &'a mut [ReassemblySlot],
    pub reassembly_bytes: &'a mut [u8],
    pub sockets: &'a mut [SocketStorage<'a>],
    pub udp_rx_metadata: &'a mut [UdpPacketMetadata],
    pub udp_rx_bytes: &'a mut [u8],
    pub udp_tx_metadata: &'a mut [UdpPacketMetadata],
    pub udp_tx_bytes: &'a mut [u8],
    /// Room for the largest UDP datagram the echo service copies (64 KiB).
    pub scratch: &'a mut [u8],
    /// The TCP echo listener's socket pool (each over its own buffers).
    pub echo_sockets: &'a mut [TcpSocket<'a>],
    /// The HTTP listener's socket pool, with a connection state per socket.
    pub http_sockets: &'a mut [TcpSocket<'a>],
    pub http_connections: &'a mut [HttpConnection<'a>],
    pub http_slots: &'a mut [HttpSlot],
}

impl Storage<'static> {
    /// Allocates every buffer once, at boot, from the kernel heap (or the
    /// host allocator in tests), for the life of the program.
    pub fn allocate() -> Storage<'static> {
        fn leak<T: Clone>(value: T, n: usize) -> &'static mut [T] {
            alloc::vec![value; n].leak()
        }
        fn pool(n: usize, rx: usize, tx: usize) -> &'static mut [TcpSocket<'static>] {
            alloc::vec::Vec::from_iter((0..n).map(|_| {
                TcpSocket::new(RingBuffer::new(leak(0u8, rx)), RingBuffer::new(leak(0u8, tx)), TcpConfig::default())
            }))
            .leak()
        }
        Storage {
            neighbours: leak(NeighbourSlot::EMPTY, 64),
            ndp_neighbours: leak(NdpSlot::EMPTY, 64),
            pending_slots: leak(PendingSlot::EMPTY, 64),
            pending_bytes: leak(0u8, 128 * 1024),
            // Four datagrams of up to 64 KiB reassembled at once.
            reassembly_slots: leak(ReassemblySlot::EMPTY, 4),
            reassembly_bytes: leak(0u8, 4 * 65536),
            sockets: alloc::vec::Vec::from_iter((0..16).map(|_| SocketStorage::EMPTY)).leak(),
            echo_sockets: pool(ECHO_CONNECTIONS, ECHO_BUFFER, ECHO_BUFFER),
            http_sockets: pool(HTTP_SOCKETS, HTTP_RX_BUFFER, HTTP_TX_BUFFER),
            http_connections: alloc::vec::Vec::from_iter(
                (0..HTTP_SOCKETS)
                    .map(|_| HttpConnection::new(leak(0u8, INPUT_CAPACITY), leak(0u8, OUTPUT_CAPACITY), Instant::ZERO)),
            )
            .leak(),
            http_slots: leak(HttpSlot::Free, HTTP_SOCKETS),
            udp_rx_metadata: leak(UdpPacketMetadata::EMPTY, 128),
            udp_rx_bytes: leak(0u8, 256 * 1024),
            udp_tx_metadata: leak(UdpPacketMetadata::EMPTY, 128),
            udp_tx_bytes: leak(0u8, 256 * 1024),
            scratch: leak(0u8, 65536),
        }
    }
}

/// How the appliance is configured at boot.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub mac: EthernetAddress,
    pub address: AddressMode,
    pub gateway: Option<Ipv4Address>,
    /// Entropy for the stack (ISNs, ports, DHCP transaction IDs).
    pub seed: u64,
    /// Used when DHCP gives no address in time.
    pub fallback: Ipv4Cidr,
    pub fallback_gateway: Ipv4Address,
    /// SLAAC from router advertisements, or a static IPv6 address
    /// (bootargs `ip6=`). The link-local address is there either way.
    pub address6: Address6Mode,
    /// A static IPv6 default router (bootargs `gw6=`), used when no router
    /// advertises itself.
    pub gateway6: Option<Ipv6Address>,
}

/// What the services did, for `/stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServiceCounters {
    pub udp_echo_replies: u64,
    /// Datagrams not echoed because their source could loop or amplify
    /// (port 0, other echo-like services, broadcast senders).
    pub udp_echo_refused: u64,
    /// Datagrams not echoed because the send buffer was full.
    pub udp_echo_dropped: u64,
}

pub struct Appliance<'a> {
    iface: Interface<'a>,
    sockets: SocketSet<'a>,
    udp_echo: SocketHandle,
    dhcp: Option<SocketHandle>,
    /// The TCP listeners: echo, then HTTP.
    listeners: [SocketHandle; 2],
    tcp_echo: TcpEcho,
    http: HttpService<'a>,
    plan: AddressPlan,
    scratch: &'a mut [u8],
    counters: ServiceCounters,
    booted: Instant,
}

/// 16 bytes of key material from the seed (SplitMix64 steps).
fn secret_from(seed: u64) -> [u8; 16] {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut secret = [0; 16];
    secret[..8].copy_from_slice(&next().to_le_bytes());
    secret[8..].copy_from_slice(&next().to_le_bytes());
    secret
}

impl<'a> Appliance<'a> {
    pub fn new(settings: Settings, storage: Storage<'a>, now: Instant) -> Appliance<'a> {
        let mut config = Config::new(settings.mac);
        config.seed = settings.seed as u32 ^ (settings.seed >> 32) as u32;
        config.tcp_secret = secret_from(settings.seed);
        let tcp = TcpConfig { isn_secret: config.tcp_secret, ..TcpConfig::default() };
        let mut iface = Interface::new(
            config,
            InterfaceStorage {
                neighbours: storage.neighbours,
                pending_slots: storage.pending_slots,
                pending_bytes: storage.pending_bytes,
                reassembly_slots: storage.reassembly_slots,
                reassembly_bytes: storage.reassembly_bytes,
            },
        );
        let slaac = settings.address6 == Address6Mode::Slaac;
        let v6 = Ipv6Config { slaac, seed: config.seed.rotate_left(8), ..Ipv6Config::new() };
        iface.enable_ipv6(v6, storage.ndp_neighbours, now);
        if let Address6Mode::Static(cidr) = settings.address6 {
            match iface.add_ipv6_address(now, cidr) {
                Ok(()) => info!("network: static IPv6 address {cidr} (used after DAD)"),
                Err(e) => log::error!("network: static IPv6 address {cidr} refused: {e:?}"),
            }
        }
        iface.set_ipv6_gateway(settings.gateway6);
        let mut sockets = SocketSet::new(storage.sockets);

        let mut udp = UdpSocket::new(
            PacketBuffer::new(storage.udp_rx_metadata, storage.udp_rx_bytes),
            PacketBuffer::new(storage.udp_tx_metadata, storage.udp_tx_bytes),
        );
        if let Err(e) = udp.bind(ECHO_PORT) {
            warn!("udp echo: cannot bind port {ECHO_PORT}: {e:?}");
        }
        let udp_echo = sockets.add(udp);

        // Half the pool may be half-open (the rest is kept for clients that
        // proved their address with a SYN cookie); any number may wait for
        // accept, since the services accept every round and the pool bounds
        // memory anyway.
        let backlog = |pool: usize| ListenerConfig { syn_backlog: pool / 2, accept_backlog: pool, syn_cookies: true };
        let echo_pool = storage.echo_sockets.len();
        for socket in storage.echo_sockets.iter_mut() {
            socket.set_config(tcp);
        }
        let echo_listener = sockets.add(TcpListener::new(ECHO_PORT, storage.echo_sockets, tcp, backlog(echo_pool)));
        // A response is written whole: Nagle would only hold back its last
        // segment until the client's (possibly delayed) ACK.
        let http_tcp = TcpConfig { nagle: false, ..tcp };
        for socket in storage.http_sockets.iter_mut() {
            socket.set_config(http_tcp);
        }
        let http_pool = storage.http_sockets.len();
        let http_listener =
            sockets.add(TcpListener::new(HTTP_PORT, storage.http_sockets, http_tcp, backlog(http_pool)));
        let http_limit = http_pool.saturating_sub(HTTP_BUSY_SOCKETS).max(1);

        let mut dhcp = None;
        let plan = match settings.address {
            AddressMode::Static(cidr) => {
                AddressPlan::configure_static(&mut iface, cidr, settings.gateway);
                AddressPlan::Static
            }
            AddressMode::Dhcp => {
                dhcp = Some(sockets.add(DhcpClient::new(settings.mac, settings.seed as u32)));
                info!("network: asking DHCP for an address (fallback {} in {DHCP_FALLBACK_AFTER})", settings.fallback);
                AddressPlan::dhcp(now + DHCP_FALLBACK_AFTER, settings.fallback, settings.fallback_gateway)
            }
        };
        info!(
            "network: MAC {}, services: ping, echo udp/{ECHO_PORT} tcp/{ECHO_PORT} ({echo_pool} connections), \
             http tcp/{HTTP_PORT} ({http_limit} connections)",
            settings.mac
        );
        Appliance {
            iface,
            sockets,
            udp_echo,
            dhcp,
            listeners: [echo_listener, http_listener],
            tcp_echo: TcpEcho::default(),
            http: HttpService::new(storage.http_connections, storage.http_slots, http_limit),
            plan,
            scratch: storage.scratch,
            counters: ServiceCounters::default(),
            booted: now,
        }
    }

    /// Does all the work due at `now`: frames in and out, timers, services.
    /// Returns when it next needs to run (`None`: only on a frame).
    pub fn poll<D: Device>(&mut self, now: Instant, device: &mut D, nic: NicReport) -> Option<Instant> {
        // Services may queue output, which the next interface poll sends;
        // loop while a round made progress (bounded, so a flood cannot
        // starve the timer).
        let mut busy = false;
        for _ in 0..4 {
            let result = self.iface.poll(now, device, &mut self.sockets);
            let mut served = self.serve_udp_echo();
            let [echo, http] = self.listeners;
            served |= self.tcp_echo.serve(self.sockets.get_mut::<TcpListener>(echo), self.scratch);
            served |= self.http.receive(now, self.sockets.get_mut::<TcpListener>(http));
            let services = self.service_metrics();
            let view = StatsView {
                now,
                uptime: now - self.booted,
                iface: &self.iface,
                sockets: &self.sockets,
                listeners: &self.listeners,
                dhcp: !matches!(self.plan, AddressPlan::Static),
                nic,
                services: &services,
            };
            self.http.respond(now, &view);
            served |= self.http.transmit(self.sockets.get_mut::<TcpListener>(http));
            let router = self.dhcp.and_then(|h| self.sockets.try_get::<DhcpClient>(h)?.config()?.router);
            self.plan.update(now, &mut self.iface, router);
            log_ipv6_events(&mut self.iface);
            busy = result.did_work() || served;
            if !busy {
                break;
            }
        }
        if busy {
            // Frames may still wait in the device, whose interrupt was
            // already acknowledged: run again at once.
            return Some(now);
        }
        [self.iface.poll_at(now, &self.sockets), self.plan.deadline(), self.http.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// The services' counters as metrics for `/stats` and `/metrics`.
    fn service_metrics(&self) -> [Metric<'static>; 8] {
        let c = self.counters;
        [
            Metric::counter("udp_echo_replies", c.udp_echo_replies),
            Metric::counter("udp_echo_refused", c.udp_echo_refused),
            Metric::counter("udp_echo_dropped", c.udp_echo_dropped),
            Metric::counter("tcp_echo_connections", self.tcp_echo.connections),
            Metric::counter("tcp_echo_bytes", self.tcp_echo.bytes),
            Metric::counter("http_connections", self.http.accepted),
            Metric::counter("http_rejected_busy", self.http.rejected_busy),
            Metric::gauge("http_active", self.http.active() as u64),
        ]
    }

    /// Echoes every queued datagram; true if any was handled.
    fn serve_udp_echo(&mut self) -> bool {
        let socket = self.sockets.get_mut::<UdpSocket>(self.udp_echo);
        let mut handled = false;
        while let Ok((len, from)) = socket.recv_slice(self.scratch) {
            handled = true;
            match echo::udp_reply_to(from) {
                Some(to) => match socket.send_slice(&self.scratch[..len], to) {
                    Ok(()) => self.counters.udp_echo_replies += 1,
                    Err(_) => self.counters.udp_echo_dropped += 1,
                },
                None => self.counters.udp_echo_refused += 1,
            }
        }
        handled
    }

    pub fn interface(&self) -> &Interface<'a> {
        &self.iface
    }

    pub fn sockets(&self) -> &SocketSet<'a> {
        &self.sockets
    }

    pub fn counters(&self) -> ServiceCounters {
        self.counters
    }

    /// HTTP connections being served now.
    pub fn http_active(&self) -> usize {
        self.http.active()
    }

    /// The address in use, if any.
    pub fn address(&self) -> Option<Ipv4Cidr> {
        self.iface.addresses().next()
    }

    /// The IPv6 address in use (global if any, else link-local).
    pub fn ipv6_address(&self) -> Option<Ipv6Address> {
        self.iface.ipv6_address()
    }
}

/// Logs what IPv6 autoconfiguration did since the last poll.
fn log_ipv6_events(iface: &mut Interface) {
    while let Some(event) = iface.take_ipv6_event() {
        match event {
            Ipv6Event::AddressPreferred(a) => info!("network: IPv6 address {a} in use"),
            Ipv6Event::AddressDuplicate(a) => {
                warn!("network: IPv6 address {a} is in use by another node (DAD failed): not used")
            }
            Ipv6Event::AddressDeprecated(a) => info!("network: IPv6 address {a} deprecated"),
            Ipv6Event::AddressExpired(a) => info!("network: IPv6 address {a} expired"),
            Ipv6Event::RouterAdded(r) => info!("network: IPv6 default router {r}"),
            Ipv6Event::RouterRemoved(r) => info!("network: IPv6 router {r} gone"),
            Ipv6Event::Disabled(a) => {
                warn!("network: IPv6 disabled: link-local {a} from the MAC address is in use by another node (IPv4 goes on)")
            }
        }
    }
}
