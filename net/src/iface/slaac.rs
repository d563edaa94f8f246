//! IPv6 address autoconfiguration (RFC 4862) and the host side of router
//! discovery (RFC 4861 6.3): the interface's IPv6 addresses with their
//! duplicate address detection, the prefixes and routers learnt from
//! router advertisements, and the router solicitations sent at start.
//!
//! Pure state: the interface feeds in what it receives and sends what
//! [`Autoconf::next_due`] asks for. Every address goes through DAD before
//! use:
//!
//! ```text
//!   add ──► TENTATIVE ── DupAddrDetectTransmits NS, no answer ──► PREFERRED ── preferred lifetime ──► DEPRECATED
//!              │                                                        └──────── valid lifetime ─────────┴──► (removed)
//!              └── NS from another node doing DAD, or an NA for it ──► DUPLICATE (never used, reported)
//! ```
//!
//! Interface identifiers are modified EUI-64 (RFC 4291 appendix A) or
//! stable per prefix (RFC 7217: a keyed hash of the prefix, the MAC and a
//! DAD counter, so a duplicate stable address is retried with the next
//! counter value up to [`IDGEN_RETRIES`] times).

use crate::socket::tcp::siphash24;
use crate::time::{Duration, Instant};
use crate::wire::{EthernetAddress, Ipv6Address};

/// Addresses an interface holds (link-local included).
pub const MAX_IPV6_ADDRESSES: usize = 6;
/// Routers kept in the default router list.
pub const MAX_ROUTERS: usize = 3;
/// On-link prefixes kept (besides fe80::/64, always on link).
pub const MAX_PREFIXES: usize = 4;
/// Router solicitations sent at start (RFC 4861 10).
pub const MAX_RTR_SOLICITATIONS: u8 = 3;
/// Time between router solicitations (RFC 4861 10).
pub const RTR_SOLICITATION_INTERVAL: Duration = Duration::from_secs(4);
/// Upper bound of the random delay before the first router solicitation
/// and the first DAD probe (RFC 4861 10, RFC 4862 5.4.2).
pub const MAX_RTR_SOLICITATION_DELAY: Duration = Duration::from_secs(1);
/// Stable addresses tried per prefix after duplicates (RFC 7217).
pub const IDGEN_RETRIES: u8 = 3;
/// The floor of a valid lifetime an advertisement may shorten (RFC 4862
/// 5.5.3 e).
const TWO_HOURS: Duration = Duration::from_secs(2 * 3600);
/// A lifetime field meaning forever.
pub const INFINITE_LIFETIME: u32 = u32::MAX;
/// Events kept until the embedder takes them.
const EVENT_QUEUE: usize = 8;

/// How interface identifiers are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterfaceId {
    /// Modified EUI-64 from the MAC address (RFC 4291 appendix A).
    Eui64,
    /// A stable, opaque identifier per prefix keyed by a secret (RFC 7217).
    Stable { secret: [u8; 16] },
}

/// IPv6 settings of an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Config {
    pub interface_id: InterfaceId,
    /// Neighbour solicitations sent for DAD (RFC 4862 DupAddrDetectTransmits;
    /// 0 skips DAD).
    pub dad_transmits: u8,
    /// Form addresses from router advertisements.
    pub slaac: bool,
    /// Send router solicitations at start.
    pub router_solicitations: bool,
    /// Hop limit of datagrams this interface originates (a router
    /// advertisement may change it).
    pub hop_limit: u8,
    /// Seeds the random delays of RFC 4861/4862 and RFC 3810.
    pub seed: u32,
    /// Report the groups listened to with MLDv2 (RFC 3810), so switches
    /// that snoop MLD forward neighbour solicitations to us.
    pub mld: bool,
}

impl Ipv6Config {
    /// SLAAC with EUI-64 identifiers, one DAD probe, router solicitation,
    /// MLD reports.
    pub const fn new() -> Ipv6Config {
        Ipv6Config {
            interface_id: InterfaceId::Eui64,
            dad_transmits: 1,
            slaac: true,
            router_solicitations: true,
            hop_limit: 64,
            seed: 0,
            mld: true,
        }
    }
}

impl Default for Ipv6Config {
    fn default() -> Ipv6Config {
        Ipv6Config::new()
    }
}

/// Where an address came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressOrigin {
    LinkLocal,
    /// Formed from a router advertisement's prefix.
    Slaac,
    /// Added by the embedder.
    Static,
}

/// An address's state (RFC 4862 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressState {
    /// DAD in progress: not used yet.
    Tentative,
    Preferred,
    /// Past its preferred lifetime: still received on, not chosen as a
    /// source for new conversations.
    Deprecated,
    /// Another node has it: never used.
    Duplicate,
}

impl AddressState {
    pub fn name(&self) -> &'static str {
        match self {
            AddressState::Tentative => "tentative",
            AddressState::Preferred => "preferred",
            AddressState::Deprecated => "deprecated",
            AddressState::Duplicate => "duplicate",
        }
    }
}

/// One of the interface's IPv6 addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6AddressInfo {
    pub address: Ipv6Address,
    pub prefix_len: u8,
    pub origin: AddressOrigin,
    pub state: AddressState,
    /// `None`: forever.
    pub valid_until: Option<Instant>,
    pub preferred_until: Option<Instant>,
}

impl Ipv6AddressInfo {
    /// Whether the address may be used (received on, sent from).
    pub fn is_assigned(&self) -> bool {
        matches!(self.state, AddressState::Preferred | AddressState::Deprecated)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    info: Ipv6AddressInfo,
    /// DAD probes sent and when the next step is due (while tentative).
    probes_sent: u8,
    next_at: Instant,
    /// RFC 7217 DAD_Counter this address was made with.
    dad_counter: u8,
}

/// A router of the default router list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Router {
    pub address: Ipv6Address,
    pub until: Instant,
}

/// An on-link prefix (RFC 4861 5.1 Prefix List).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnLinkPrefix {
    pub prefix: Ipv6Address,
    pub len: u8,
    /// `None`: forever.
    pub until: Option<Instant>,
}

/// What the embedder may want to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv6Event {
    /// DAD succeeded: the address is in use.
    AddressPreferred(Ipv6Address),
    /// Another node defends the address: it is not used.
    AddressDuplicate(Ipv6Address),
    AddressDeprecated(Ipv6Address),
    /// The valid lifetime ran out: removed.
    AddressExpired(Ipv6Address),
    RouterAdded(Ipv6Address),
    /// Its lifetime ran out or it said it is no longer a router.
    RouterRemoved(Ipv6Address),
    /// The link-local address formed from the hardware address is a
    /// duplicate: IPv6 is off on the interface (RFC 4862 5.4.5); IPv4
    /// goes on.
    Disabled(Ipv6Address),
}

/// Something to send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// A DAD probe: an NS for `target` from the unspecified address to its
    /// solicited-node group.
    DadProbe(Ipv6Address),
    /// A router solicitation to all-routers, from `source` (unspecified
    /// while no link-local address is usable, and then without a source
    /// link-layer option).
    RouterSolicitation { source: Ipv6Address },
}

