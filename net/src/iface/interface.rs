//! The Ethernet interface: configuration, the poll loop and the send path.
//!
//! [`Interface::poll`] runs in two phases. The receive phase takes up to a
//! budget of frames from the device and handles each one completely:
//! ARP, IPv4 checks and reassembly, ICMP echo, and delivery to sockets.
//! Immediate answers (ARP replies, echo replies, port unreachable) use the
//! transmit token that comes with the received frame. The egress phase
//! then asks the device for transmit tokens and sends what is due:
//! gratuitous ARP, ARP requests, packets that were waiting for an ARP
//! reply, echo replies too large for one frame, reassembly time-exceeded
//! errors, and finally whatever the sockets have queued: UDP, ICMP, DHCP
//! and DNS first, then TCP sockets and listeners in turn, each allowed
//! [`Config::tcp_segments_per_socket`] segments per poll, the socket
//! after the one that went first last time going first.
//!
//! A TCP segment goes to the connection that owns its 4-tuple, else to
//! the first listener (a [`TcpListener`](crate::socket::tcp::TcpListener)
//! or a socket in LISTEN) that accepts it; the socket's immediate answer
//! (challenge ACK, SYN cookie, RST) leaves on the received frame's
//! transmit token. A segment nobody wants is answered with an RST
//! (RFC 9293 3.10.7.1), never an RST for an RST.

use crate::phy::{Device, DeviceCapabilities, RxToken, TxToken};
use crate::socket::dhcpv4::{self, DhcpConfig, DhcpEvent};
use crate::socket::dns;
use crate::socket::set::{Socket, SocketSet};
use crate::socket::tcp::{TcpConfig, TcpSocket};
use crate::storage::{PacketBuffer, PacketMetadata};
use crate::time::{Duration, Instant};
use crate::wire::icmpv4::{self, Message};
use crate::wire::tcp::Repr as TcpRepr;
use crate::wire::{arp, ipv4, tcp};
use crate::wire::{EthernetAddress, IpAddress, IpEndpoint, IpProtocol, Ipv4Address, Ipv4Cidr, Ipv6Address, Ipv6Cidr};

use super::egress::{multicast_mac, DeviceTokens, Link, OneToken, OutPacket, TxTokens};
use super::ingress;
use super::ipv6::Ipv6State;
use super::ndp_cache::{NdpEntry, NdpSlot};
use super::neighbour::{self, Due, Lookup, NeighbourCache, NeighbourSlot};
use super::rate_limit::TokenBucket;
use super::reassembly::{Reassembler, ReassemblySlot};
use super::route::Routes;
use super::slaac::{AddressState, Ipv6AddressError, Ipv6AddressInfo, Ipv6Config, Ipv6Event, Router};
use super::stats::{Stats, TxStats};

/// IPv4 addresses an interface holds at once.
pub const MAX_ADDRESSES: usize = 4;
/// Multicast groups an interface listens to besides all-hosts (224.0.0.1).
pub const MAX_MULTICAST_GROUPS: usize = 4;
/// DNS servers kept (from DHCP or set by the embedder).
pub const MAX_DNS_SERVERS: usize = dns::MAX_SERVERS;
/// The all-hosts group every IPv4 host belongs to.
pub const ALL_HOSTS: Ipv4Address = Ipv4Address::new(224, 0, 0, 1);

/// Interface settings. [`Config::new`] gives the defaults.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    pub mac: EthernetAddress,
    /// Live on this 802.1Q VLAN: accept only frames tagged with it and tag
    /// every frame sent. `None`: tagged frames are dropped (and counted).
    pub vlan_id: Option<u16>,
    /// TTL of datagrams this interface originates.
    pub ttl: u8,
    /// How long a learnt neighbour is trusted.
    pub neighbour_lifetime: Duration,
    /// ARP requests sent for an address before its packets are dropped.
    pub arp_max_tries: u8,
    /// Answer echo requests sent to a broadcast or multicast address.
    pub reply_to_broadcast_ping: bool,
    /// Send ICMP time exceeded (code 1) when a reassembly times out after
    /// its first fragment came.
    pub reassembly_time_exceeded: bool,
    /// ICMP errors per second (token bucket rate) and burst.
    pub icmp_error_rate: u32,
    pub icmp_error_burst: u32,
    /// Frames handled per poll when the device sets no `max_burst`.
    pub rx_budget: usize,
    /// Let DHCP set the DNS servers given to resolvers.
    pub dns_servers_from_dhcp: bool,
    /// Varies IP identifications and the resolver's port between boots.
    pub seed: u32,
    /// The secret keying TCP initial sequence numbers (RFC 6528), SYN
    /// cookies and timestamp offsets: seed it from the platform's entropy
    /// (all zero, the default, makes ISNs guessable). Build sockets and
    /// listeners with [`Interface::tcp_config`], which carries it; a
    /// socket in the set whose secret is all zero also receives it at the
    /// next poll while closed or listening (a listener keeps the config it
    /// was built with).
    pub tcp_secret: [u8; 16],
    /// Segments one TCP socket or listener may send per poll before the
    /// next one gets its turn (the egress phase starts with a different
    /// socket each poll).
    pub tcp_segments_per_socket: usize,
}

impl Config {
    /// The defaults for an interface with this MAC address.
    pub const fn new(mac: EthernetAddress) -> Config {
        Config {
            mac,
            vlan_id: None,
            ttl: 64,
            neighbour_lifetime: neighbour::DEFAULT_LIFETIME,
            arp_max_tries: neighbour::DEFAULT_MAX_TRIES,
            reply_to_broadcast_ping: false,
            reassembly_time_exceeded: true,
            icmp_error_rate: 10,
            icmp_error_burst: 10,
            rx_budget: 64,
            dns_servers_from_dhcp: true,
            seed: 0,
            tcp_secret: [0; 16],
            tcp_segments_per_socket: 64,
        }
    }
}

/// A packet waiting for its next hop's Ethernet address (ARP or NDP): the
/// IP header fields (its IP payload is the queued bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingPacket {
    pub(crate) src: IpAddress,
    pub(crate) dst: IpAddress,
    pub(crate) protocol: IpProtocol,
    /// TTL or hop limit.
    pub(crate) ttl: u8,
    pub(crate) dont_frag: bool,
    pub(crate) next_hop: IpAddress,
}

impl<A: Copy + Into<IpAddress>> OutPacket<'_, A> {
    /// Queues a copy of the datagram in `pending` until the link address of
    /// `next_hop` is known; false when the queue is full.
    pub(crate) fn queue_until_resolved(&self, pending: &mut PendingQueue<'_>, next_hop: A, dont_frag: bool) -> bool {
        let header = PendingPacket {
            src: self.src.into(),
            dst: self.dst.into(),
            protocol: self.protocol,
            ttl: self.ttl,
            dont_frag,
            next_hop: next_hop.into(),
        };
        match pending.enqueue(self.payload_len(), header) {
            Ok(buf) => {
                self.write_payload(buf);
                true
            }
            Err(_) => false,
        }
    }
}

/// Sends `payload_len` bytes of IP payload in fragments of `step` bytes,
/// each behind `headers_len` bytes of headers, counting each in `sent`.
/// `write` builds one frame: `(frame, offset, len, more fragments)`.
pub(crate) fn send_fragments<T: TxTokens>(
    tokens: &mut T,
    tx: &mut TxStats,
    sent: &mut u64,
    payload_len: usize,
    step: usize,
    headers_len: usize,
    mut write: impl FnMut(&mut [u8], usize, usize, bool),
) -> Result<(), SendError> {
    let mut offset = 0;
    while offset < payload_len {
        let len = step.min(payload_len - offset);
        let more = offset + len < payload_len;
        let Some(token) = tokens.next() else {
            tx.device_busy += 1;
            return Err(SendError::DeviceBusy);
        };
        token.consume(headers_len + len, |buf| write(buf, offset, len, more));
        tokens.count();
        *sent += 1;
        offset += len;
    }
    Ok(())
}

/// A metadata slot of the ARP pending queue.
pub type PendingSlot = PacketMetadata<PendingPacket>;
pub(crate) type PendingQueue<'a> = PacketBuffer<'a, PendingPacket>;

/// Caller storage for an interface.
#[derive(Debug)]
pub struct InterfaceStorage<'a> {
    /// The neighbour cache (e.g. 16 slots).
    pub neighbours: &'a mut [NeighbourSlot],
    /// Packets waiting for ARP: one slot per packet (two when it needs
    /// padding in the ring) ...
    pub pending_slots: &'a mut [PendingSlot],
    /// ... and their bytes (IP payloads, so at least an MTU).
    pub pending_bytes: &'a mut [u8],
    /// Datagrams reassembled at once.
    pub reassembly_slots: &'a mut [ReassemblySlot],
    /// Shared equally between the reassembly slots: the largest datagram
    /// accepted is `reassembly_bytes.len() / reassembly_slots.len()`.
    pub reassembly_bytes: &'a mut [u8],
}

/// An address could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressError {
    /// All [`MAX_ADDRESSES`] (or multicast group) slots are taken.
    Full,
    /// Not a usable unicast address (or not a multicast group).
    Invalid,
}

