//! The IPv6 neighbour cache: Neighbor Unreachability Detection (RFC 4861
//! section 7.3) over caller storage.
//!
//! Each entry moves through the RFC's reachability states:
//!
//! ```text
//!            start                   solicited NA (with TLLA)
//!   (none) ────────► INCOMPLETE ─────────────────────────────► REACHABLE
//!                     │ unsolicited NA / NS, RA with LLA                │
//!                     └──────────────────────► STALE ◄─── ReachableTime ┘
//!                              first use ──────┘  │ ▲ new LLA in an NA
//!                                                 ▼ │ without override
//!                                               DELAY ── 5 s ──► PROBE ── 3 unicast NS ──► (deleted)
//!                         solicited NA ◄────────────┴───────────────┘ → REACHABLE
//! ```
//!
//! INCOMPLETE sends a multicast solicitation every `RetransTimer` up to
//! [`MAX_MULTICAST_SOLICIT`] times, then fails (packets waiting for it are
//! dropped, like after ARP gives up). PROBE sends unicast solicitations to
//! the cached address up to [`MAX_UNICAST_SOLICIT`] times and then deletes
//! the entry. The interface sends what [`NdpCache::next_due`] asks for.

use crate::time::{Duration, Instant};
use crate::wire::{EthernetAddress, Ipv6Address};

use super::neighbour::Lookup;

/// Multicast solicitations for an address being resolved (RFC 4861 10).
pub const MAX_MULTICAST_SOLICIT: u8 = 3;
/// Unicast probes of a neighbour that may be gone (RFC 4861 10).
pub const MAX_UNICAST_SOLICIT: u8 = 3;
/// How long a confirmed neighbour stays REACHABLE (RFC 4861 10; a router
/// advertisement may change it).
pub const REACHABLE_TIME: Duration = Duration::from_secs(30);
/// Time between solicitations (RFC 4861 10; a router advertisement may
/// change it).
pub const RETRANS_TIMER: Duration = Duration::from_secs(1);
/// How long a STALE entry that was used waits for an upper-layer
/// confirmation before probing (RFC 4861 10).
pub const DELAY_FIRST_PROBE_TIME: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Free,
    Incomplete {
        tries: u8,
        next_at: Instant,
    },
    Reachable {
        mac: EthernetAddress,
        until: Instant,
    },
    Stale {
        mac: EthernetAddress,
    },
    Delay {
        mac: EthernetAddress,
        until: Instant,
    },
    Probe {
        mac: EthernetAddress,
        tries: u8,
        next_at: Instant,
    },
    /// Resolution gave up; kept so queued packets learn it and dropped.
    Failed,
}

/// The reachability state of an entry, as shown to an embedder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeighbourState {
    Incomplete,
    Reachable,
    Stale,
    Delay,
    Probe,
    Failed,
}

impl NeighbourState {
    /// The RFC's name in upper case (`"REACHABLE"`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            NeighbourState::Incomplete => "INCOMPLETE",
            NeighbourState::Reachable => "REACHABLE",
            NeighbourState::Stale => "STALE",
            NeighbourState::Delay => "DELAY",
            NeighbourState::Probe => "PROBE",
            NeighbourState::Failed => "FAILED",
        }
    }
}

/// One entry of caller storage (`[NdpSlot::EMPTY; N]`).
#[derive(Debug, Clone, Copy)]
pub struct NdpSlot {
    ip: Ipv6Address,
    state: State,
    is_router: bool,
    last_used: Instant,
}

impl NdpSlot {
    /// A free slot.
    pub const EMPTY: NdpSlot =
        NdpSlot { ip: Ipv6Address::UNSPECIFIED, state: State::Free, is_router: false, last_used: Instant::ZERO };
}

impl Default for NdpSlot {
    fn default() -> NdpSlot {
        NdpSlot::EMPTY
    }
}

/// A neighbour as listed by [`NdpCache::entries`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NdpEntry {
    pub ip: Ipv6Address,
    /// `None` while INCOMPLETE or FAILED.
    pub mac: Option<EthernetAddress>,
    pub state: NeighbourState,
    pub is_router: bool,
}