/// A router advertisement's header fields (RFC 4861 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouterAdvertInfo {
    pub source: Ipv6Address,
    /// 0: not a default router.
    pub router_lifetime_secs: u16,
    /// 0: unspecified.
    pub reachable_time_ms: u32,
    pub retrans_timer_ms: u32,
    /// 0: unspecified.
    pub hop_limit: u8,
    pub mtu: Option<u32>,
}

/// A prefix information option (RFC 4861 4.6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixInfo {
    pub prefix: Ipv6Address,
    pub prefix_len: u8,
    pub on_link: bool,
    pub autonomous: bool,
    pub valid_lifetime: u32,
    pub preferred_lifetime: u32,
}

/// Why an address could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv6AddressError {
    /// Every address slot is taken.
    Full,
    /// Not a unicast address, or a prefix longer than 128.
    Invalid,
    /// IPv6 is disabled on the interface (see [`Ipv6Event::Disabled`]).
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Solicitation {
    /// Not started or not wanted.
    Off,
    /// `sent` solicitations so far; the next at `next_at` at the earliest.
    Soliciting { sent: u8, next_at: Instant },
    /// An advertisement came, or every solicitation was sent.
    Done,
}

/// The autoconfiguration state of one interface.
#[derive(Debug)]
pub struct Autoconf {
    config: Ipv6Config,
    mac: EthernetAddress,
    addresses: [Option<Entry>; MAX_IPV6_ADDRESSES],
    routers: [Option<Router>; MAX_ROUTERS],
    prefixes: [Option<OnLinkPrefix>; MAX_PREFIXES],
    solicitation: Solicitation,
    events: [Option<Ipv6Event>; EVENT_QUEUE],
    /// Events lost because the queue was full.
    events_lost: u64,
    rng: u32,
    hop_limit: u8,
    /// The link MTU a router advertised.
    mtu: Option<u32>,
    retrans_timer: Duration,
    /// Set when the hardware-derived link-local address was a duplicate.
    disabled: bool,
}

/// How many leading bits `a` and `b` share.
pub fn common_prefix_len(a: Ipv6Address, b: Ipv6Address) -> u8 {
    let mut bits = 0;
    for (x, y) in a.0.iter().zip(b.0.iter()) {
        let diff = x ^ y;
        if diff != 0 {
            return bits + diff.leading_zeros() as u8;
        }
        bits += 8;
    }
    bits
}

/// A RFC 7217 stable identifier for `prefix` (its first 64 bits), the MAC
/// and the DAD counter.
pub fn stable_id(secret: &[u8; 16], prefix: Ipv6Address, mac: EthernetAddress, dad_counter: u8) -> [u8; 8] {
    let mut message = [0u8; 8 + 6 + 1];
    message[..8].copy_from_slice(&prefix.0[..8]);
    message[8..14].copy_from_slice(&mac.0);
    message[14] = dad_counter;
    siphash24(secret, &message).to_be_bytes()
}

/// Identifiers no address may use (RFC 5453): all zero (subnet-router
/// anycast) and the reserved subnet anycast range.
fn is_reserved_id(id: &[u8; 8]) -> bool {
    *id == [0; 8] || (id[..7] == [0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] && id[7] >= 0x80)
}

fn expiry(now: Instant, secs: u32) -> Option<Instant> {
    (secs != INFINITE_LIFETIME).then(|| now + Duration::from_secs(u64::from(secs)))
}