/// What one poll did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollResult {
    /// Frames taken from the device.
    pub rx_frames: usize,
    /// Frames handed to the device.
    pub tx_frames: usize,
    /// The receive budget ran out: frames may still be waiting, poll again.
    pub rx_budget_exhausted: bool,
    /// The device refused a transmit: work is left for the next poll.
    pub tx_blocked: bool,
}

impl PollResult {
    /// Whether anything was received or sent.
    pub fn did_work(&self) -> bool {
        self.rx_frames > 0 || self.tx_frames > 0
    }
}

/// Why an outgoing datagram was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendError {
    /// No transmit token: try again at a later poll.
    DeviceBusy,
    /// Dropped for good (and counted).
    Dropped,
    /// It needs several frames and only one token is at hand.
    NeedsMultiFrame,
}

/// Where a datagram goes on the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NextHop {
    Mac(EthernetAddress),
    Ip(Ipv4Address),
}

/// The state the receive and send paths share (everything but the pending
/// queue and the reassembly buffers, which are borrowed alongside).
#[derive(Debug)]
pub(crate) struct Inner<'a> {
    pub config: Config,
    addresses: [Option<Ipv4Cidr>; MAX_ADDRESSES],
    /// Gratuitous ARP due for the address in the same slot.
    announce: [bool; MAX_ADDRESSES],
    groups: [Option<Ipv4Address>; MAX_MULTICAST_GROUPS],
    pub routes: Routes,
    pub neighbours: NeighbourCache<'a>,
    /// The address and gateway the DHCP client applied, to withdraw them.
    dhcp_address: Option<Ipv4Cidr>,
    dhcp_gateway: Option<Ipv4Address>,
    dns_servers: [Option<Ipv4Address>; MAX_DNS_SERVERS],
    /// DNS servers changed and resolvers have not been told yet.
    dns_dirty: bool,
    pub dns_port: u16,
    next_ident: u16,
    pub(crate) icmp_errors: TokenBucket,
    pub stats: Stats,
    pub caps: DeviceCapabilities,
    /// The last egress phase stopped on a busy device.
    tx_blocked: bool,
    /// The socket slot the next TCP egress pass starts at (round robin).
    tcp_cursor: usize,
    /// An ARP or NDP resolution started since the last scan for due
    /// requests.
    pub(crate) resolution_started: bool,
    /// IPv6, once [`Interface::enable_ipv6`] was called.
    pub(crate) ipv6: Option<Ipv6State<'a>>,
    /// The last destination the TCP send path routed and where it goes;
    /// forgotten whenever an address or a route changes.
    next_hop_cache: Option<(Ipv4Address, NextHop)>,
}

/// An Ethernet interface with IPv4.
#[derive(Debug)]
pub struct Interface<'a> {
    inner: Inner<'a>,
    pending: PendingQueue<'a>,
    reassembly: Reassembler<'a>,
}

impl<'a> Interface<'a> {
    /// An interface with no address yet.
    pub fn new(config: Config, storage: InterfaceStorage<'a>) -> Interface<'a> {
        let seed = config.seed;
        Interface {
            inner: Inner {
                config,
                addresses: [None; MAX_ADDRESSES],
                announce: [false; MAX_ADDRESSES],
                groups: [None; MAX_MULTICAST_GROUPS],
                routes: Routes::new(),
                neighbours: NeighbourCache::new(storage.neighbours, config.neighbour_lifetime, config.arp_max_tries),
                dhcp_address: None,
                dhcp_gateway: None,
                dns_servers: [None; MAX_DNS_SERVERS],
                dns_dirty: false,
                dns_port: 49152 + (seed.rotate_left(7) % 16384) as u16,
                next_ident: (seed >> 16) as u16 ^ seed as u16,
                icmp_errors: TokenBucket::new(config.icmp_error_rate, config.icmp_error_burst),
                stats: Stats::default(),
                caps: DeviceCapabilities::default(),
                tx_blocked: false,
                tcp_cursor: 0,
                resolution_started: false,
                ipv6: None,
                next_hop_cache: None,
            },
            pending: PacketBuffer::new(storage.pending_slots, storage.pending_bytes),
            reassembly: Reassembler::new(storage.reassembly_slots, storage.reassembly_bytes),
        }
    }

    /// The settings the interface was created with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The interface's Ethernet address.
    pub fn mac(&self) -> EthernetAddress {
        self.inner.config.mac
    }

    /// Adds an address (replacing one with the same address and another
    /// prefix); a gratuitous ARP announces it at the next poll.
    pub fn add_address(&mut self, cidr: Ipv4Cidr) -> Result<(), AddressError> {
        self.inner.add_address(cidr)
    }

    /// Removes an address; whether it was there.
    pub fn remove_address(&mut self, addr: Ipv4Address) -> bool {
        self.inner.remove_address(addr)
    }

    /// The addresses, in the order they were added.
    pub fn addresses(&self) -> impl Iterator<Item = Ipv4Cidr> + '_ {
        self.inner.addresses.iter().flatten().copied()
    }

    /// The first address, if any.
    pub fn ipv4_address(&self) -> Option<Ipv4Address> {
        self.addresses().next().map(|c| c.address())
    }

    /// Whether `addr` is one of the interface's addresses.
    pub fn has_address(&self, addr: Ipv4Address) -> bool {
        self.inner.has_address(addr)
    }

    /// Sets (or clears) the router for destinations off every subnet and route.
    pub fn set_default_gateway(&mut self, gateway: Option<Ipv4Address>) {
        self.inner.next_hop_cache = None;
        self.inner.routes.set_default_gateway(gateway);
    }

    /// The default gateway, static or from DHCP.
    pub fn default_gateway(&self) -> Option<Ipv4Address> {
        self.inner.routes.default_gateway()
    }

    /// The static routes and default gateway.
    pub fn routes(&self) -> &Routes {
        &self.inner.routes
    }

    /// The route table, to add or remove static routes.
    pub fn routes_mut(&mut self) -> &mut Routes {
        self.inner.next_hop_cache = None;
        &mut self.inner.routes
    }

    /// Listens to a multicast group (no IGMP is sent).
    pub fn join_multicast_group(&mut self, group: Ipv4Address) -> Result<(), AddressError> {
        if !group.is_multicast() {
            return Err(AddressError::Invalid);
        }
        if group == ALL_HOSTS || self.inner.groups.contains(&Some(group)) {
            return Ok(());
        }
        let slot = self.inner.groups.iter_mut().find(|g| g.is_none()).ok_or(AddressError::Full)?;
        *slot = Some(group);
        Ok(())
    }

    /// Stops listening to a group; whether it was joined.
    pub fn leave_multicast_group(&mut self, group: Ipv4Address) -> bool {
        match self.inner.groups.iter_mut().find(|g| **g == Some(group)) {
            Some(slot) => {
                *slot = None;
                true
            }
            None => false,
        }
    }