/// A solicitation to send now, or news that resolution gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Solicit {
    /// To the solicited-node multicast group of the address.
    Multicast(Ipv6Address),
    /// A reachability probe, straight to the cached link address.
    Unicast(Ipv6Address, EthernetAddress),
    /// Every multicast solicitation went unanswered.
    GaveUp(Ipv6Address),
}

/// What a received neighbour advertisement said (RFC 4861 4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advertisement {
    pub target: Ipv6Address,
    /// The target link-layer address option, if present.
    pub mac: Option<EthernetAddress>,
    pub router: bool,
    pub solicited: bool,
    pub override_: bool,
}

/// What an advertisement did to the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvertOutcome {
    /// No entry for the target: ignored (RFC 4861 7.2.5).
    Ignored,
    Updated,
    /// The neighbour said it is no longer a router: take it off the
    /// default router list (RFC 4861 7.2.5).
    NoLongerRouter,
}

/// The cache.
#[derive(Debug)]
pub struct NdpCache<'a> {
    slots: &'a mut [NdpSlot],
    reachable_time: Duration,
    retrans_timer: Duration,
}

impl<'a> NdpCache<'a> {
    /// An empty cache over `slots`.
    pub fn new(slots: &'a mut [NdpSlot]) -> NdpCache<'a> {
        slots.fill(NdpSlot::EMPTY);
        NdpCache { slots, reachable_time: REACHABLE_TIME, retrans_timer: RETRANS_TIMER }
    }

    /// Sets ReachableTime (already randomized by the caller) and
    /// RetransTimer, e.g. from a router advertisement; zero keeps a value.
    pub fn set_timers(&mut self, reachable_time: Duration, retrans_timer: Duration) {
        if reachable_time != Duration::ZERO {
            self.reachable_time = reachable_time;
        }
        if retrans_timer != Duration::ZERO {
            self.retrans_timer = retrans_timer;
        }
    }

    /// The current ReachableTime and RetransTimer.
    pub fn timers(&self) -> (Duration, Duration) {
        (self.reachable_time, self.retrans_timer)
    }

    fn find(&mut self, ip: Ipv6Address) -> Option<&mut NdpSlot> {
        self.slots.iter_mut().find(|s| s.state != State::Free && s.ip == ip)
    }

    /// A slot for a new entry (free, failed, least recently used STALE,
    /// then any but INCOMPLETE) and whether a live entry was evicted.
    fn victim(&mut self, now: Instant) -> Option<(usize, bool)> {
        let class = |s: &NdpSlot| match s.state {
            State::Free => 0,
            State::Failed => 1,
            State::Reachable { until, .. } if now >= until => 1,
            State::Stale { .. } => 2,
            State::Reachable { .. } | State::Delay { .. } | State::Probe { .. } => 3,
            State::Incomplete { .. } => 4,
        };
        let (index, slot) = self.slots.iter().enumerate().min_by_key(|(_, s)| (class(s), s.last_used))?;
        Some((index, class(slot) >= 2))
    }

    fn insert(&mut self, ip: Ipv6Address, state: State, now: Instant) -> Option<bool> {
        let (index, evicted) = self.victim(now)?;
        self.slots[index] = NdpSlot { ip, state, is_router: false, last_used: now };
        Some(evicted)
    }

    /// The link address to send to `ip` (RFC 4861 7.3.3: using a STALE
    /// entry starts the DELAY timer). A hit counts as a use for eviction.
    pub fn lookup(&mut self, ip: Ipv6Address, now: Instant) -> Lookup {
        let Some(slot) = self.find(ip) else { return Lookup::Unknown };
        slot.last_used = now;
        match slot.state {
            State::Reachable { mac, until } if now < until => Lookup::Found(mac),
            State::Reachable { mac, .. } | State::Stale { mac } => {
                slot.state = State::Delay { mac, until: now + DELAY_FIRST_PROBE_TIME };
                Lookup::Found(mac)
            }
            State::Delay { mac, .. } | State::Probe { mac, .. } => Lookup::Found(mac),
            State::Incomplete { .. } => Lookup::Pending,
            State::Failed => Lookup::Failed,
            State::Free => Lookup::Unknown,
        }
    }

    /// Starts resolving `ip` (first solicitation due now) unless an entry
    /// exists. `None` when the cache has no slot at all, else whether a
    /// live entry was evicted.
    pub fn start(&mut self, ip: Ipv6Address, now: Instant) -> Option<bool> {
        let state = State::Incomplete { tries: 0, next_at: now };
        if let Some(slot) = self.find(ip) {
            if slot.state == State::Failed {
                slot.state = state;
            }
            slot.last_used = now;
            return Some(false);
        }
        self.insert(ip, state, now)
    }

    /// A packet named `ip` at link address `mac` without confirming it is
    /// reachable: the source link-layer option of a solicitation, router
    /// solicitation or advertisement, or a redirect (RFC 4861 7.2.3, 6.3.4).
    /// Creates a STALE entry, or makes an entry with another address STALE.
    /// Returns whether a live entry was evicted.
    pub fn learn(&mut self, ip: Ipv6Address, mac: EthernetAddress, now: Instant) -> bool {
        if let Some(slot) = self.find(ip) {
            match slot.state {
                State::Incomplete { .. } | State::Failed => slot.state = State::Stale { mac },
                State::Reachable { mac: old, .. }
                | State::Stale { mac: old }
                | State::Delay { mac: old, .. }
                | State::Probe { mac: old, .. } => {
                    if old != mac {
                        slot.state = State::Stale { mac };
                    }
                }
                State::Free => {}
            }
            return false;
        }
        self.insert(ip, State::Stale { mac }, now).unwrap_or(false)
    }

    /// Marks the same router flag a router advertisement implies.
    pub fn set_router(&mut self, ip: Ipv6Address) {
        if let Some(slot) = self.find(ip) {
            slot.is_router = true;
        }
    }

    /// Applies a neighbour advertisement (RFC 4861 7.2.5).
    pub fn advertisement(&mut self, na: &Advertisement, now: Instant) -> AdvertOutcome {
        let reachable_time = self.reachable_time;
        let Some(slot) = self.find(na.target) else { return AdvertOutcome::Ignored };
        let reachable = |mac| State::Reachable { mac, until: now + reachable_time };
        match slot.state {
            State::Incomplete { .. } | State::Failed => {
                let Some(mac) = na.mac else { return AdvertOutcome::Ignored };
                slot.state = if na.solicited { reachable(mac) } else { State::Stale { mac } };
            }
            State::Reachable { mac: old, .. }
            | State::Stale { mac: old }
            | State::Delay { mac: old, .. }
            | State::Probe { mac: old, .. } => {
                let differs = na.mac.is_some_and(|m| m != old);
                if !na.override_ && differs {
                    // Keep the address we have, but doubt it.
                    if let State::Reachable { .. } = slot.state {
                        slot.state = State::Stale { mac: old };
                    }
                    return AdvertOutcome::Updated;
                }
                let mac = na.mac.unwrap_or(old);
                if na.solicited {
                    slot.state = reachable(mac);
                } else if differs {
                    slot.state = State::Stale { mac };
                }
            }
            State::Free => return AdvertOutcome::Ignored,
        }
        let was_router = core::mem::replace(&mut slot.is_router, na.router);
        if was_router && !na.router {
            AdvertOutcome::NoLongerRouter
        } else {
            AdvertOutcome::Updated
        }
    }

    /// An upper layer saw forward progress with `ip` (RFC 4861 7.3.1, e.g.
    /// new data acknowledged by TCP): the entry is REACHABLE again.
    pub fn confirm(&mut self, ip: Ipv6Address, now: Instant) {
        let until = now + self.reachable_time;
        if let Some(slot) = self.find(ip) {
            match slot.state {
                State::Reachable { mac, .. }
                | State::Stale { mac }
                | State::Delay { mac, .. }
                | State::Probe { mac, .. } => slot.state = State::Reachable { mac, until },
                State::Incomplete { .. } | State::Failed | State::Free => {}
            }
        }
    }

    /// The next solicitation due at `now` (marking it sent), or the next
    /// resolution that gave up. Moves DELAY entries whose time is up to
    /// PROBE and deletes PROBE entries whose probes went unanswered. Call
    /// until `None`.
    pub fn next_due(&mut self, now: Instant) -> Option<Solicit> {
        let retrans = self.retrans_timer;
        for slot in self.slots.iter_mut() {
            match slot.state {
                State::Incomplete { tries, next_at } if now >= next_at => {
                    if tries >= MAX_MULTICAST_SOLICIT {
                        slot.state = State::Failed;
                        return Some(Solicit::GaveUp(slot.ip));
                    }
                    slot.state = State::Incomplete { tries: tries + 1, next_at: now + retrans };
                    return Some(Solicit::Multicast(slot.ip));
                }
                State::Delay { mac, until } if now >= until => {
                    slot.state = State::Probe { mac, tries: 1, next_at: now + retrans };
                    return Some(Solicit::Unicast(slot.ip, mac));
                }
                State::Probe { mac, tries, next_at } if now >= next_at => {
                    if tries >= MAX_UNICAST_SOLICIT {
                        *slot = NdpSlot::EMPTY;
                        continue;
                    }
                    slot.state = State::Probe { mac, tries: tries + 1, next_at: now + retrans };
                    return Some(Solicit::Unicast(slot.ip, mac));
                }
                State::Incomplete { .. }
                | State::Delay { .. }
                | State::Probe { .. }
                | State::Free
                | State::Reachable { .. }
                | State::Stale { .. }
                | State::Failed => {}
            }
        }
        None
    }

    /// Puts back a solicitation taken with [`next_due`](Self::next_due)
    /// that could not be sent, so it goes out at the next poll.
    pub fn unsend(&mut self, ip: Ipv6Address) {
        let retrans = self.retrans_timer;
        if let Some(slot) = self.find(ip) {
            slot.state = match slot.state {
                State::Incomplete { tries, next_at } => {
                    State::Incomplete { tries: tries.saturating_sub(1), next_at: next_at - retrans }
                }
                State::Probe { mac, tries, next_at } => {
                    State::Probe { mac, tries: tries.saturating_sub(1), next_at: next_at - retrans }
                }
                other => other,
            };
        }
    }

    /// When a solicitation or state change is next due.
    pub fn poll_at(&self) -> Option<Instant> {
        self.slots
            .iter()
            .filter_map(|s| match s.state {
                State::Incomplete { next_at, .. } | State::Probe { next_at, .. } => Some(next_at),
                State::Delay { until, .. } => Some(until),
                State::Free | State::Reachable { .. } | State::Stale { .. } | State::Failed => None,
            })
            .min()
    }

    /// Whether `ip` is being resolved.
    pub fn is_pending(&self, ip: Ipv6Address) -> bool {
        self.slots.iter().any(|s| s.ip == ip && matches!(s.state, State::Incomplete { .. }))
    }

    /// Removes the entry of `ip`; whether there was one.
    pub fn remove(&mut self, ip: Ipv6Address) -> bool {
        match self.find(ip) {
            Some(slot) => {
                *slot = NdpSlot::EMPTY;
                true
            }
            None => false,
        }
    }

    /// Every entry, with its state as of `now`.
    pub fn entries(&self, now: Instant) -> impl Iterator<Item = NdpEntry> + '_ {
        self.slots.iter().filter_map(move |s| {
            let (mac, state) = match s.state {
                State::Free => return None,
                State::Incomplete { .. } => (None, NeighbourState::Incomplete),
                State::Failed => (None, NeighbourState::Failed),
                State::Reachable { mac, until } if now < until => (Some(mac), NeighbourState::Reachable),
                State::Reachable { mac, .. } | State::Stale { mac } => (Some(mac), NeighbourState::Stale),
                State::Delay { mac, .. } => (Some(mac), NeighbourState::Delay),
                State::Probe { mac, .. } => (Some(mac), NeighbourState::Probe),
            };
            Some(NdpEntry { ip: s.ip, mac, state, is_router: s.is_router })
        })
    }