impl Autoconf {
    /// The state of an interface with MAC `mac` that has just come up: its
    /// link-local address starts DAD after a random delay, router
    /// solicitation follows once it is usable.
    pub fn new(config: Ipv6Config, mac: EthernetAddress, now: Instant) -> Autoconf {
        let mut a = Autoconf {
            config,
            mac,
            addresses: [None; MAX_IPV6_ADDRESSES],
            routers: [None; MAX_ROUTERS],
            prefixes: [None; MAX_PREFIXES],
            solicitation: Solicitation::Off,
            events: [None; EVENT_QUEUE],
            events_lost: 0,
            rng: config.seed ^ 0x9e37_79b9,
            hop_limit: config.hop_limit,
            mtu: None,
            retrans_timer: super::ndp_cache::RETRANS_TIMER,
            disabled: false,
        };
        let link_local = Ipv6Address([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let _ = a.form(now, link_local, 64, AddressOrigin::LinkLocal, None, None);
        if config.router_solicitations {
            let delay = a.random_delay(MAX_RTR_SOLICITATION_DELAY);
            a.solicitation = Solicitation::Soliciting { sent: 0, next_at: now + delay };
        }
        a
    }

    /// The settings.
    pub fn config(&self) -> &Ipv6Config {
        &self.config
    }

    /// A random duration in `[0, max)` (xorshift; only spreads timers).
    pub(crate) fn random_delay(&mut self, max: Duration) -> Duration {
        let mut x = self.rng.max(1);
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        match max.total_micros() {
            0 => Duration::ZERO,
            m => Duration::from_micros(u64::from(x) % m),
        }
    }

    fn push_event(&mut self, event: Ipv6Event) {
        match self.events.iter_mut().find(|e| e.is_none()) {
            Some(slot) => *slot = Some(event),
            None => self.events_lost += 1,
        }
    }

    /// The oldest event not taken yet.
    pub fn take_event(&mut self) -> Option<Ipv6Event> {
        let first = self.events[0].take()?;
        self.events.rotate_left(1);
        Some(first)
    }

    /// Events dropped because nobody took them in time.
    pub fn events_lost(&self) -> u64 {
        self.events_lost
    }

    /// The interface identifier for `prefix` (DAD counter `counter`).
    fn interface_id(&self, prefix: Ipv6Address, counter: u8) -> [u8; 8] {
        match self.config.interface_id {
            InterfaceId::Eui64 => self.mac.eui64_interface_id(),
            InterfaceId::Stable { secret } => {
                let mut c = counter;
                loop {
                    let id = stable_id(&secret, prefix, self.mac, c);
                    if !is_reserved_id(&id) || c == u8::MAX {
                        return id;
                    }
                    c += 1;
                }
            }
        }
    }

    /// Forms and adds an address from a /64 `prefix` with DAD counter 0.
    fn form(
        &mut self,
        now: Instant,
        prefix: Ipv6Address,
        prefix_len: u8,
        origin: AddressOrigin,
        valid_until: Option<Instant>,
        preferred_until: Option<Instant>,
    ) -> Result<Ipv6Address, Ipv6AddressError> {
        let address = Ipv6Address::from_prefix_and_interface_id(&prefix, &self.interface_id(prefix, 0));
        let info = Ipv6AddressInfo {
            address,
            prefix_len,
            origin,
            state: AddressState::Tentative,
            valid_until,
            preferred_until,
        };
        self.insert(now, info, 0)?;
        Ok(address)
    }

    /// Adds an address in TENTATIVE state (or PREFERRED when DAD is off).
    fn insert(&mut self, now: Instant, mut info: Ipv6AddressInfo, dad_counter: u8) -> Result<(), Ipv6AddressError> {
        let slot = match self.addresses.iter().position(|e| e.is_some_and(|e| e.info.address == info.address)) {
            Some(i) => i,
            None => self.addresses.iter().position(Option::is_none).ok_or(Ipv6AddressError::Full)?,
        };
        let delay = self.random_delay(MAX_RTR_SOLICITATION_DELAY);
        if self.config.dad_transmits == 0 {
            info.state = AddressState::Preferred;
        }
        self.addresses[slot] = Some(Entry { info, probes_sent: 0, next_at: now + delay, dad_counter });
        if info.state == AddressState::Preferred {
            self.push_event(Ipv6Event::AddressPreferred(info.address));
        }
        Ok(())
    }

    /// Adds an address the embedder chose; it is used once DAD passes. Its
    /// prefix becomes on-link (forever).
    pub fn add_static(&mut self, now: Instant, address: Ipv6Address, prefix_len: u8) -> Result<(), Ipv6AddressError> {
        if prefix_len > 128 || address.is_unspecified() || address.is_multicast() || address.is_loopback() {
            return Err(Ipv6AddressError::Invalid);
        }
        if self.disabled {
            return Err(Ipv6AddressError::Disabled);
        }
        let info = Ipv6AddressInfo {
            address,
            prefix_len,
            origin: AddressOrigin::Static,
            state: AddressState::Tentative,
            valid_until: None,
            preferred_until: None,
        };
        self.insert(now, info, 0)?;
        if prefix_len < 128 && !address.is_link_local() {
            self.set_on_link(address.mask(prefix_len), prefix_len, None);
        }
        Ok(())
    }

    /// Removes an address; whether it was there.
    pub fn remove(&mut self, address: Ipv6Address) -> bool {
        match self.addresses.iter().position(|e| e.is_some_and(|e| e.info.address == address)) {
            Some(i) => {
                self.addresses[i] = None;
                true
            }
            None => false,
        }
    }

    /// Every address, whatever its state.
    pub fn addresses(&self) -> impl Iterator<Item = Ipv6AddressInfo> + '_ {
        self.addresses.iter().flatten().map(|e| e.info)
    }

    fn entry(&self, address: Ipv6Address) -> Option<&Entry> {
        self.addresses.iter().flatten().find(|e| e.info.address == address)
    }

    /// Whether `address` is ours and usable (not tentative or duplicate).
    pub fn is_assigned(&self, address: Ipv6Address) -> bool {
        self.entry(address).is_some_and(|e| e.info.is_assigned())
    }

    /// Whether `address` is ours but still in DAD.
    pub fn is_tentative(&self, address: Ipv6Address) -> bool {
        self.entry(address).is_some_and(|e| e.info.state == AddressState::Tentative)
    }

    /// Whether a packet to this multicast group is for us: all-nodes, or
    /// the solicited-node group of one of our addresses (tentative ones
    /// included, RFC 4862 5.4.2).
    pub fn in_group(&self, group: Ipv6Address) -> bool {
        group == Ipv6Address::LINK_LOCAL_ALL_NODES
            || self
                .addresses
                .iter()
                .flatten()
                .any(|e| e.info.state != AddressState::Duplicate && e.info.address.solicited_node() == group)
    }

    /// The usable link-local address.
    pub fn link_local(&self) -> Option<Ipv6Address> {
        self.addresses().find(|a| a.origin == AddressOrigin::LinkLocal && a.is_assigned()).map(|a| a.address)
    }

    /// The source address for `dst` (RFC 6724, simplified): same scope
    /// first, preferred before deprecated, then the longest common prefix.
    pub fn source_for(&self, dst: Ipv6Address) -> Option<Ipv6Address> {
        let link_scope = dst.is_link_local() || (dst.is_multicast() && dst.0[1] & 0x0f <= 2);
        self.addresses()
            .filter(Ipv6AddressInfo::is_assigned)
            .max_by_key(|a| {
                (
                    a.address.is_link_local() == link_scope,
                    a.state == AddressState::Preferred,
                    common_prefix_len(a.address, dst),
                )
            })
            .map(|a| a.address)
    }

    /// Whether `dst` is on the link: link-local, or in an on-link prefix or
    /// the prefix of one of our addresses.
    pub fn is_on_link(&self, dst: Ipv6Address, now: Instant) -> bool {
        dst.is_link_local()
            || self
                .prefixes
                .iter()
                .flatten()
                .any(|p| p.until.is_none_or(|t| now < t) && dst.same_prefix(&p.prefix, p.len))
    }

    /// The default router: the first of the list still valid.
    pub fn default_router(&self, now: Instant) -> Option<Ipv6Address> {
        self.routers.iter().flatten().find(|r| now < r.until).map(|r| r.address)
    }

    /// The default router list.
    pub fn routers(&self) -> impl Iterator<Item = Router> + '_ {
        self.routers.iter().flatten().copied()
    }