    /// The DNS servers (from DHCP, or set with
    /// [`set_dns_servers`](Self::set_dns_servers)).
    pub fn dns_servers(&self) -> impl Iterator<Item = Ipv4Address> + '_ {
        self.inner.dns_servers.iter().flatten().copied()
    }

    /// Sets the DNS servers handed to every resolver in the socket set at
    /// the next poll.
    pub fn set_dns_servers(&mut self, servers: &[Ipv4Address]) {
        self.inner.set_dns_servers(servers.iter().map(|&s| Some(s)));
    }

    /// The local UDP port resolvers send from.
    pub fn dns_port(&self) -> u16 {
        self.inner.dns_port
    }

    /// Learnt neighbours: (address, MAC, expiry).
    pub fn neighbours(&self, now: Instant) -> impl Iterator<Item = (Ipv4Address, EthernetAddress, Instant)> + '_ {
        self.inner.neighbours.entries(now)
    }

    /// Packets waiting for ARP resolution.
    pub fn pending_packets(&self) -> usize {
        self.pending.packet_count()
    }

    /// Reassembly slots holding a datagram (complete or not).
    pub fn reassembly_slots_in_use(&self) -> usize {
        self.reassembly.in_use()
    }

    /// TCP socket settings with this interface's ISN secret
    /// ([`Config::tcp_secret`]) and the defaults otherwise: the config to
    /// build sockets and listeners with.
    pub fn tcp_config(&self) -> TcpConfig {
        TcpConfig { isn_secret: self.inner.config.tcp_secret, ..TcpConfig::default() }
    }

    /// The largest TCP payload one segment with a 20-byte header carries
    /// on the current device (`ip_mtu - 40`).
    pub fn tcp_mss(&self) -> usize {
        self.inner.tcp_mss()
    }

    /// The counters, per layer (see [`Stats::iter`]).
    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// Turns IPv6 on (dual stack): a link-local address from the MAC (or a
    /// stable identifier) starts duplicate address detection, router
    /// solicitations follow, and router advertisements configure addresses
    /// (SLAAC) and default routers as `config` allows. `neighbours` is the
    /// IPv6 neighbour cache (e.g. 16 slots); packets waiting for neighbour
    /// discovery share the pending queue with ARP. Calling it again starts
    /// over with the new settings.
    pub fn enable_ipv6(&mut self, config: Ipv6Config, neighbours: &'a mut [NdpSlot], now: Instant) {
        self.inner.ipv6 = Some(Ipv6State::new(config, self.inner.config.mac, neighbours, now));
    }

    /// Whether IPv6 is on.
    pub fn ipv6_enabled(&self) -> bool {
        self.inner.ipv6.is_some()
    }

    /// Adds a static IPv6 address; it is used once DAD passes (watch
    /// [`take_ipv6_event`](Self::take_ipv6_event)), and its prefix is on
    /// link. `Invalid` also when IPv6 is off.
    pub fn add_ipv6_address(&mut self, now: Instant, cidr: Ipv6Cidr) -> Result<(), Ipv6AddressError> {
        let v6 = self.inner.ipv6.as_mut().ok_or(Ipv6AddressError::Invalid)?;
        v6.autoconf.add_static(now, cidr.address(), cidr.prefix_len())
    }

    /// Removes an IPv6 address; whether it was there.
    pub fn remove_ipv6_address(&mut self, addr: Ipv6Address) -> bool {
        self.inner.ipv6.as_mut().is_some_and(|v6| v6.autoconf.remove(addr))
    }

    /// Every IPv6 address with its state (tentative, preferred,
    /// deprecated, duplicate), origin and lifetimes.
    pub fn ipv6_addresses(&self) -> impl Iterator<Item = Ipv6AddressInfo> + '_ {
        self.inner.ipv6.iter().flat_map(|v6| v6.autoconf.addresses())
    }

    /// The preferred global address if any, else the link-local one (only
    /// addresses that passed DAD).
    pub fn ipv6_address(&self) -> Option<Ipv6Address> {
        let usable = || self.ipv6_addresses().filter(|a| a.is_assigned());
        usable()
            .filter(|a| !a.address.is_link_local())
            .max_by_key(|a| a.state == AddressState::Preferred)
            .or_else(|| usable().next())
            .map(|a| a.address)
    }

    /// The source address to reach `dst` from (RFC 6724, simplified: same
    /// scope first, preferred before deprecated, longest common prefix);
    /// for choosing a TCP socket's local address.
    pub fn ipv6_source_for(&self, dst: Ipv6Address) -> Option<Ipv6Address> {
        self.inner.source_for6(dst)
    }

    /// Whether `addr` is one of our IPv6 addresses and in use.
    pub fn has_ipv6_address(&self, addr: Ipv6Address) -> bool {
        self.inner.ipv6.as_ref().is_some_and(|v6| v6.autoconf.is_assigned(addr))
    }

    /// Sets (or clears) a static IPv6 default router, used when no router
    /// advertised itself.
    pub fn set_ipv6_gateway(&mut self, gateway: Option<Ipv6Address>) {
        if let Some(v6) = self.inner.ipv6.as_mut() {
            v6.gateway = gateway;
        }
    }

    /// The IPv6 default router: the first advertised one, else the static
    /// gateway.
    pub fn ipv6_default_router(&self, now: Instant) -> Option<Ipv6Address> {
        let v6 = self.inner.ipv6.as_ref()?;
        v6.autoconf.default_router(now).or(v6.gateway)
    }

    /// The default router list learnt from router advertisements.
    pub fn ipv6_routers(&self) -> impl Iterator<Item = Router> + '_ {
        self.inner.ipv6.iter().flat_map(|v6| v6.autoconf.routers())
    }

    /// The IPv6 neighbour cache, with each entry's reachability state.
    pub fn ipv6_neighbours(&self, now: Instant) -> impl Iterator<Item = NdpEntry> + '_ {
        self.inner.ipv6.iter().flat_map(move |v6| v6.ndp.entries(now))
    }

    /// The oldest autoconfiguration event not taken yet (address preferred,
    /// duplicate, deprecated, expired; router added or removed): for the
    /// embedder's log.
    pub fn take_ipv6_event(&mut self) -> Option<Ipv6Event> {
        self.inner.ipv6.as_mut()?.autoconf.take_event()
    }

    /// The IPv6 MTU towards `dst`: the link's, lowered by packet too big
    /// messages (RFC 8201).
    pub fn ipv6_path_mtu(&self, dst: Ipv6Address, now: Instant) -> usize {
        self.inner.mtu_to(dst, now)
    }

    /// Handles received frames (up to the device's `max_burst`, or the
    /// configured budget), then sends what is due. Call again at
    /// [`poll_at`](Self::poll_at) at the latest, and at once when the
    /// result says the receive budget ran out.
    pub fn poll<D: Device>(&mut self, now: Instant, device: &mut D, sockets: &mut SocketSet<'_>) -> PollResult {
        let caps = device.capabilities();
        self.inner.caps = caps;
        let budget = caps.max_burst.unwrap_or(self.inner.config.rx_budget).max(1);
        let mut result = PollResult::default();
        let Interface { inner, pending, reassembly } = self;
        while result.rx_frames < budget {
            let Some((rx, tx)) = device.receive(now) else { break };
            result.rx_frames += 1;
            inner.stats.ethernet.rx_frames += 1;
            inner.caps.checksum = caps.checksum.for_received(rx.metadata());
            let sent = rx.consume(|frame| {
                let mut tokens = OneToken::new(tx);
                ingress::process_frame(inner, pending, reassembly, now, frame, sockets, &mut tokens);
                tokens.sent()
            });
            result.tx_frames += sent;
        }
        result.rx_budget_exhausted = result.rx_frames >= budget;
        self.inner.caps.checksum = caps.checksum;
        let mut tokens = DeviceTokens { device, now, sent: 0, limit: caps.max_burst };
        result.tx_blocked = self.egress(now, &mut tokens, sockets).is_err();
        self.inner.tx_blocked = result.tx_blocked;
        result.tx_frames += tokens.sent;
        self.inner.stats.ethernet.tx_frames += result.tx_frames as u64;
        result
    }

    /// The latest instant the next poll is due: now when work is waiting,
    /// else the earliest ARP retry, reassembly timeout or socket deadline
    /// (DHCP and DNS retransmissions). `None`: only after new input.
    pub fn poll_at(&self, now: Instant, sockets: &SocketSet<'_>) -> Option<Instant> {
        let inner = &self.inner;
        let mut due: Option<Instant> = None;
        let mut consider = |t: Option<Instant>| {
            if let Some(t) = t {
                due = Some(due.map_or(t, |d| d.min(t)));
            }
        };
        let waiting = inner.announce.iter().any(|&a| a) || inner.dns_dirty || inner.tx_blocked;
        if waiting || self.reassembly.held().next().is_some() {
            consider(Some(now));
        }
        consider(inner.neighbours.poll_at());
        if let Some(v6) = &inner.ipv6 {
            consider(v6.poll_at());
        }
        consider(self.reassembly.poll_at());
        if !self.pending.is_empty() {
            // Waiting packets move on at the next ARP event; a poll one
            // request interval away also catches an expired neighbour.
            consider(Some(now + neighbour::REQUEST_INTERVAL));
        }
        for (_, socket) in sockets.iter() {
            match socket {
                Socket::Udp(s) => consider(s.has_pending_tx().then_some(now)),
                Socket::Icmp(s) => consider(s.has_pending_tx().then_some(now)),
                Socket::Dhcpv4(c) => consider(c.poll_at()),
                Socket::Dns(r) => consider(r.poll_at()),
                Socket::Tcp(s) => consider(s.poll_at()),
                Socket::TcpListener(l) => consider(l.poll_at()),
            }
        }
        due.map(|t| t.max(now))
    }

    /// The egress phase; `Err` when the device ran out of transmit room.
    fn egress<T: TxTokens>(
        &mut self,
        now: Instant,
        tokens: &mut T,
        sockets: &mut SocketSet<'_>,
    ) -> Result<(), SendError> {
        let Interface { inner, pending, reassembly } = self;
        inner.propagate_dns(sockets);
        inner.announce_addresses(tokens)?;
        inner.send_arp_requests(now, tokens)?;
        if inner.ipv6.is_some() {
            inner.ipv6_timers(now, tokens)?;
        }
        inner.resolution_started = false;
        inner.flush_pending(now, pending, tokens)?;
        if reassembly.maybe_active() {
            ingress::send_held_echo_replies(inner, pending, reassembly, now, tokens)?;
            ingress::expire_reassembly(inner, pending, reassembly, now, tokens)?;
        }
        let result = inner.dispatch_sockets(now, pending, tokens, sockets);
        inner.propagate_dns(sockets);
        result?;
        // Resolutions started since (by waiting packets or the sockets'
        // datagrams) ask at once.
        if core::mem::take(&mut inner.resolution_started) {
            inner.send_arp_requests(now, tokens)?;
            if inner.ipv6.is_some() {
                inner.ipv6_timers(now, tokens)?;
            }
        }
        Ok(())
    }
}

impl<'a> Inner<'a> {
    /// Link facts for building frames on the current device.
    pub fn link(&self) -> Link {
        Link {
            mac: self.config.mac,
            vlan_id: self.config.vlan_id,
            ip_mtu: self.caps.ip_mtu,
            ipv4_checksum: self.caps.checksum.ipv4.tx(),
            // Segments the device cuts must leave it their TCP checksum.
            tso_max_len: if self.caps.checksum.tcp.tx() { 0 } else { self.caps.tso_max_len },
        }
    }