    /// The state of `ip`'s entry as of `now`.
    pub fn state(&self, ip: Ipv6Address, now: Instant) -> Option<NeighbourState> {
        self.entries(now).find(|e| e.ip == ip).map(|e| e.state)
    }

    /// Forgets every entry.
    pub fn flush(&mut self) {
        self.slots.fill(NdpSlot::EMPTY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ipv6Address = Ipv6Address([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xa]);
    const B: Ipv6Address = Ipv6Address([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xb]);
    const C: Ipv6Address = Ipv6Address([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xc]);
    const MAC_A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 0xa]);
    const MAC_B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 0xb]);

    fn ms(t: i64) -> Instant {
        Instant::from_millis(t)
    }

    fn na(target: Ipv6Address, mac: Option<EthernetAddress>, solicited: bool, override_: bool) -> Advertisement {
        Advertisement { target, mac, router: false, solicited, override_ }
    }

    #[test]
    fn incomplete_to_reachable_on_a_solicited_advertisement() {
        let mut slots = [NdpSlot::EMPTY; 2];
        let mut c = NdpCache::new(&mut slots);
        assert_eq!(c.lookup(A, ms(0)), Lookup::Unknown);
        assert_eq!(c.start(A, ms(0)), Some(false));
        assert_eq!(c.state(A, ms(0)), Some(NeighbourState::Incomplete));
        assert_eq!(c.lookup(A, ms(0)), Lookup::Pending);
        assert_eq!(c.poll_at(), Some(ms(0)));
        assert_eq!(c.next_due(ms(0)), Some(Solicit::Multicast(A)));
        assert_eq!(c.next_due(ms(999)), None, "one solicitation per RetransTimer");
        assert_eq!(c.poll_at(), Some(ms(1000)));
        // An advertisement without the target's link address cannot
        // complete the entry.
        assert_eq!(c.advertisement(&na(A, None, true, true), ms(500)), AdvertOutcome::Ignored);
        assert_eq!(c.advertisement(&na(A, Some(MAC_A), true, false), ms(500)), AdvertOutcome::Updated);
        assert_eq!(c.state(A, ms(500)), Some(NeighbourState::Reachable));
        assert_eq!(c.lookup(A, ms(500)), Lookup::Found(MAC_A));
        assert_eq!(c.poll_at(), None);
    }

    #[test]
    fn incomplete_to_stale_on_an_unsolicited_advertisement() {
        let mut slots = [NdpSlot::EMPTY; 2];
        let mut c = NdpCache::new(&mut slots);
        c.start(A, ms(0));
        c.advertisement(&na(A, Some(MAC_A), false, true), ms(1));
        assert_eq!(c.state(A, ms(1)), Some(NeighbourState::Stale));
        // An advertisement for an address with no entry is ignored.
        assert_eq!(c.advertisement(&na(B, Some(MAC_B), true, true), ms(1)), AdvertOutcome::Ignored);
        assert_eq!(c.state(B, ms(1)), None);
    }

    #[test]
    fn incomplete_gives_up_after_three_solicitations() {
        let mut slots = [NdpSlot::EMPTY; 1];
        let mut c = NdpCache::new(&mut slots);
        c.start(A, ms(0));
        for t in [0, 1000, 2000] {
            assert_eq!(c.next_due(ms(t)), Some(Solicit::Multicast(A)), "at {t} ms");
        }
        assert_eq!(c.next_due(ms(2999)), None);
        assert_eq!(c.next_due(ms(3000)), Some(Solicit::GaveUp(A)));
        assert_eq!(c.lookup(A, ms(3000)), Lookup::Failed);
        assert_eq!(c.state(A, ms(3000)), Some(NeighbourState::Failed));
        assert_eq!(c.poll_at(), None);
        // A new packet starts over.
        c.start(A, ms(4000));
        assert_eq!(c.next_due(ms(4000)), Some(Solicit::Multicast(A)));
    }

    #[test]
    fn unsend_puts_the_solicitation_back() {
        let mut slots = [NdpSlot::EMPTY; 1];
        let mut c = NdpCache::new(&mut slots);
        c.start(A, ms(0));
        assert_eq!(c.next_due(ms(0)), Some(Solicit::Multicast(A)));
        c.unsend(A);
        assert_eq!(c.next_due(ms(0)), Some(Solicit::Multicast(A)));
        assert!(c.is_pending(A));
    }

    #[test]
    fn reachable_times_out_to_stale_then_use_delays_then_probes() {
        let mut slots = [NdpSlot::EMPTY; 1];
        let mut c = NdpCache::new(&mut slots);
        c.start(A, ms(0));
        c.advertisement(&na(A, Some(MAC_A), true, true), ms(0));
        assert_eq!(c.state(A, ms(29_999)), Some(NeighbourState::Reachable));
        assert_eq!(c.state(A, ms(30_000)), Some(NeighbourState::Stale), "ReachableTime is 30 s");
        assert_eq!(c.poll_at(), None, "STALE needs no timer");
        // Sending on a STALE entry uses it at once and starts DELAY.
        assert_eq!(c.lookup(A, ms(40_000)), Lookup::Found(MAC_A));
        assert_eq!(c.state(A, ms(40_000)), Some(NeighbourState::Delay));
        assert_eq!(c.poll_at(), Some(ms(45_000)));
        assert_eq!(c.next_due(ms(44_999)), None);
        assert_eq!(c.next_due(ms(45_000)), Some(Solicit::Unicast(A, MAC_A)));
        assert_eq!(c.state(A, ms(45_000)), Some(NeighbourState::Probe));
        assert_eq!(c.lookup(A, ms(45_500)), Lookup::Found(MAC_A), "PROBE still sends");
        assert_eq!(c.next_due(ms(46_000)), Some(Solicit::Unicast(A, MAC_A)));
        assert_eq!(c.next_due(ms(47_000)), Some(Solicit::Unicast(A, MAC_A)));
        assert_eq!(c.next_due(ms(47_999)), None);
        assert_eq!(c.next_due(ms(48_000)), None, "three probes unanswered: deleted");
        assert_eq!(c.state(A, ms(48_000)), None);
        assert_eq!(c.lookup(A, ms(48_000)), Lookup::Unknown);
    }

    #[test]
    fn a_probe_answered_makes_the_entry_reachable() {
        let mut slots = [NdpSlot::EMPTY; 1];
        let mut c = NdpCache::new(&mut slots);
        c.learn(A, MAC_A, ms(0));
        assert_eq!(c.state(A, ms(0)), Some(NeighbourState::Stale));
        c.lookup(A, ms(0));
        assert_eq!(c.next_due(ms(5000)), Some(Solicit::Unicast(A, MAC_A)));
        // The solicited answer confirms it.
        c.advertisement(&na(A, Some(MAC_A), true, false), ms(5100));
        assert_eq!(c.state(A, ms(5100)), Some(NeighbourState::Reachable));
        assert_eq!(c.poll_at(), None);
    }

    #[test]
    fn upper_layer_confirmation_in_delay_avoids_the_probe() {
        let mut slots = [NdpSlot::EMPTY; 1];
        let mut c = NdpCache::new(&mut slots);
        c.learn(A, MAC_A, ms(0));
        c.lookup(A, ms(0));
        c.confirm(A, ms(1000));
        assert_eq!(c.state(A, ms(1000)), Some(NeighbourState::Reachable));
        assert_eq!(c.next_due(ms(5000)), None);
        c.confirm(B, ms(1000));
        assert_eq!(c.state(B, ms(1000)), None, "no entry created");
    }

    #[test]
    fn advertisement_without_override_keeps_the_cached_address() {
        let mut slots = [NdpSlot::EMPTY; 1];
        let mut c = NdpCache::new(&mut slots);
        c.start(A, ms(0));
        c.advertisement(&na(A, Some(MAC_A), true, true), ms(0));
        // Another address, no override: REACHABLE becomes STALE, address kept.
        c.advertisement(&na(A, Some(MAC_B), false, false), ms(1));
        assert_eq!(c.state(A, ms(1)), Some(NeighbourState::Stale));
        assert_eq!(c.lookup(A, ms(1)), Lookup::Found(MAC_A));
        // In DELAY now: a solicited one without override and another
        // address changes nothing.
        c.advertisement(&na(A, Some(MAC_B), true, false), ms(2));
        assert_eq!(c.state(A, ms(2)), Some(NeighbourState::Delay));
        // With override the new address is taken and, solicited, reachable.
        c.advertisement(&na(A, Some(MAC_B), true, true), ms(3));
        assert_eq!(c.state(A, ms(3)), Some(NeighbourState::Reachable));
        assert_eq!(c.lookup(A, ms(3)), Lookup::Found(MAC_B));
        // Unsolicited with override and a new address: STALE at it.
        c.advertisement(&na(A, Some(MAC_A), false, true), ms(4));
        assert_eq!(c.state(A, ms(4)), Some(NeighbourState::Stale));
        assert_eq!(c.lookup(A, ms(4)), Lookup::Found(MAC_A));
        // Unsolicited, same address: no change (DELAY stays DELAY).
        c.advertisement(&na(A, Some(MAC_A), false, true), ms(5));
        assert_eq!(c.state(A, ms(5)), Some(NeighbourState::Delay));
        // Solicited without a link address: confirms the one cached.
        c.advertisement(&na(A, None, true, false), ms(6));
        assert_eq!(c.state(A, ms(6)), Some(NeighbourState::Reachable));
        assert_eq!(c.lookup(A, ms(6)), Lookup::Found(MAC_A));
    }

    #[test]
    fn solicitations_create_or_refresh_stale_entries() {
        let mut slots = [NdpSlot::EMPTY; 2];
        let mut c = NdpCache::new(&mut slots);
        assert!(!c.learn(A, MAC_A, ms(0)));
        assert_eq!(c.state(A, ms(0)), Some(NeighbourState::Stale));
        c.advertisement(&na(A, Some(MAC_A), true, false), ms(1));
        c.learn(A, MAC_A, ms(2));
        assert_eq!(c.state(A, ms(2)), Some(NeighbourState::Reachable), "same address: unchanged");
        c.learn(A, MAC_B, ms(3));
        assert_eq!(c.state(A, ms(3)), Some(NeighbourState::Stale), "new address: STALE");
        assert_eq!(c.lookup(A, ms(3)), Lookup::Found(MAC_B));
        c.start(B, ms(4));
        c.learn(B, MAC_B, ms(5));
        assert_eq!(c.state(B, ms(5)), Some(NeighbourState::Stale), "INCOMPLETE completed as STALE");
    }

    #[test]
    fn router_flag_is_tracked() {
        let mut slots = [NdpSlot::EMPTY; 1];
        let mut c = NdpCache::new(&mut slots);
        c.learn(A, MAC_A, ms(0));
        c.set_router(A);
        assert!(c.entries(ms(0)).next().unwrap().is_router);
        let adv = Advertisement { router: true, ..na(A, Some(MAC_A), true, true) };
        assert_eq!(c.advertisement(&adv, ms(1)), AdvertOutcome::Updated);
        let adv = Advertisement { router: false, ..adv };
        assert_eq!(c.advertisement(&adv, ms(2)), AdvertOutcome::NoLongerRouter);
        assert!(!c.entries(ms(2)).next().unwrap().is_router);
    }

    #[test]
    fn eviction_prefers_stale_and_keeps_incomplete() {
        let mut slots = [NdpSlot::EMPTY; 2];
        let mut c = NdpCache::new(&mut slots);
        c.start(A, ms(0));
        c.learn(B, MAC_B, ms(1));
        // C takes B's slot: STALE goes before INCOMPLETE.
        assert!(c.learn(C, MAC_A, ms(2)));
        assert_eq!(c.state(B, ms(2)), None);
        assert_eq!(c.state(A, ms(2)), Some(NeighbourState::Incomplete));
        assert!(c.remove(C));
        assert!(!c.remove(C));
        assert_eq!(c.start(B, ms(3)), Some(false), "the freed slot");
        let mut none: [NdpSlot; 0] = [];
        let mut c = NdpCache::new(&mut none);
        assert_eq!(c.start(A, ms(0)), None);
        assert!(!c.learn(A, MAC_A, ms(0)));
    }

    #[test]
    fn timers_from_a_router() {
        let mut slots = [NdpSlot::EMPTY; 1];
        let mut c = NdpCache::new(&mut slots);
        c.set_timers(Duration::from_secs(10), Duration::ZERO);
        assert_eq!(c.timers(), (Duration::from_secs(10), RETRANS_TIMER));
        c.set_timers(Duration::ZERO, Duration::from_millis(500));
        c.start(A, ms(0));
        c.next_due(ms(0));
        assert_eq!(c.poll_at(), Some(ms(500)));
        c.advertisement(&na(A, Some(MAC_A), true, true), ms(0));
        assert_eq!(c.state(A, ms(9_999)), Some(NeighbourState::Reachable));
        assert_eq!(c.state(A, ms(10_000)), Some(NeighbourState::Stale));
        c.flush();
        assert_eq!(c.entries(ms(0)).count(), 0);
    }
}