    /// The on-link prefixes.
    pub fn prefixes(&self) -> impl Iterator<Item = OnLinkPrefix> + '_ {
        self.prefixes.iter().flatten().copied()
    }

    /// The hop limit to send with.
    pub fn hop_limit(&self) -> u8 {
        self.hop_limit
    }

    /// The link MTU a router advertised.
    pub fn advertised_mtu(&self) -> Option<u32> {
        self.mtu
    }

    /// Another node answered or started DAD for `address` (an NA for it,
    /// or an NS for it from the unspecified address while ours is
    /// tentative) — or defends an address we already use. A tentative
    /// address becomes DUPLICATE (and, with stable identifiers, the next
    /// candidate starts DAD); returns whether ours was tentative.
    pub fn duplicate_detected(&mut self, now: Instant, address: Ipv6Address) -> bool {
        let Some(i) = self.addresses.iter().position(|e| e.is_some_and(|e| e.info.address == address)) else {
            return false;
        };
        let Some(mut entry) = self.addresses[i] else { return false };
        if entry.info.state != AddressState::Tentative {
            return false;
        }
        entry.info.state = AddressState::Duplicate;
        self.addresses[i] = Some(entry);
        self.push_event(Ipv6Event::AddressDuplicate(address));
        #[cfg(feature = "log")]
        log::warn!("ipv6: duplicate address {address}: another node uses it; not used");
        let stable = matches!(self.config.interface_id, InterfaceId::Stable { .. });
        if !stable && entry.info.origin == AddressOrigin::LinkLocal {
            self.disable(address);
            return true;
        }
        let counter = entry.dad_counter + 1;
        if stable && entry.info.origin != AddressOrigin::Static && counter <= IDGEN_RETRIES {
            let prefix = address.mask(64);
            let next = Ipv6AddressInfo {
                address: Ipv6Address::from_prefix_and_interface_id(&prefix, &self.interface_id(prefix, counter)),
                state: AddressState::Tentative,
                ..entry.info
            };
            // The duplicate keeps its slot so the conflict stays visible;
            // the retry needs a free one.
            let _ = self.insert(now, next, counter);
        }
        true
    }

    /// RFC 4862 5.4.5: the link-local address derived from the hardware
    /// address is a duplicate, so the hardware address probably is too:
    /// IPv6 stops on the interface. Only the duplicate stays listed.
    fn disable(&mut self, duplicate: Ipv6Address) {
        self.disabled = true;
        for slot in self.addresses.iter_mut() {
            if slot.is_some_and(|e| e.info.address != duplicate) {
                *slot = None;
            }
        }
        self.routers = [None; MAX_ROUTERS];
        self.prefixes = [None; MAX_PREFIXES];
        self.solicitation = Solicitation::Done;
        self.push_event(Ipv6Event::Disabled(duplicate));
        #[cfg(feature = "log")]
        log::error!("ipv6: link-local address {duplicate} from the hardware address is a duplicate: IPv6 disabled");
    }

    /// Whether IPv6 is off after a duplicate hardware-derived link-local
    /// address.
    pub fn is_disabled(&self) -> bool {
        self.disabled
    }

    /// The next DAD probe or router solicitation due at `now` (marked as
    /// sent), after applying expiries and finished DADs. Call until `None`.
    pub fn next_due(&mut self, now: Instant) -> Option<Due> {
        self.expire(now);
        let transmits = self.config.dad_transmits;
        let retrans = self.retrans_timer;
        for i in 0..MAX_IPV6_ADDRESSES {
            let Some(mut e) = self.addresses[i] else { continue };
            if e.info.state != AddressState::Tentative || now < e.next_at {
                continue;
            }
            if e.probes_sent >= transmits {
                e.info.state = AddressState::Preferred;
                self.addresses[i] = Some(e);
                self.push_event(Ipv6Event::AddressPreferred(e.info.address));
                #[cfg(feature = "log")]
                log::info!("ipv6: address {} is preferred", e.info.address);
                continue;
            }
            e.probes_sent += 1;
            e.next_at = now + retrans;
            self.addresses[i] = Some(e);
            return Some(Due::DadProbe(e.info.address));
        }
        if let Solicitation::Soliciting { sent, next_at } = self.solicitation {
            // Wait for the link-local address's DAD to end, so the
            // solicitation can carry our link-layer address.
            let link_local_pending =
                self.addresses().any(|a| a.origin == AddressOrigin::LinkLocal && a.state == AddressState::Tentative);
            if now >= next_at && !link_local_pending {
                if sent >= MAX_RTR_SOLICITATIONS {
                    self.solicitation = Solicitation::Done;
                } else {
                    self.solicitation =
                        Solicitation::Soliciting { sent: sent + 1, next_at: now + RTR_SOLICITATION_INTERVAL };
                    let source = self.link_local().unwrap_or(Ipv6Address::UNSPECIFIED);
                    return Some(Due::RouterSolicitation { source });
                }
            }
        }
        None
    }

    /// Puts back what [`next_due`](Self::next_due) returned when it could
    /// not be sent, so it goes out at the next poll.
    pub fn unsend(&mut self, due: Due) {
        match due {
            Due::DadProbe(address) => {
                let retrans = self.retrans_timer;
                if let Some(e) = self.addresses.iter_mut().flatten().find(|e| e.info.address == address) {
                    e.probes_sent = e.probes_sent.saturating_sub(1);
                    e.next_at -= retrans;
                }
            }
            Due::RouterSolicitation { .. } => {
                if let Solicitation::Soliciting { sent, next_at } = self.solicitation {
                    self.solicitation = Solicitation::Soliciting {
                        sent: sent.saturating_sub(1),
                        next_at: next_at - RTR_SOLICITATION_INTERVAL,
                    };
                }
            }
        }
    }

    /// Applies lifetimes: deprecates, removes, and drops routers and
    /// prefixes whose time is up.
    fn expire(&mut self, now: Instant) {
        for i in 0..MAX_IPV6_ADDRESSES {
            let Some(mut e) = self.addresses[i] else { continue };
            if e.info.valid_until.is_some_and(|t| now >= t) {
                self.addresses[i] = None;
                self.push_event(Ipv6Event::AddressExpired(e.info.address));
                continue;
            }
            if e.info.state == AddressState::Preferred && e.info.preferred_until.is_some_and(|t| now >= t) {
                e.info.state = AddressState::Deprecated;
                self.addresses[i] = Some(e);
                self.push_event(Ipv6Event::AddressDeprecated(e.info.address));
            }
        }
        for i in 0..MAX_ROUTERS {
            if let Some(r) = self.routers[i].filter(|r| now >= r.until) {
                self.routers[i] = None;
                self.push_event(Ipv6Event::RouterRemoved(r.address));
            }
        }
        for p in self.prefixes.iter_mut() {
            if p.is_some_and(|p| p.until.is_some_and(|t| now >= t)) {
                *p = None;
            }
        }
    }

    /// When [`next_due`](Self::next_due) next has something to do.
    pub fn poll_at(&self) -> Option<Instant> {
        let dad =
            self.addresses.iter().flatten().filter(|e| e.info.state == AddressState::Tentative).map(|e| e.next_at);
        let lifetimes = self.addresses.iter().flatten().flat_map(|e| {
            let preferred = e.info.preferred_until.filter(|_| e.info.state == AddressState::Preferred);
            [e.info.valid_until, preferred]
        });
        let routers = self.routers.iter().flatten().map(|r| Some(r.until));
        let prefixes = self.prefixes.iter().flatten().map(|p| p.until);
        let link_local_pending =
            self.addresses().any(|a| a.origin == AddressOrigin::LinkLocal && a.state == AddressState::Tentative);
        let rs = match self.solicitation {
            Solicitation::Soliciting { next_at, .. } if !link_local_pending => Some(next_at),
            Solicitation::Soliciting { .. } | Solicitation::Off | Solicitation::Done => None,
        };
        dad.map(Some).chain(lifetimes).chain(routers).chain(prefixes).chain(core::iter::once(rs)).flatten().min()
    }

    /// A router advertisement's header: the default router list, hop
    /// limit, MTU and, returned for the neighbour cache, ReachableTime
    /// (randomized, RFC 4861 6.3.4) and RetransTimer (zero when not given).
    pub fn router_advert(&mut self, now: Instant, ra: &RouterAdvertInfo) -> (Duration, Duration) {
        if let Solicitation::Soliciting { .. } = self.solicitation {
            self.solicitation = Solicitation::Done;
        }
        let existing = self.routers.iter().position(|r| r.is_some_and(|r| r.address == ra.source));
        if ra.router_lifetime_secs == 0 {
            if let Some(i) = existing {
                self.routers[i] = None;
                self.push_event(Ipv6Event::RouterRemoved(ra.source));
            }
        } else {
            let router =
                Router { address: ra.source, until: now + Duration::from_secs(u64::from(ra.router_lifetime_secs)) };
            // With the list full the router is ignored (RFC 4861 6.3.4).
            if let Some(i) = existing.or_else(|| self.routers.iter().position(Option::is_none)) {
                if self.routers[i].is_none() {
                    self.push_event(Ipv6Event::RouterAdded(ra.source));
                }
                self.routers[i] = Some(router);
            }
        }
        if ra.hop_limit != 0 {
            self.hop_limit = ra.hop_limit;
        }
        // An MTU option below the IPv6 minimum is ignored (RFC 4861 6.3.4).
        if let Some(mtu) = ra.mtu.filter(|&m| m >= 1280) {
            self.mtu = Some(mtu);
        }
        if ra.retrans_timer_ms != 0 {
            self.retrans_timer = Duration::from_millis(u64::from(ra.retrans_timer_ms));
        }
        let reachable = match ra.reachable_time_ms {
            0 => Duration::ZERO,
            // Uniformly in [0.5, 1.5) times the base (RFC 4861 6.3.2).
            ms => {
                let base = Duration::from_millis(u64::from(ms.min(3_600_000)));
                Duration::from_micros(base.total_micros() / 2) + self.random_delay(base)
            }
        };
        let retrans = Duration::from_millis(u64::from(ra.retrans_timer_ms));
        (reachable, retrans)
    }

    /// A router's other-than-unreachable news: `address` is no longer a
    /// router (an NA without the router flag).
    pub fn router_gone(&mut self, address: Ipv6Address) {
        if let Some(r) = self.routers.iter_mut().find(|r| r.is_some_and(|r| r.address == address)) {
            *r = None;
            self.push_event(Ipv6Event::RouterRemoved(address));
        }
    }

    fn set_on_link(&mut self, prefix: Ipv6Address, len: u8, until: Option<Instant>) {
        let same = |p: &Option<OnLinkPrefix>| p.is_some_and(|p| p.prefix == prefix && p.len == len);
        if let Some(i) = self.prefixes.iter().position(same).or_else(|| self.prefixes.iter().position(Option::is_none))
        {
            self.prefixes[i] = Some(OnLinkPrefix { prefix, len, until });
        }
    }

    /// A prefix information option (RFC 4861 6.3.4 for on-link, RFC 4862
    /// 5.5.3 for addresses). Returns whether a new address was formed.
    pub fn prefix_info(&mut self, now: Instant, info: &PrefixInfo) -> bool {
        if self.disabled || info.prefix.is_link_local() || info.prefix_len > 128 || info.prefix.is_multicast() {
            return false;
        }
        let prefix = info.prefix.mask(info.prefix_len);
        if info.on_link {
            if info.valid_lifetime == 0 {
                self.prefixes
                    .iter_mut()
                    .filter(|p| p.is_some_and(|p| p.prefix == prefix && p.len == info.prefix_len))
                    .for_each(|p| *p = None);
            } else {
                self.set_on_link(prefix, info.prefix_len, expiry(now, info.valid_lifetime));
            }
        }
        if !info.autonomous || !self.config.slaac || info.preferred_lifetime > info.valid_lifetime {
            return false;
        }
        let of_prefix = |e: &Entry| {
            e.info.origin == AddressOrigin::Slaac
                && e.info.prefix_len == info.prefix_len
                && e.info.address.mask(info.prefix_len) == prefix
        };
        if !self.addresses.iter().flatten().any(of_prefix) {
            // Interface identifiers are 64 bits (RFC 4291 2.5.1).
            if info.valid_lifetime == 0 || info.prefix_len != 64 {
                return false;
            }
            let valid = expiry(now, info.valid_lifetime);
            let preferred = expiry(now, info.preferred_lifetime);
            if self.form(now, prefix, 64, AddressOrigin::Slaac, valid, preferred).is_err() {
                return false;
            }
            if info.preferred_lifetime == 0 {
                // Formed deprecated: still DAD first.
                if let Some(e) = self.addresses.iter_mut().flatten().find(|e| of_prefix(e)) {
                    e.info.preferred_until = Some(now);
                }
            }
            return true;
        }
        // Every address of the prefix (a stable identifier's retry after a
        // duplicate too) takes the new lifetimes.
        for slot in self.addresses.iter_mut() {
            let Some(e) = slot.as_mut().filter(|e| of_prefix(e)) else { continue };
            e.info.preferred_until = expiry(now, info.preferred_lifetime);
            if e.info.state == AddressState::Deprecated && info.preferred_lifetime != 0 {
                e.info.state = AddressState::Preferred;
            }
            // The two-hour rule (RFC 4862 5.5.3 e) keeps an unauthenticated
            // advertisement from expiring us early.
            let received = expiry(now, info.valid_lifetime);
            let remaining = e.info.valid_until.map(|t| t.saturating_duration_since(now));
            let received_len = received.map(|t| t.saturating_duration_since(now));
            let longer = match (received_len, remaining) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(r), Some(rem)) => r > rem,
            };
            if received_len.is_none_or(|r| r > TWO_HOURS) || longer {
                e.info.valid_until = received;
            } else if remaining.is_some_and(|rem| rem <= TWO_HOURS) {
                // Ignore the received valid lifetime.
            } else {
                e.info.valid_until = Some(now + TWO_HOURS);
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    const MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    const PREFIX: Ipv6Address = Ipv6Address([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const ROUTER: Ipv6Address = Ipv6Address([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

    fn with_id(prefix: Ipv6Address, id: [u8; 8]) -> Ipv6Address {
        Ipv6Address::from_prefix_and_interface_id(&prefix, &id)
    }

    fn ms(t: i64) -> Instant {
        Instant::from_millis(t)
    }

    fn addr(s: [u16; 8]) -> Ipv6Address {
        let mut b = [0u8; 16];
        for (i, seg) in s.iter().enumerate() {
            b[2 * i..2 * i + 2].copy_from_slice(&seg.to_be_bytes());
        }
        Ipv6Address(b)
    }

    fn no_delay_config() -> Ipv6Config {
        Ipv6Config { router_solicitations: false, ..Ipv6Config::new() }
    }

    /// Runs every due action until `until`, stepping `step` ms; returns
    /// what was due and when.
    fn run(a: &mut Autoconf, from: i64, until: i64) -> Vec<(i64, Due)> {
        let mut out = Vec::new();
        let mut t = from;
        while t <= until {
            while let Some(d) = a.next_due(ms(t)) {
                out.push((t, d));
            }
            t += 10;
        }
        out
    }

    fn link_local_of(mac: EthernetAddress) -> Ipv6Address {
        let id = mac.eui64_interface_id();
        let mut b = [0u8; 16];
        b[0] = 0xfe;
        b[1] = 0x80;
        b[8..].copy_from_slice(&id);
        Ipv6Address(b)
    }

    #[test]
    fn identifiers_and_groups() {
        assert_eq!(MAC.eui64_interface_id(), [0x50, 0x54, 0x00, 0xff, 0xfe, 0x12, 0x34, 0x56]);
        let ll = link_local_of(MAC);
        assert_eq!(ll, addr([0xfe80, 0, 0, 0, 0x5054, 0x00ff, 0xfe12, 0x3456]));
        assert_eq!(ll.solicited_node(), addr([0xff02, 0, 0, 0, 0, 1, 0xff12, 0x3456]));
        assert!(ll.is_link_local() && !PREFIX.is_link_local());
        assert_eq!(addr([0x2001, 0xdb8, 1, 2, 3, 4, 5, 6]).mask(48), addr([0x2001, 0xdb8, 1, 0, 0, 0, 0, 0]));
        assert_eq!(addr([0xffff; 8]).mask(7), addr([0xfe00, 0, 0, 0, 0, 0, 0, 0]));
        assert_eq!(common_prefix_len(PREFIX, PREFIX), 128);
        assert_eq!(common_prefix_len(addr([0x8000, 0, 0, 0, 0, 0, 0, 0]), Ipv6Address::UNSPECIFIED), 0);
        assert_eq!(
            common_prefix_len(addr([0x2001, 0xdb8, 1, 0, 0, 0, 0, 0]), addr([0x2001, 0xdb8, 3, 0, 0, 0, 0, 0])),
            46
        );
        // Stable identifiers: deterministic, different per prefix and counter.
        let s = [7u8; 16];
        assert_eq!(stable_id(&s, PREFIX, MAC, 0), stable_id(&s, PREFIX, MAC, 0));
        assert_ne!(stable_id(&s, PREFIX, MAC, 0), stable_id(&s, PREFIX, MAC, 1));
        assert_ne!(stable_id(&s, PREFIX, MAC, 0), stable_id(&s, ROUTER, MAC, 0));
        assert!(is_reserved_id(&[0; 8]));
        assert!(is_reserved_id(&[0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80]));
        assert!(!is_reserved_id(&[0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    }

    #[test]
    fn link_local_passes_dad_then_router_solicitations_follow() {
        let config = Ipv6Config { seed: 1, ..Ipv6Config::new() };
        let mut a = Autoconf::new(config, MAC, ms(0));
        let ll = link_local_of(MAC);
        let info = a.addresses().next().unwrap();
        assert_eq!((info.address, info.origin, info.state), (ll, AddressOrigin::LinkLocal, AddressState::Tentative));
        assert!(!a.is_assigned(ll) && a.is_tentative(ll));
        assert!(a.in_group(ll.solicited_node()), "joined before DAD");
        assert_eq!(a.source_for(ROUTER), None, "tentative addresses are never sources");
        let due = run(&mut a, 0, 14_000);
        // One DAD probe within the first second, preferred one RetransTimer
        // later, then three solicitations four seconds apart.
        assert_eq!(due.len(), 4, "{due:?}");
        let (t0, probe) = due[0];
        assert!(t0 < 1000);
        assert_eq!(probe, Due::DadProbe(ll));
        let (t1, rs) = due[1];
        assert!(t1 >= t0 + 1000 && t1 < t0 + 1020 + 1000, "after DAD at {t1}");
        assert_eq!(rs, Due::RouterSolicitation { source: ll });
        assert_eq!(due[2].0 - t1, 4000);
        assert_eq!(due[3].0 - t1, 8000);
        assert!(a.is_assigned(ll));
        assert_eq!(a.take_event(), Some(Ipv6Event::AddressPreferred(ll)));
        assert_eq!(a.take_event(), None);
        assert!(run(&mut a, 14_000, 30_000).is_empty(), "only three solicitations");
        assert_eq!(a.source_for(ROUTER), Some(ll));
    }

    #[test]
    fn an_advertisement_stops_the_solicitations() {
        let mut a = Autoconf::new(Ipv6Config { dad_transmits: 0, ..Ipv6Config::new() }, MAC, ms(0));
        assert_eq!(a.take_event(), Some(Ipv6Event::AddressPreferred(link_local_of(MAC))), "no DAD");
        let due = run(&mut a, 0, 1000);
        assert_eq!(due.len(), 1);
        let ra = RouterAdvertInfo {
            source: ROUTER,
            router_lifetime_secs: 0,
            reachable_time_ms: 0,
            retrans_timer_ms: 0,
            hop_limit: 0,
            mtu: None,
        };
        a.router_advert(ms(1000), &ra);
        assert!(run(&mut a, 1000, 20_000).is_empty());
        assert_eq!(a.default_router(ms(1000)), None, "lifetime 0: not a default router");
    }

    #[test]
    fn dad_conflict_leaves_the_address_unused() {
        let mut a = Autoconf::new(no_delay_config(), MAC, ms(0));
        let ll = link_local_of(MAC);
        let due = run(&mut a, 0, 990);
        assert_eq!(due.len(), 1);
        // Another node defends it before DAD ends.
        assert!(a.duplicate_detected(ms(1000), ll));
        assert_eq!(a.addresses().next().unwrap().state, AddressState::Duplicate);
        assert!(!a.is_assigned(ll) && !a.is_tentative(ll));
        assert!(!a.in_group(ll.solicited_node()), "left the group");
        assert_eq!(a.take_event(), Some(Ipv6Event::AddressDuplicate(ll)));
        // Formed from the MAC: IPv6 stops (RFC 4862 5.4.5).
        assert_eq!(a.take_event(), Some(Ipv6Event::Disabled(ll)));
        assert!(a.is_disabled());
        assert!(run(&mut a, 1000, 5000).is_empty(), "never becomes preferred");
        assert_eq!(a.take_event(), None);
        assert_eq!(a.source_for(ROUTER), None);
        // Once in use, an address is not given up for another claim.
        let mut b = Autoconf::new(Ipv6Config { dad_transmits: 0, ..no_delay_config() }, MAC, ms(0));
        assert!(!b.duplicate_detected(ms(0), ll));
        assert!(b.is_assigned(ll));
        assert!(!b.duplicate_detected(ms(0), PREFIX), "not ours");
    }

    #[test]
    fn dad_with_several_transmits() {
        let mut a = Autoconf::new(Ipv6Config { dad_transmits: 3, ..no_delay_config() }, MAC, ms(0));
        let due = run(&mut a, 0, 6000);
        assert_eq!(due.len(), 3);
        assert_eq!(due[1].0 - due[0].0, 1000);
        assert_eq!(due[2].0 - due[1].0, 1000);
        assert!(a.is_assigned(link_local_of(MAC)));
        // Unsent probes are retried.
        let mut b = Autoconf::new(no_delay_config(), MAC, ms(0));
        let (t, d) = run(&mut b, 0, 1000)[0];
        b.unsend(d);
        assert_eq!(b.next_due(ms(t)), Some(d));
    }

    fn slaac_ready() -> Autoconf {
        let mut a = Autoconf::new(Ipv6Config { dad_transmits: 0, ..no_delay_config() }, MAC, ms(0));
        while a.take_event().is_some() {}
        a
    }

    fn pio(valid: u32, preferred: u32) -> PrefixInfo {
        PrefixInfo {
            prefix: PREFIX,
            prefix_len: 64,
            on_link: true,
            autonomous: true,
            valid_lifetime: valid,
            preferred_lifetime: preferred,
        }
    }

    fn slaac_address(a: &Autoconf) -> Option<Ipv6AddressInfo> {
        a.addresses().find(|i| i.origin == AddressOrigin::Slaac)
    }

    #[test]
    fn prefix_forms_an_address_after_dad_with_its_lifetimes() {
        let mut a = Autoconf::new(no_delay_config(), MAC, ms(0));
        run(&mut a, 0, 3000);
        a.prefix_info(ms(3000), &pio(600, 300));
        let info = slaac_address(&a).unwrap();
        let expected = with_id(PREFIX, MAC.eui64_interface_id());
        assert_eq!(info.address, expected);
        assert_eq!(info.state, AddressState::Tentative);
        assert_eq!(info.valid_until, Some(ms(603_000)));
        assert_eq!(info.preferred_until, Some(ms(303_000)));
        assert!(a.is_on_link(addr([0x2001, 0xdb8, 1, 0, 0, 0, 0, 9]), ms(3000)));
        assert!(!a.is_on_link(addr([0x2001, 0xdb8, 2, 0, 0, 0, 0, 9]), ms(3000)));
        let due = run(&mut a, 3000, 6000);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].1, Due::DadProbe(expected));
        assert!(a.is_assigned(expected));
        let global = addr([0x2001, 0xdb8, 2, 0, 0, 0, 0, 1]);
        assert_eq!(a.source_for(global), Some(expected), "global scope for a global destination");
        assert_eq!(a.source_for(ROUTER), Some(link_local_of(MAC)), "link-local for link-local");
        while a.take_event().is_some() {}
        // Deprecated after the preferred lifetime, removed after the valid.
        assert!(a.poll_at().is_some_and(|t| t <= ms(303_000)));
        assert!(run(&mut a, 302_990, 303_000).is_empty());
        assert_eq!(slaac_address(&a).unwrap().state, AddressState::Deprecated);
        assert_eq!(a.take_event(), Some(Ipv6Event::AddressDeprecated(expected)));
        assert!(a.is_assigned(expected), "still valid");
        assert_eq!(a.source_for(global), Some(expected), "deprecated, but the only global one");
        a.next_due(ms(603_000));
        assert_eq!(slaac_address(&a), None);
        assert_eq!(a.take_event(), Some(Ipv6Event::AddressExpired(expected)));
        assert!(!a.is_on_link(addr([0x2001, 0xdb8, 1, 0, 0, 0, 0, 9]), ms(603_000)), "prefix expired too");
    }

    #[test]
    fn prefixes_that_form_no_address() {
        let mut a = slaac_ready();
        for bad in [
            PrefixInfo { autonomous: false, ..pio(600, 300) },
            PrefixInfo { prefix_len: 48, ..pio(600, 300) },
            pio(300, 600), // preferred > valid
            pio(0, 0),
            PrefixInfo { prefix: ROUTER, ..pio(600, 300) }, // link-local
        ] {
            a.prefix_info(ms(0), &bad);
            assert_eq!(slaac_address(&a), None, "{bad:?}");
        }
        // Off-link but autonomous: an address, but the prefix is not on link.
        let mut a = slaac_ready();
        a.prefix_info(ms(0), &PrefixInfo { on_link: false, ..pio(600, 300) });
        assert!(slaac_address(&a).is_some());
        assert!(!a.is_on_link(with_id(PREFIX, [0, 0, 0, 0, 0, 0, 0, 9]), ms(0)));
        let mut off = Autoconf::new(Ipv6Config { slaac: false, ..no_delay_config() }, MAC, ms(0));
        off.prefix_info(ms(0), &pio(600, 300));
        assert_eq!(slaac_address(&off), None, "SLAAC disabled");
        assert!(off.is_on_link(with_id(PREFIX, [0, 0, 0, 0, 0, 0, 0, 9]), ms(0)), "on-link still learnt");
    }

    #[test]
    fn two_hour_rule_on_valid_lifetime_updates() {
        let mut a = slaac_ready();
        let h = |n: i64| ms(n * 3_600_000);
        a.prefix_info(ms(0), &pio(10 * 3600, 3600));
        // A shorter lifetime above two hours is taken.
        a.prefix_info(ms(0), &pio(3 * 3600, 3600));
        assert_eq!(slaac_address(&a).unwrap().valid_until, Some(h(3)));
        // Below two hours with more than two remaining: cut to two hours.
        a.prefix_info(ms(0), &pio(60, 30));
        assert_eq!(slaac_address(&a).unwrap().valid_until, Some(h(2)));
        assert_eq!(slaac_address(&a).unwrap().preferred_until, Some(ms(30_000)), "preferred is always reset");
        // With two hours or less remaining, a shorter one is ignored ...
        a.prefix_info(h(1), &pio(0, 0));
        assert_eq!(slaac_address(&a).unwrap().valid_until, Some(h(2)));
        // ... and a longer one taken.
        a.prefix_info(h(1), &pio(7200, 7200));
        assert_eq!(slaac_address(&a).unwrap().valid_until, Some(h(3)));
        assert_eq!(slaac_address(&a).unwrap().state, AddressState::Preferred);
        // Infinite lifetimes.
        a.prefix_info(h(1), &pio(INFINITE_LIFETIME, INFINITE_LIFETIME));
        let info = slaac_address(&a).unwrap();
        assert_eq!((info.valid_until, info.preferred_until), (None, None));
        a.prefix_info(h(1), &pio(60, 30));
        assert_eq!(slaac_address(&a).unwrap().valid_until, Some(h(3)), "infinite cut to two hours");
    }

    #[test]
    fn deprecated_address_is_preferred_again_on_a_new_lifetime() {
        let mut a = slaac_ready();
        a.prefix_info(ms(0), &pio(600, 10));
        a.next_due(ms(0));
        a.next_due(ms(10_000));
        assert_eq!(slaac_address(&a).unwrap().state, AddressState::Deprecated);
        a.prefix_info(ms(10_000), &pio(600, 100));
        assert_eq!(slaac_address(&a).unwrap().state, AddressState::Preferred);
    }

    #[test]
    fn default_router_list() {
        let mut a = slaac_ready();
        let ra = |source, lifetime| RouterAdvertInfo {
            source,
            router_lifetime_secs: lifetime,
            reachable_time_ms: 0,
            retrans_timer_ms: 0,
            hop_limit: 0,
            mtu: None,
        };
        let other = addr([0xfe80, 0, 0, 0, 0, 0, 0, 2]);
        a.router_advert(ms(0), &ra(ROUTER, 1800));
        a.router_advert(ms(0), &ra(other, 600));
        assert_eq!(a.default_router(ms(0)), Some(ROUTER));
        assert_eq!(a.take_event(), Some(Ipv6Event::RouterAdded(ROUTER)));
        assert_eq!(a.take_event(), Some(Ipv6Event::RouterAdded(other)));
        // Lifetime 0 removes a router.
        a.router_advert(ms(1), &ra(ROUTER, 0));
        assert_eq!(a.default_router(ms(1)), Some(other));
        assert_eq!(a.take_event(), Some(Ipv6Event::RouterRemoved(ROUTER)));
        // Expiry removes it too.
        assert_eq!(a.poll_at(), Some(ms(600_000)));
        a.next_due(ms(600_000));
        assert_eq!(a.default_router(ms(600_000)), None);
        assert_eq!(a.take_event(), Some(Ipv6Event::RouterRemoved(other)));
        // Refreshing keeps one entry; a router that stops being one goes.
        a.router_advert(ms(0), &ra(ROUTER, 100));
        a.router_advert(ms(0), &ra(ROUTER, 200));
        assert_eq!(a.routers().count(), 1);
        assert_eq!(a.routers().next().unwrap().until, ms(200_000));
        a.router_gone(ROUTER);
        assert_eq!(a.routers().count(), 0);
    }

    #[test]
    fn router_parameters() {
        let mut a = slaac_ready();
        let ra = RouterAdvertInfo {
            source: ROUTER,
            router_lifetime_secs: 0,
            reachable_time_ms: 10_000,
            retrans_timer_ms: 500,
            hop_limit: 32,
            mtu: Some(1400),
        };
        let (reachable, retrans) = a.router_advert(ms(0), &ra);
        assert!(reachable >= Duration::from_secs(5) && reachable < Duration::from_secs(15), "{reachable:?}");
        assert_eq!(retrans, Duration::from_millis(500));
        assert_eq!((a.hop_limit(), a.advertised_mtu()), (32, Some(1400)));
        a.router_advert(ms(0), &RouterAdvertInfo { mtu: Some(1000), hop_limit: 0, ..ra });
        assert_eq!((a.hop_limit(), a.advertised_mtu()), (32, Some(1400)), "too small an MTU is ignored");
        // DAD probes now use the advertised RetransTimer.
        let mut b = Autoconf::new(no_delay_config(), MAC, ms(0));
        b.router_advert(ms(0), &ra);
        let ll = link_local_of(MAC);
        let t = b.poll_at().unwrap();
        assert_eq!(b.next_due(t), Some(Due::DadProbe(ll)));
        assert_eq!(b.next_due(t + Duration::from_millis(499)), None);
        assert!(!b.is_assigned(ll));
        assert_eq!(b.next_due(t + Duration::from_millis(500)), None);
        assert!(b.is_assigned(ll));
    }

    #[test]
    fn static_addresses_do_dad_and_make_their_prefix_on_link() {
        let mut a = Autoconf::new(no_delay_config(), MAC, ms(0));
        let mine = with_id(PREFIX, [0, 0, 0, 0, 0, 0, 0, 1]);
        a.add_static(ms(0), mine, 64).unwrap();
        assert!(a.is_tentative(mine));
        assert!(a.is_on_link(with_id(PREFIX, [0, 0, 0, 0, 0, 0, 0, 2]), ms(0)));
        let due = run(&mut a, 0, 3000);
        assert!(due.contains(&(due[0].0, due[0].1)));
        assert_eq!(due.iter().filter(|(_, d)| *d == Due::DadProbe(mine)).count(), 1);
        assert!(a.is_assigned(mine));
        assert_eq!(a.add_static(ms(0), Ipv6Address::LINK_LOCAL_ALL_NODES, 64), Err(Ipv6AddressError::Invalid));
        assert_eq!(a.add_static(ms(0), Ipv6Address::UNSPECIFIED, 64), Err(Ipv6AddressError::Invalid));
        assert_eq!(a.add_static(ms(0), mine, 129), Err(Ipv6AddressError::Invalid));
        for i in 2..=5 {
            a.add_static(ms(0), with_id(PREFIX, [0, 0, 0, 0, 0, 0, 0, i]), 64).unwrap();
        }
        assert_eq!(a.add_static(ms(0), with_id(PREFIX, [0, 0, 0, 0, 0, 0, 0, 9]), 64), Err(Ipv6AddressError::Full));
        assert!(a.remove(mine));
        assert!(!a.remove(mine));
    }

    #[test]
    fn stable_identifiers_retry_after_a_duplicate() {
        let secret = [0x42; 16];
        let config = Ipv6Config { interface_id: InterfaceId::Stable { secret }, ..no_delay_config() };
        let mut a = Autoconf::new(config, MAC, ms(0));
        run(&mut a, 0, 2000);
        a.prefix_info(ms(2000), &pio(600, 300));
        let first = slaac_address(&a).unwrap().address;
        assert_eq!(first, with_id(PREFIX, stable_id(&secret, PREFIX, MAC, 0)));
        assert_ne!(&first.0[8..], &MAC.eui64_interface_id());
        assert!(a.duplicate_detected(ms(2100), first));
        let retry =
            a.addresses().find(|i| i.origin == AddressOrigin::Slaac && i.state == AddressState::Tentative).unwrap();
        assert_eq!(retry.address, with_id(PREFIX, stable_id(&secret, PREFIX, MAC, 1)));
        run(&mut a, 2100, 5000);
        assert!(a.is_assigned(retry.address));
        assert!(!a.is_assigned(first));
        // The next advertisement refreshes the address in use.
        assert!(!a.prefix_info(ms(5000), &pio(900, 300)), "no third address");
        let refreshed = a.addresses().find(|i| i.address == retry.address).unwrap();
        assert_eq!(refreshed.valid_until, Some(ms(905_000)));
        assert_eq!(a.addresses().filter(|i| i.origin == AddressOrigin::Slaac).count(), 2);
    }

    #[test]
    fn only_a_hardware_derived_link_local_duplicate_disables() {
        // A stable link-local address is retried with the next identifier.
        let secret = [0x42; 16];
        let config = Ipv6Config { interface_id: InterfaceId::Stable { secret }, ..no_delay_config() };
        let mut a = Autoconf::new(config, MAC, ms(0));
        let first = a.addresses().next().unwrap().address;
        assert!(a.duplicate_detected(ms(100), first));
        assert!(!a.is_disabled());
        assert_eq!(a.take_event(), Some(Ipv6Event::AddressDuplicate(first)));
        assert_eq!(a.take_event(), None);
        let retry = a.addresses().find(|i| i.state == AddressState::Tentative).unwrap();
        assert_eq!(retry.address, with_id(first, stable_id(&secret, first, MAC, 1)));
        // With EUI-64, another address's duplicate only loses that one.
        let mut b = Autoconf::new(no_delay_config(), MAC, ms(0));
        run(&mut b, 0, 2000);
        assert!(b.is_assigned(link_local_of(MAC)));
        let fixed = with_id(PREFIX, [0, 0, 0, 0, 0, 0, 0, 9]);
        b.add_static(ms(3000), fixed, 64).unwrap();
        assert!(b.duplicate_detected(ms(3000), fixed));
        assert!(!b.is_disabled() && b.is_assigned(link_local_of(MAC)));
        // Once disabled, nothing new is added.
        let mut c = Autoconf::new(no_delay_config(), MAC, ms(0));
        assert!(c.duplicate_detected(ms(100), link_local_of(MAC)));
        assert!(c.is_disabled());
        assert_eq!(c.add_static(ms(200), fixed, 64), Err(Ipv6AddressError::Disabled));
        assert!(!c.prefix_info(ms(200), &pio(600, 300)));
        assert_eq!(c.addresses().count(), 1);
        assert_eq!(c.poll_at(), None);
    }

    #[test]
    fn events_queue_is_bounded() {
        let mut a = slaac_ready();
        for i in 0..20u16 {
            let mut p = PREFIX;
            p.0[6] = i as u8;
            a.router_advert(
                ms(0),
                &RouterAdvertInfo {
                    source: p,
                    router_lifetime_secs: 1,
                    reachable_time_ms: 0,
                    retrans_timer_ms: 0,
                    hop_limit: 0,
                    mtu: None,
                },
            );
            a.router_gone(p);
        }
        assert_eq!(a.events_lost(), 40 - EVENT_QUEUE as u64);
        assert_eq!(core::iter::from_fn(|| a.take_event()).count(), EVENT_QUEUE);
    }
}