    /// The most payload a TCP socket may put in one segment for the device
    /// to cut (TCP segmentation offload; 0: none), leaving room for the
    /// largest TCP header.
    fn tcp_offload_payload(&self) -> usize {
        self.link().tso_max_len.saturating_sub(ipv4::HEADER_LEN + tcp::MAX_HEADER_LEN)
    }

    /// Whether `addr` is one of ours.
    pub fn has_address(&self, addr: Ipv4Address) -> bool {
        self.addresses.iter().flatten().any(|c| c.address() == addr)
    }

    /// Whether any address is configured.
    pub fn has_any_address(&self) -> bool {
        self.addresses.iter().any(Option::is_some)
    }

    /// The limited broadcast or the directed broadcast of one of our
    /// subnets.
    pub fn is_broadcast(&self, addr: Ipv4Address) -> bool {
        addr.is_broadcast() || self.addresses.iter().flatten().any(|c| c.broadcast() == Some(addr))
    }

    /// Whether we listen to a multicast group.
    pub fn in_group(&self, group: Ipv4Address) -> bool {
        group == ALL_HOSTS || self.groups.contains(&Some(group))
    }

    /// Whether an Ethernet multicast address maps a group we are in.
    pub fn accepts_multicast_mac(&self, mac: EthernetAddress) -> bool {
        if mac.0[0] == 0x33 && mac.0[1] == 0x33 {
            return self.ipv6.as_ref().is_some_and(|v6| v6.accepts_multicast_mac(mac));
        }
        core::iter::once(ALL_HOSTS).chain(self.groups.iter().flatten().copied()).any(|g| multicast_mac(g) == mac)
    }

    /// The address to send to `dst` from: one on the same subnet, else the
    /// first.
    pub fn source_for(&self, dst: Ipv4Address) -> Option<Ipv4Address> {
        let all = self.addresses.iter().flatten();
        all.clone().find(|c| c.contains(dst)).or(all.clone().next()).map(|c| c.address())
    }

    fn add_address(&mut self, cidr: Ipv4Cidr) -> Result<(), AddressError> {
        if !cidr.address().is_unicast() {
            return Err(AddressError::Invalid);
        }
        let slot = match self.addresses.iter().position(|a| a.is_some_and(|a| a.address() == cidr.address())) {
            Some(i) => i,
            None => self.addresses.iter().position(Option::is_none).ok_or(AddressError::Full)?,
        };
        self.next_hop_cache = None;
        self.addresses[slot] = Some(cidr);
        self.announce[slot] = true;
        Ok(())
    }

    fn remove_address(&mut self, addr: Ipv4Address) -> bool {
        match self.addresses.iter().position(|a| a.is_some_and(|a| a.address() == addr)) {
            Some(i) => {
                self.next_hop_cache = None;
                self.addresses[i] = None;
                self.announce[i] = false;
                true
            }
            None => false,
        }
    }

    fn set_dns_servers(&mut self, servers: impl Iterator<Item = Option<Ipv4Address>>) {
        self.dns_servers = [None; MAX_DNS_SERVERS];
        let usable = servers.flatten().filter(|s| s.is_unicast());
        for (slot, server) in self.dns_servers.iter_mut().zip(usable) {
            *slot = Some(server);
        }
        self.dns_dirty = true;
    }

    /// Applies what the DHCP client acquired or withdrew.
    pub fn apply_dhcp(&mut self, event: DhcpEvent) {
        self.next_hop_cache = None;
        match event {
            DhcpEvent::Configured(DhcpConfig { address, router, dns_servers, .. }) => {
                if let Some(old) = self.dhcp_address {
                    if old.address() != address.address() {
                        self.remove_address(old.address());
                    }
                }
                // With every slot taken by static addresses the lease cannot
                // be used; the client keeps it, the interface ignores it.
                self.dhcp_address = self.add_address(address).ok().map(|()| address);
                if self.dhcp_gateway == self.routes.default_gateway() || self.routes.default_gateway().is_none() {
                    self.routes.set_default_gateway(router);
                }
                self.dhcp_gateway = router;
                if self.config.dns_servers_from_dhcp {
                    self.set_dns_servers(dns_servers.into_iter());
                }
            }
            DhcpEvent::Deconfigured => {
                if let Some(old) = self.dhcp_address.take() {
                    self.remove_address(old.address());
                }
                if self.dhcp_gateway.is_some() && self.routes.default_gateway() == self.dhcp_gateway {
                    self.routes.set_default_gateway(None);
                }
                self.dhcp_gateway = None;
                if self.config.dns_servers_from_dhcp {
                    self.set_dns_servers(core::iter::empty());
                }
            }
        }
    }

    /// Hands the DNS servers to every resolver after they changed, and to
    /// resolvers that have none (added after the change).
    #[inline]
    fn propagate_dns(&mut self, sockets: &mut SocketSet<'_>) {
        // Servers fill the table from the front: an empty first slot
        // means none (the common case, checked on every poll).
        if self.dns_dirty || self.dns_servers[0].is_some() {
            self.propagate_dns_to(sockets);
        }
    }

    fn propagate_dns_to(&mut self, sockets: &mut SocketSet<'_>) {
        let dirty = core::mem::replace(&mut self.dns_dirty, false);
        if !dirty && self.dns_servers.iter().all(Option::is_none) {
            return;
        }
        let mut servers = [IpAddress::V4(Ipv4Address::UNSPECIFIED); MAX_DNS_SERVERS];
        let mut n = 0;
        for s in self.dns_servers.iter().flatten() {
            servers[n] = IpAddress::V4(*s);
            n += 1;
        }
        for (_, socket) in sockets.sockets_mut() {
            if let Socket::Dns(r) = socket {
                if dirty || r.servers().next().is_none() {
                    r.set_servers(&servers[..n]);
                }
            }
        }
    }

    fn next_hop(&self, dst: Ipv4Address) -> Option<NextHop> {
        if self.is_broadcast(dst) {
            Some(NextHop::Mac(EthernetAddress::BROADCAST))
        } else if dst.is_multicast() {
            Some(NextHop::Mac(multicast_mac(dst)))
        } else if self.addresses.iter().flatten().any(|c| c.contains(dst)) {
            Some(NextHop::Ip(dst))
        } else {
            self.routes.lookup(dst).map(NextHop::Ip)
        }
    }

    /// Routes, resolves and sends a datagram. A datagram for a neighbour
    /// not yet resolved is queued (a copy) until ARP answers: that counts as
    /// sent for the caller.
    pub fn send_ip<T: TxTokens>(
        &mut self,
        now: Instant,
        pending: &mut PendingQueue<'_>,
        tokens: &mut T,
        packet: &OutPacket,
    ) -> Result<(), SendError> {
        let Some(hop) = self.next_hop(packet.dst) else {
            self.stats.ipv4.tx_no_route += 1;
            return Err(SendError::Dropped);
        };
        let ip = match hop {
            NextHop::Mac(mac) => return self.emit_ip(tokens, mac, packet),
            NextHop::Ip(ip) => ip,
        };
        match self.neighbours.lookup(ip, now) {
            Lookup::Found(mac) => self.emit_ip(tokens, mac, packet),
            lookup => {
                if packet.payload_len() + ipv4::HEADER_LEN > ipv4::MAX_PACKET_LEN {
                    self.stats.ipv4.tx_too_big += 1;
                    return Err(SendError::Dropped);
                }
                if !packet.queue_until_resolved(pending, ip, packet.dont_frag) {
                    self.stats.arp.pending_queue_full += 1;
                    return Err(SendError::Dropped);
                }
                match lookup {
                    Lookup::Pending => self.stats.arp.request_rate_limited += 1,
                    Lookup::Unknown | Lookup::Failed | Lookup::Found(_) => {
                        self.resolution_started = true;
                        if self.neighbours.start(ip, now) == Some(true) {
                            self.stats.arp.cache_evictions += 1;
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Sends a datagram to a known link address, fragmenting it when it
    /// exceeds the MTU.
    pub fn emit_ip<T: TxTokens>(
        &mut self,
        tokens: &mut T,
        dst_mac: EthernetAddress,
        packet: &OutPacket,
    ) -> Result<(), SendError> {
        let link = self.link();
        let payload_len = packet.payload_len();
        if payload_len + ipv4::HEADER_LEN > ipv4::MAX_PACKET_LEN {
            self.stats.ipv4.tx_too_big += 1;
            return Err(SendError::Dropped);
        }
        let tso_segment = link.tcp_segment_size(packet).filter(|_| payload_len + ipv4::HEADER_LEN > link.ip_mtu);
        if let Some(segment) = tso_segment {
            // One frame; the device cuts it into segments that fit the MTU.
            let Some(mut token) = tokens.next() else {
                self.stats.tx.device_busy += 1;
                return Err(SendError::DeviceBusy);
            };
            let ident = self.take_ident();
            let len = link.eth_header_len() + ipv4::HEADER_LEN + payload_len;
            token.set_tcp_segment_size(segment);
            token.consume(len, |buf| link.write_ip_frame(buf, dst_mac, packet, ident, 0, payload_len, false));
            tokens.count();
            self.stats.ipv4.tx_packets += 1;
            return Ok(());
        }
        if payload_len + ipv4::HEADER_LEN <= link.ip_mtu {
            let Some(token) = tokens.next() else {
                self.stats.tx.device_busy += 1;
                return Err(SendError::DeviceBusy);
            };
            let ident = self.take_ident();
            let len = link.eth_header_len() + ipv4::HEADER_LEN + payload_len;
            token.consume(len, |buf| link.write_ip_frame(buf, dst_mac, packet, ident, 0, payload_len, false));
            tokens.count();
            self.stats.ipv4.tx_packets += 1;
            return Ok(());
        }
        if packet.dont_frag {
            self.stats.ipv4.tx_dont_fragment += 1;
            return Err(SendError::Dropped);
        }
        let step = link.max_fragment_payload();
        if step == 0 {
            self.stats.ipv4.tx_too_big += 1;
            return Err(SendError::Dropped);
        }
        if !tokens.multi() {
            return Err(SendError::NeedsMultiFrame);
        }
        let ident = self.take_ident();
        let headers_len = link.eth_header_len() + ipv4::HEADER_LEN;
        let stats = &mut self.stats;
        send_fragments(
            tokens,
            &mut stats.tx,
            &mut stats.ipv4.tx_fragments,
            payload_len,
            step,
            headers_len,
            |buf, offset, len, more| link.write_ip_frame(buf, dst_mac, packet, ident, offset, len, more),
        )?;
        self.stats.ipv4.tx_fragmented += 1;
        self.stats.ipv4.tx_packets += 1;
        Ok(())
    }

    fn take_ident(&mut self) -> u16 {
        let ident = self.next_ident;
        self.next_ident = self.next_ident.wrapping_add(1);
        ident
    }

    /// Sends an ARP packet.
    pub fn emit_arp<T: TxTokens>(
        &mut self,
        tokens: &mut T,
        dst_mac: EthernetAddress,
        repr: &arp::Repr,
    ) -> Result<(), SendError> {
        let link = self.link();
        let Some(token) = tokens.next() else {
            self.stats.tx.device_busy += 1;
            return Err(SendError::DeviceBusy);
        };
        token.consume(link.arp_frame_len(), |buf| link.write_arp_frame(buf, dst_mac, repr));
        tokens.count();
        Ok(())
    }

    /// Sends an ICMP error to `dst` (rate limited), quoting an IP header
    /// and the start of its payload.
    #[allow(clippy::too_many_arguments)]
    pub fn send_icmp_error<T: TxTokens>(
        &mut self,
        now: Instant,
        pending: &mut PendingQueue<'_>,
        tokens: &mut T,
        src: Ipv4Address,
        dst: Ipv4Address,
        message: Message,
        code: u8,
        quote_header: &[u8],
        quote_payload: &[u8],
    ) {
        if !self.icmp_errors.try_take(now) {
            self.stats.icmp.errors_rate_limited += 1;
            return;
        }
        let checksum = self.caps.checksum.icmpv4.tx();
        let packet =
            OutPacket::icmp_error(src, dst, self.config.ttl, message, code, quote_header, quote_payload, checksum);
        match self.send_ip(now, pending, tokens, &packet) {
            Ok(()) => self.stats.icmp.errors_sent += 1,
            Err(SendError::NeedsMultiFrame) => self.stats.tx.reply_dropped += 1,
            Err(SendError::DeviceBusy | SendError::Dropped) => {}
        }
    }

    // The checks of the egress phase that run on every poll and nearly
    // always find nothing are inlined; the work behind them is not, so the
    // poll's own code stays small (fewer registers saved and spilled).

    /// Gratuitous ARP for addresses added since the last poll.
    #[inline]
    fn announce_addresses<T: TxTokens>(&mut self, tokens: &mut T) -> Result<(), SendError> {
        // Checked on every poll; nearly always nothing to announce.
        if !self.announce.contains(&true) {
            return Ok(());
        }
        self.announce_now(tokens)
    }

    #[inline(never)]
    fn announce_now<T: TxTokens>(&mut self, tokens: &mut T) -> Result<(), SendError> {
        for i in 0..MAX_ADDRESSES {
            let Some(cidr) = self.addresses[i] else { continue };
            if !self.announce[i] {
                continue;
            }
            let repr = arp::Repr {
                operation: arp::Operation::Request,
                source_hardware_addr: self.config.mac,
                source_protocol_addr: cidr.address(),
                target_hardware_addr: EthernetAddress([0; 6]),
                target_protocol_addr: cidr.address(),
            };
            self.emit_arp(tokens, EthernetAddress::BROADCAST, &repr)?;
            self.announce[i] = false;
            self.stats.arp.announcements_sent += 1;
        }
        Ok(())
    }

    /// ARP requests that are due (one per second per address).
    #[inline]
    fn send_arp_requests<T: TxTokens>(&mut self, now: Instant, tokens: &mut T) -> Result<(), SendError> {
        if !self.neighbours.maybe_resolving() {
            return Ok(());
        }
        self.send_arp_requests_now(now, tokens)
    }

    #[inline(never)]
    fn send_arp_requests_now<T: TxTokens>(&mut self, now: Instant, tokens: &mut T) -> Result<(), SendError> {
        while let Some(due) = self.neighbours.next_due(now) {
            let Due::Request(ip) = due else { continue };
            let repr = arp::Repr {
                operation: arp::Operation::Request,
                source_hardware_addr: self.config.mac,
                source_protocol_addr: self.source_for(ip).unwrap_or(Ipv4Address::UNSPECIFIED),
                target_hardware_addr: EthernetAddress([0; 6]),
                target_protocol_addr: ip,
            };
            if let Err(e) = self.emit_arp(tokens, EthernetAddress::BROADCAST, &repr) {
                self.neighbours.unsend(ip);
                return Err(e);
            }
            self.stats.arp.requests_sent += 1;
        }
        Ok(())
    }

    /// Sends the waiting packets whose next hop is now known, drops those
    /// whose resolution failed, and keeps the rest in order.
    #[inline]
    fn flush_pending<T: TxTokens>(
        &mut self,
        now: Instant,
        pending: &mut PendingQueue<'_>,
        tokens: &mut T,
    ) -> Result<(), SendError> {
        // No slot in use (the common case): nothing to count or walk.
        if pending.slots_in_use() == 0 {
            return Ok(());
        }
        self.flush_pending_now(now, pending, tokens)
    }

    #[inline(never)]
    fn flush_pending_now<T: TxTokens>(
        &mut self,
        now: Instant,
        pending: &mut PendingQueue<'_>,
        tokens: &mut T,
    ) -> Result<(), SendError> {
        for _ in 0..pending.packet_count() {
            let Some((&header, _)) = pending.peek() else { break };
            let lookup = match header.next_hop {
                IpAddress::V4(ip) => self.neighbours.lookup(ip, now),
                IpAddress::V6(ip) => self.ipv6.as_mut().map_or(Lookup::Failed, |v6| v6.ndp.lookup(ip, now)),
            };
            match lookup {
                Lookup::Found(mac) => {
                    let Some((h, data)) = pending.peek() else { break };
                    let sent = match (h.src, h.dst) {
                        (IpAddress::V4(src), IpAddress::V4(dst)) => {
                            let packet = OutPacket::raw(src, dst, h.protocol, h.ttl, h.dont_frag, data);
                            self.emit_ip(tokens, mac, &packet)
                        }
                        (IpAddress::V6(src), IpAddress::V6(dst)) => {
                            let packet = OutPacket::raw(src, dst, h.protocol, h.ttl, false, data);
                            self.emit_ipv6(now, tokens, mac, &packet)
                        }
                        _ => Err(SendError::Dropped),
                    };
                    match sent {
                        Ok(()) | Err(SendError::Dropped) | Err(SendError::NeedsMultiFrame) => {
                            pending.dequeue();
                        }
                        Err(SendError::DeviceBusy) => return Err(SendError::DeviceBusy),
                    }
                }
                Lookup::Pending => {
                    if !pending.requeue_front() {
                        self.count_pending_full(header.next_hop);
                    }
                }
                Lookup::Failed => {
                    pending.dequeue();
                    match header.next_hop {
                        IpAddress::V4(_) => self.stats.arp.resolution_failed += 1,
                        IpAddress::V6(_) => self.stats.ndp.resolution_failed += 1,
                    }
                }
                Lookup::Unknown => {
                    // The entry expired or was evicted while the packet
                    // waited: resolve again.
                    self.resolution_started = true;
                    let started = match header.next_hop {
                        IpAddress::V4(ip) => self.neighbours.start(ip, now),
                        IpAddress::V6(ip) => self.ipv6.as_mut().and_then(|v6| v6.ndp.start(ip, now)),
                    };
                    match started {
                        Some(evicted) => {
                            if evicted {
                                match header.next_hop {
                                    IpAddress::V4(_) => self.stats.arp.cache_evictions += 1,
                                    IpAddress::V6(_) => self.stats.ndp.cache_evictions += 1,
                                }
                            }
                            if !pending.requeue_front() {
                                self.count_pending_full(header.next_hop);
                            }
                        }
                        None => {
                            pending.dequeue();
                            match header.next_hop {
                                IpAddress::V4(_) => self.stats.arp.resolution_failed += 1,
                                IpAddress::V6(_) => self.stats.ndp.resolution_failed += 1,
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn count_pending_full(&mut self, next_hop: IpAddress) {
        match next_hop {
            IpAddress::V4(_) => self.stats.arp.pending_queue_full += 1,
            IpAddress::V6(_) => self.stats.ndp.pending_queue_full += 1,
        }
    }

    /// Lets every socket send what it has queued.
    fn dispatch_sockets<T: TxTokens>(
        &mut self,
        now: Instant,
        pending: &mut PendingQueue<'_>,
        tokens: &mut T,
        sockets: &mut SocketSet<'_>,
    ) -> Result<(), SendError> {
        // Only TCP sockets, the common case for a server: no pass for
        // the others on every poll.
        if !sockets.has_other_sockets() {
            return self.dispatch_tcp(now, pending, tokens, sockets);
        }
        let ttl = self.config.ttl;
        for (_, socket) in sockets.sockets_mut() {
            match socket {
                Socket::Udp(s) => loop {
                    let sent = s.dispatch(|port, meta, data| {
                        let dst = match meta.endpoint.addr {
                            IpAddress::V4(dst) => dst,
                            IpAddress::V6(dst) => return self.send_udp6(now, pending, tokens, port, meta, dst, data),
                        };
                        let src = match meta.local_address {
                            Some(IpAddress::V4(a)) => Some(a),
                            Some(IpAddress::V6(_)) | None => self.source_for(dst),
                        };
                        let Some(src) = src else {
                            self.stats.ipv4.tx_no_source += 1;
                            return Ok(());
                        };
                        let checksum = self.caps.checksum.udp.tx();
                        let packet = OutPacket::udp(src, dst, ttl, port, meta.endpoint.port, data, checksum);
                        self.send_udp(now, pending, tokens, &packet)
                    })?;
                    if !sent {
                        break;
                    }
                },
                Socket::Icmp(s) => loop {
                    let sent = s.dispatch(|ident, meta, data| {
                        let dst = match meta.addr {
                            IpAddress::V4(dst) => dst,
                            IpAddress::V6(dst) => {
                                return self.send_echo_request6(now, pending, tokens, dst, ident, meta.seq_no, data)
                            }
                        };
                        let Some(src) = self.source_for(dst) else {
                            self.stats.ipv4.tx_no_source += 1;
                            return Ok(());
                        };
                        let checksum = self.caps.checksum.icmpv4.tx();
                        let packet = OutPacket::icmp_echo(src, dst, ttl, false, ident, meta.seq_no, data, checksum);
                        match self.send_ip(now, pending, tokens, &packet) {
                            Err(SendError::DeviceBusy) => Err(SendError::DeviceBusy),
                            Ok(()) | Err(SendError::Dropped | SendError::NeedsMultiFrame) => Ok(()),
                        }
                    })?;
                    if !sent {
                        break;
                    }
                },
                Socket::Dhcpv4(client) => {
                    let mut buf = [0u8; dhcpv4::MAX_PAYLOAD_LEN];
                    if let Some(tx) = client.poll(now, &mut buf) {
                        let checksum = self.caps.checksum.udp.tx();
                        let data = &buf[..tx.len.min(buf.len())];
                        let packet = OutPacket::udp(
                            tx.src,
                            tx.dst,
                            ttl,
                            dhcpv4::CLIENT_PORT,
                            dhcpv4::SERVER_PORT,
                            data,
                            checksum,
                        );
                        // A message lost to a busy device is retransmitted
                        // by the client's own timer.
                        let result = self.send_udp(now, pending, tokens, &packet);
                        if let Some(event) = client.take_event() {
                            self.apply_dhcp(event);
                        }
                        result?;
                    } else if let Some(event) = client.take_event() {
                        self.apply_dhcp(event);
                    }
                }
                Socket::Dns(resolver) => {
                    let mut buf = [0u8; dns::MAX_PAYLOAD_LEN];
                    while let Some((server, len)) = resolver.poll(now, &mut buf) {
                        let IpAddress::V4(dst) = server.addr else { continue };
                        let Some(src) = self.source_for(dst) else {
                            self.stats.ipv4.tx_no_source += 1;
                            continue;
                        };
                        let checksum = self.caps.checksum.udp.tx();
                        let data = &buf[..len.min(buf.len())];
                        let packet = OutPacket::udp(src, dst, ttl, self.dns_port, server.port, data, checksum);
                        self.send_udp(now, pending, tokens, &packet)?;
                    }
                }
                // In their own round-robin pass below.
                Socket::Tcp(_) | Socket::TcpListener(_) => {}
            }
        }
        self.dispatch_tcp(now, pending, tokens, sockets)
    }

    /// The payload one TCP segment with a bare header carries.
    pub fn tcp_mss(&self) -> usize {
        self.caps.ip_mtu.saturating_sub(ipv4::HEADER_LEN + tcp::HEADER_LEN).max(1)
    }

    /// Lets every TCP socket and listener send what is due, at most
    /// `tcp_segments_per_socket` segments each, starting after the socket
    /// that went first in the last poll so no socket always goes first.
    fn dispatch_tcp<T: TxTokens>(
        &mut self,
        now: Instant,
        pending: &mut PendingQueue<'_>,
        tokens: &mut T,
        sockets: &mut SocketSet<'_>,
    ) -> Result<(), SendError> {
        let slots = sockets.slots_in_use();
        let first = if self.tcp_cursor < slots { self.tcp_cursor } else { 0 };
        let mss = self.tcp_mss();
        let budget = self.config.tcp_segments_per_socket.max(1);
        let offload = self.tcp_offload_payload();
        // The next poll starts after the TCP socket that goes first now
        // (set before dispatching, as a busy device ends the pass early).
        let mut leader_set = false;
        // One pass over the slots from `first`, wrapping around.
        let mut next = first;
        for _ in 0..slots {
            let index = next;
            next = if index + 1 == slots { 0 } else { index + 1 };
            let Some(socket) = sockets.slot_mut(index) else { continue };
            // A socket whose last dispatch found nothing due before a
            // later instant would return at once: skip the call.
            let quiet = match socket {
                Socket::Tcp(t) => t.is_quiet(now, mss),
                Socket::TcpListener(_) => false,
                Socket::Udp(_) | Socket::Icmp(_) | Socket::Dhcpv4(_) | Socket::Dns(_) => continue,
            };
            if !core::mem::replace(&mut leader_set, true) {
                self.tcp_cursor = index + 1;
            }
            if !quiet {
                self.dispatch_tcp_socket(now, pending, tokens, socket, mss, offload, budget)?;
            }
        }
        Ok(())
    }

    /// Up to `budget` segments from one TCP socket or listener.
    #[allow(clippy::too_many_arguments)]
    fn dispatch_tcp_socket<T: TxTokens>(
        &mut self,
        now: Instant,
        pending: &mut PendingQueue<'_>,
        tokens: &mut T,
        socket: &mut Socket<'_>,
        mss: usize,
        offload: usize,
        budget: usize,
    ) -> Result<(), SendError> {
        match socket {
            Socket::Tcp(s) => {
                give_secret(s, &self.config.tcp_secret);
                // Segmentation offload is for IPv4 only (the device's TSO4).
                let (mss, offload) = match s.remote_ipv6() {
                    Some(remote) => (self.tcp_mss6(remote), 0),
                    None => (mss, offload),
                };
                s.set_segmentation_offload(offload);
                // `dispatch` checks every timer itself: asking `poll_at`
                // first would plan the next segment twice.
                for _ in 0..budget {
                    let mut sent = false;
                    s.dispatch(now, mss, |local, remote, repr, data| {
                        sent = true;
                        self.send_tcp(now, pending, tokens, local, remote, repr, data)
                    })?;
                    // A socket that went quiet with its last segment would
                    // only return at once.
                    if !sent || s.is_quiet(now, mss) {
                        break;
                    }
                }
            }
            Socket::TcpListener(l) => {
                l.set_segmentation_offload(offload);
                // The listener only dispatches its sockets that are due.
                for _ in 0..budget {
                    let mut sent = false;
                    l.dispatch(now, mss, |local, remote, repr, data| {
                        sent = true;
                        self.send_tcp(now, pending, tokens, local, remote, repr, data)
                    })?;
                    if !sent {
                        break;
                    }
                }
            }
            Socket::Udp(_) | Socket::Icmp(_) | Socket::Dhcpv4(_) | Socket::Dns(_) => {}
        }
        Ok(())
    }

    /// Sends one segment from a socket; only a busy device is an error (the
    /// socket then keeps the segment due). A segment dropped for another
    /// reason counts as sent: TCP retransmits it.
    #[allow(clippy::too_many_arguments)]
    fn send_tcp<T: TxTokens>(
        &mut self,
        now: Instant,
        pending: &mut PendingQueue<'_>,
        tokens: &mut T,
        local: &IpEndpoint,
        remote: &IpEndpoint,
        repr: &TcpRepr,
        data: &[u8],
    ) -> Result<(), SendError> {
        let result = match (local.addr, remote.addr) {
            (IpAddress::V4(src), IpAddress::V4(dst)) => {
                self.send_tcp_segment(now, pending, tokens, src, dst, repr, data)
            }
            (IpAddress::V6(src), IpAddress::V6(dst)) => {
                // Always summed here: device checksum offload covers IPv4
                // TCP only (the virtio driver marks only those frames).
                let packet = OutPacket::tcp(src, dst, self.hop_limit6(), repr, data, true);
                self.send_ipv6(now, pending, tokens, &packet)
            }
            (IpAddress::V4(_), IpAddress::V6(_)) | (IpAddress::V6(_), IpAddress::V4(_)) => return Ok(()),
        };
        match result {
            Ok(()) => {
                self.stats.tcp.tx_segments += 1;
                Ok(())
            }
            Err(SendError::DeviceBusy) => Err(SendError::DeviceBusy),
            Err(SendError::Dropped | SendError::NeedsMultiFrame) => Ok(()),
        }
    }

    /// Sends a TCP segment. The common case (one frame, next hop known)
    /// builds every header straight in the transmit buffer; anything else
    /// (ARP pending, fragmentation) takes the general datagram path.
    #[allow(clippy::too_many_arguments)]
    pub fn send_tcp_segment<T: TxTokens>(
        &mut self,
        now: Instant,
        pending: &mut PendingQueue<'_>,
        tokens: &mut T,
        src: Ipv4Address,
        dst: Ipv4Address,
        repr: &TcpRepr,
        data: &[u8],
    ) -> Result<(), SendError> {
        let checksum = self.caps.checksum.tcp.tx();
        let header_len = repr.header_len();
        let ip_len = ipv4::HEADER_LEN + header_len + data.len();
        if repr.payload_len == data.len() && ip_len <= self.caps.ip_mtu && ip_len <= ipv4::MAX_PACKET_LEN {
            if let Some(mac) = self.resolved_mac(dst, now) {
                let Some(token) = tokens.next() else {
                    self.stats.tx.device_busy += 1;
                    return Err(SendError::DeviceBusy);
                };
                let link = self.link();
                let ip = ipv4::Repr {
                    ident: self.take_ident(),
                    ..ipv4::Repr::new(src, dst, IpProtocol::Tcp, header_len + data.len(), self.config.ttl)
                };
                let len = link.eth_header_len() + ip_len;
                token.consume(len, |buf| link.write_tcp_frame(buf, mac, &ip, repr, header_len, data, checksum));
                tokens.count();
                self.stats.ipv4.tx_packets += 1;
                return Ok(());
            }
        }
        let packet = OutPacket::tcp(src, dst, self.config.ttl, repr, data, checksum);
        self.send_ip(now, pending, tokens, &packet)
    }

    /// The link address a unicast datagram to `dst` goes to when it is
    /// known right now; `None` when it needs routing errors counted or
    /// ARP (the general path does both).
    fn resolved_mac(&mut self, dst: Ipv4Address, now: Instant) -> Option<EthernetAddress> {
        let hop = match self.next_hop_cache {
            Some((cached, hop)) if cached == dst => hop,
            _ => {
                let hop = self.next_hop(dst)?;
                self.next_hop_cache = Some((dst, hop));
                hop
            }
        };
        match hop {
            NextHop::Mac(mac) => Some(mac),
            NextHop::Ip(ip) => match self.neighbours.lookup(ip, now) {
                Lookup::Found(mac) => Some(mac),
                Lookup::Pending | Lookup::Unknown | Lookup::Failed => None,
            },
        }
    }

    /// Sends a UDP datagram from a socket; only a busy device is an error
    /// (the datagram stays queued in the socket).
    fn send_udp<T: TxTokens>(
        &mut self,
        now: Instant,
        pending: &mut PendingQueue<'_>,
        tokens: &mut T,
        packet: &OutPacket,
    ) -> Result<(), SendError> {
        match self.send_ip(now, pending, tokens, packet) {
            Ok(()) => {
                self.stats.udp.tx_datagrams += 1;
                Ok(())
            }
            Err(SendError::DeviceBusy) => Err(SendError::DeviceBusy),
            Err(SendError::Dropped | SendError::NeedsMultiFrame) => Ok(()),
        }
    }
}

/// Gives a closed or listening socket that has no ISN secret the
/// interface's, before it opens a connection.
fn give_secret(socket: &mut TcpSocket<'_>, secret: &[u8; 16]) {
    use crate::socket::tcp::State;
    if socket.config().isn_secret != [0; 16] || *secret == [0; 16] {
        return;
    }
    match socket.state() {
        State::Closed | State::Listen => {
            let config = TcpConfig { isn_secret: *secret, ..*socket.config() };
            socket.set_config(config);
        }
        State::SynSent
        | State::SynReceived
        | State::Established
        | State::FinWait1
        | State::FinWait2
        | State::CloseWait
        | State::Closing
        | State::LastAck
        | State::TimeWait => {}
    }
}

/// Whether an ICMP type is an error message (never answered with an
/// error, RFC 1122 3.2.2).
pub(crate) fn is_icmp_error(msg_type: u8) -> bool {
    matches!(
        Message::from(msg_type),
        Message::DstUnreachable | Message::Redirect | Message::TimeExceeded | Message::ParamProblem
    ) || msg_type == 4 // source quench
}

/// An endpoint on IPv4.
pub(crate) fn v4_endpoint(addr: Ipv4Address, port: u16) -> IpEndpoint {
    IpEndpoint::new(IpAddress::V4(addr), port)
}

// The ICMP error quote bound must leave room for a full IP header and the
// 8 payload bytes RFC 792 asks for.
const _: () = assert!(icmpv4::MAX_ERROR_DATA_LEN > ipv4::MAX_HEADER_LEN + 8);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::RxToken;
    use crate::socket::set::SocketStorage;
    use crate::socket::udp::{UdpPacketMetadata, UdpSocket};
    use crate::wire::{ethernet, udp};
    use std::collections::VecDeque;
    use std::vec;
    use std::vec::Vec;

    /// A device over two frame queues.
    #[derive(Default)]
    struct QueueDevice {
        rx: VecDeque<Vec<u8>>,
        tx: Vec<Vec<u8>>,
    }

    struct Rx(Vec<u8>);
    impl RxToken for Rx {
        fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
            f(&self.0)
        }
    }

    struct Tx<'a>(&'a mut Vec<Vec<u8>>);
    impl TxToken for Tx<'_> {
        fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
            let mut buf = vec![0; len];
            let r = f(&mut buf);
            self.0.push(buf);
            r
        }
    }

    impl Device for QueueDevice {
        type RxToken<'a> = Rx;
        type TxToken<'a> = Tx<'a>;
        fn receive(&mut self, _: Instant) -> Option<(Rx, Tx<'_>)> {
            let f = self.rx.pop_front()?;
            Some((Rx(f), Tx(&mut self.tx)))
        }
        fn transmit(&mut self, _: Instant) -> Option<Tx<'_>> {
            Some(Tx(&mut self.tx))
        }
        fn capabilities(&self) -> DeviceCapabilities {
            DeviceCapabilities::ethernet()
        }
    }

    const MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
    const PEER_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
    const ME: Ipv4Address = Ipv4Address::new(10, 0, 0, 1);
    const PEER: Ipv4Address = Ipv4Address::new(10, 0, 0, 2);

    fn with_interface(f: impl FnOnce(&mut Interface)) {
        let mut neighbours = [NeighbourSlot::EMPTY; 4];
        let (mut ps, mut pb) = ([PendingSlot::EMPTY; 4], [0u8; 2048]);
        let (mut rs, mut rb) = ([ReassemblySlot::EMPTY; 1], [0u8; 4096]);
        let mut iface = Interface::new(
            Config::new(MAC),
            InterfaceStorage {
                neighbours: &mut neighbours,
                pending_slots: &mut ps,
                pending_bytes: &mut pb,
                reassembly_slots: &mut rs,
                reassembly_bytes: &mut rb,
            },
        );
        iface.add_address(Ipv4Cidr::new(ME, 24).unwrap()).unwrap();
        iface.inner.caps = DeviceCapabilities::ethernet();
        f(&mut iface);
    }

    #[test]
    fn dont_fragment_is_respected() {
        with_interface(|iface| {
            let data = [0u8; 2000];
            let mut packet = OutPacket::udp(ME, PEER, 64, 1, 2, &data, true);
            packet.dont_frag = true;
            let mut dev = QueueDevice::default();
            let mut tokens = DeviceTokens { device: &mut dev, now: Instant::ZERO, sent: 0, limit: None };
            assert_eq!(iface.inner.emit_ip(&mut tokens, PEER_MAC, &packet), Err(SendError::Dropped));
            assert_eq!(iface.inner.stats.ipv4.tx_dont_fragment, 1);
            packet.dont_frag = false;
            assert_eq!(iface.inner.emit_ip(&mut tokens, PEER_MAC, &packet), Ok(()));
            assert_eq!(dev.tx.len(), 2);
            // With DF and a fitting size it goes out whole, DF set.
            let mut small = OutPacket::udp(ME, PEER, 64, 1, 2, &data[..100], true);
            small.dont_frag = true;
            let mut tokens = DeviceTokens { device: &mut dev, now: Instant::ZERO, sent: 0, limit: None };
            iface.inner.emit_ip(&mut tokens, PEER_MAC, &small).unwrap();
            let ip = ipv4::Packet::new_checked(&dev.tx[2][14..]).unwrap();
            assert!(ip.dont_frag() && !ip.more_frags());
        });
    }

    #[test]
    fn one_token_cannot_carry_fragments_and_oversize_is_refused() {
        with_interface(|iface| {
            let data = vec![0u8; 3000];
            let packet = OutPacket::udp(ME, PEER, 64, 1, 2, &data, true);
            let mut sent = Vec::new();
            let mut one = OneToken::new(Tx(&mut sent));
            assert_eq!(iface.inner.emit_ip(&mut one, PEER_MAC, &packet), Err(SendError::NeedsMultiFrame));
            let huge = vec![0u8; 65535];
            let packet = OutPacket::raw(ME, PEER, IpProtocol::Udp, 64, false, &huge);
            let mut dev = QueueDevice::default();
            let mut tokens = DeviceTokens { device: &mut dev, now: Instant::ZERO, sent: 0, limit: None };
            assert_eq!(iface.inner.emit_ip(&mut tokens, PEER_MAC, &packet), Err(SendError::Dropped));
            assert_eq!(iface.inner.stats.ipv4.tx_too_big, 1);
            let far = OutPacket::raw(ME, Ipv4Address::new(8, 8, 8, 8), IpProtocol::Udp, 64, false, &huge[..10]);
            let mut pending = PacketBuffer::new(&mut [][..], &mut [][..]);
            assert_eq!(iface.inner.send_ip(Instant::ZERO, &mut pending, &mut tokens, &far), Err(SendError::Dropped));
            assert_eq!(iface.inner.stats.ipv4.tx_no_route, 1, "no gateway");
        });
    }

    #[test]
    fn joined_multicast_groups_are_received() {
        with_interface(|iface| {
            let group = Ipv4Address::new(239, 1, 2, 3);
            let mut storage = [SocketStorage::EMPTY];
            let mut sockets = SocketSet::new(&mut storage[..]);
            let (mut a, mut b, mut c, mut d) =
                ([UdpPacketMetadata::EMPTY; 2], [0u8; 64], [UdpPacketMetadata::EMPTY; 2], [0u8; 64]);
            let mut s = UdpSocket::new(PacketBuffer::new(&mut a, &mut b), PacketBuffer::new(&mut c, &mut d));
            s.bind(5000).unwrap();
            let h = sockets.add(s);
            let frame = || {
                let payload = [1u8, 2, 3];
                let u = udp::Repr { src_port: 9, dst_port: 5000, payload: &payload };
                let ip = ipv4::Repr::new(PEER, group, IpProtocol::Udp, u.buffer_len(), 1);
                let mut f = vec![0u8; 14 + ip.buffer_len()];
                let eth = ethernet::Repr {
                    src_addr: PEER_MAC,
                    dst_addr: multicast_mac(group),
                    ethertype: ethernet::EtherType::Ipv4,
                    vlan: None,
                };
                eth.emit(&mut ethernet::Frame::new_unchecked(&mut f[..]));
                ip.emit(&mut ipv4::Packet::new_unchecked(&mut f[14..]), true);
                u.emit(&mut udp::Packet::new_unchecked(&mut f[34..]), &PEER.into(), &group.into(), true);
                f
            };
            let mut dev = QueueDevice::default();
            dev.rx.push_back(frame());
            iface.poll(Instant::ZERO, &mut dev, &mut sockets);
            assert_eq!(iface.stats().ethernet.not_for_us, 1, "not joined yet");
            iface.join_multicast_group(group).unwrap();
            assert_eq!(iface.join_multicast_group(PEER), Err(AddressError::Invalid));
            dev.rx.push_back(frame());
            iface.poll(Instant::ZERO, &mut dev, &mut sockets);
            let (data, from) = sockets.get_mut::<UdpSocket>(h).recv().unwrap();
            assert_eq!((data, from), (&[1u8, 2, 3][..], v4_endpoint(PEER, 9)));
            assert!(dev.tx.iter().all(|f| f[12..14] == [0x08, 0x06]), "no port unreachable, only the announcement");
            assert!(iface.leave_multicast_group(group));
        });
    }

    #[test]
    fn dhcp_leaves_a_static_gateway_alone_and_replaces_its_own_address() {
        with_interface(|iface| {
            let static_gw = Ipv4Address::new(10, 0, 0, 254);
            iface.set_default_gateway(Some(static_gw));
            let config = |addr: Ipv4Address| DhcpConfig {
                address: Ipv4Cidr::new(addr, 24).unwrap(),
                router: Some(Ipv4Address::new(192, 168, 1, 1)),
                dns_servers: [Some(Ipv4Address::new(192, 168, 1, 53)), None, None],
                lease: Duration::from_secs(60),
                server: Ipv4Address::new(192, 168, 1, 1),
            };
            iface.inner.apply_dhcp(DhcpEvent::Configured(config(Ipv4Address::new(192, 168, 1, 10))));
            iface.inner.apply_dhcp(DhcpEvent::Configured(config(Ipv4Address::new(192, 168, 1, 11))));
            let addrs: Vec<_> = iface.addresses().map(|c| c.address()).collect();
            assert_eq!(addrs, [ME, Ipv4Address::new(192, 168, 1, 11)]);
            assert_eq!(iface.default_gateway(), Some(static_gw));
            assert_eq!(iface.dns_servers().collect::<Vec<_>>(), [Ipv4Address::new(192, 168, 1, 53)]);
            iface.inner.apply_dhcp(DhcpEvent::Deconfigured);
            assert_eq!(iface.addresses().count(), 1);
            assert_eq!(iface.default_gateway(), Some(static_gw));
            assert_eq!(iface.dns_servers().count(), 0);
        });
    }

    #[test]
    fn tcp_next_hop_follows_route_and_address_changes() {
        with_interface(|iface| {
            let far = Ipv4Address::new(8, 8, 8, 8);
            let (gw1, gw2) = (Ipv4Address::new(10, 0, 0, 254), Ipv4Address::new(10, 0, 0, 253));
            let (mac1, mac2) = (EthernetAddress([2, 0, 0, 0, 0, 0xa1]), EthernetAddress([2, 0, 0, 0, 0, 0xa2]));
            iface.inner.neighbours.fill(gw1, mac1, Instant::ZERO);
            iface.inner.neighbours.fill(gw2, mac2, Instant::ZERO);
            iface.inner.neighbours.fill(far, PEER_MAC, Instant::ZERO);
            let repr = TcpRepr { src_port: 1, dst_port: 2, ..TcpRepr::default() };
            let mut dev = QueueDevice::default();
            let mut pending = PacketBuffer::new(&mut [][..], &mut [][..]);
            let mut send = |iface: &mut Interface, dev: &mut QueueDevice| {
                let mut tokens = DeviceTokens { device: dev, now: Instant::ZERO, sent: 0, limit: None };
                iface.inner.send_tcp_segment(Instant::ZERO, &mut pending, &mut tokens, ME, far, &repr, &[])
            };
            assert_eq!(send(iface, &mut dev), Err(SendError::Dropped), "no route yet");
            iface.set_default_gateway(Some(gw1));
            send(iface, &mut dev).unwrap();
            iface.set_default_gateway(Some(gw2));
            send(iface, &mut dev).unwrap();
            iface
                .routes_mut()
                .add(super::super::route::Route { cidr: Ipv4Cidr::new(far, 32).unwrap(), via: gw1 })
                .unwrap();
            send(iface, &mut dev).unwrap();
            // On-link once an address covers it.
            iface.add_address(Ipv4Cidr::new(Ipv4Address::new(8, 8, 8, 1), 24).unwrap()).unwrap();
            send(iface, &mut dev).unwrap();
            iface.remove_address(Ipv4Address::new(8, 8, 8, 1));
            send(iface, &mut dev).unwrap();
            let macs: Vec<_> = dev.tx.iter().filter(|f| f[12..14] == [0x08, 0x00]).map(|f| &f[..6]).collect();
            assert_eq!(macs, [&mac1.0[..], &mac2.0[..], &mac1.0[..], &PEER_MAC.0[..], &mac1.0[..]]);
        });
    }

    #[test]
    fn address_table_limits() {
        with_interface(|iface| {
            assert_eq!(
                iface.add_address(Ipv4Cidr::new(Ipv4Address::BROADCAST, 32).unwrap()),
                Err(AddressError::Invalid)
            );
            for i in 2..=4 {
                iface.add_address(Ipv4Cidr::new(Ipv4Address::new(10, 0, i, 1), 24).unwrap()).unwrap();
            }
            assert_eq!(
                iface.add_address(Ipv4Cidr::new(Ipv4Address::new(10, 0, 9, 1), 24).unwrap()),
                Err(AddressError::Full)
            );
            // Same address, new prefix: replaced in place.
            iface.add_address(Ipv4Cidr::new(ME, 16).unwrap()).unwrap();
            assert_eq!(iface.addresses().next(), Ipv4Cidr::new(ME, 16));
            assert_eq!(
                iface.inner.source_for(Ipv4Address::new(10, 0, 3, 7)),
                Some(Ipv4Address::new(10, 0, 0, 1)),
                "10.0/16 matches first"
            );
            assert!(iface.remove_address(ME));
            assert_eq!(iface.inner.source_for(Ipv4Address::new(10, 0, 3, 7)), Some(Ipv4Address::new(10, 0, 3, 1)));
            assert!(!iface.remove_address(ME));
        });
    }
}
