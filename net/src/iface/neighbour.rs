//! The neighbour cache: IPv4 to Ethernet address mappings learnt by ARP,
//! in caller storage.
//!
//! An entry is `Reachable` (until it expires), `Incomplete` (being
//! resolved: requests go out at most once per [`REQUEST_INTERVAL`], up to a
//! number of tries) or `Failed` (the tries ran out; a new packet for the
//! address starts over). When the cache is full the least recently used
//! entry is evicted, preferring free, expired and failed entries, and
//! entries being resolved last.

use crate::time::{Duration, Instant};
use crate::wire::{EthernetAddress, Ipv4Address};

/// How long a learnt mapping is trusted.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);
/// Minimum time between two requests for one address.
pub const REQUEST_INTERVAL: Duration = Duration::from_secs(1);
/// Requests sent for an address before giving up.
pub const DEFAULT_MAX_TRIES: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Free,
    Reachable { mac: EthernetAddress, expires_at: Instant },
    Incomplete { tries: u8, next_request_at: Instant },
    Failed,
}

/// One cache entry of caller storage (`[NeighbourSlot::EMPTY; N]`).
#[derive(Debug, Clone, Copy)]
pub struct NeighbourSlot {
    ip: Ipv4Address,
    state: State,
    last_used: Instant,
}

impl NeighbourSlot {
    /// A free slot.
    pub const EMPTY: NeighbourSlot =
        NeighbourSlot { ip: Ipv4Address::UNSPECIFIED, state: State::Free, last_used: Instant::ZERO };
}

impl Default for NeighbourSlot {
    fn default() -> NeighbourSlot {
        NeighbourSlot::EMPTY
    }
}

/// What the cache knows about an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Found(EthernetAddress),
    /// Being resolved.
    Pending,
    /// Resolution gave up.
    Failed,
    /// Not in the cache (or expired).
    Unknown,
}

/// A request to send now for an address being resolved, or news that
/// resolution gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Request(Ipv4Address),
    GaveUp(Ipv4Address),
}

/// The neighbour cache.
#[derive(Debug)]
pub struct NeighbourCache<'a> {
    slots: &'a mut [NeighbourSlot],
    lifetime: Duration,
    max_tries: u8,
    /// A resolution may be in progress: set by [`start`](Self::start),
    /// cleared by a pass of [`next_due`](Self::next_due) that finds none,
    /// so the per-poll pass is skipped while nothing is being resolved.
    maybe_resolving: bool,
}

impl<'a> NeighbourCache<'a> {
    /// An empty cache over `slots`; entries live `lifetime`, resolution gives
    /// up after `max_tries` requests.
    pub fn new(slots: &'a mut [NeighbourSlot], lifetime: Duration, max_tries: u8) -> NeighbourCache<'a> {
        slots.fill(NeighbourSlot::EMPTY);
        // Slots lent again by a previous cache may hold resolutions.
        NeighbourCache { slots, lifetime, max_tries: max_tries.max(1), maybe_resolving: true }
    }

    fn find(&mut self, ip: Ipv4Address) -> Option<&mut NeighbourSlot> {
        self.slots.iter_mut().find(|s| s.state != State::Free && s.ip == ip)
    }

    /// Looks `ip` up (a hit counts as a use for LRU).
    pub fn lookup(&mut self, ip: Ipv4Address, now: Instant) -> Lookup {
        let Some(slot) = self.find(ip) else { return Lookup::Unknown };
        match slot.state {
            State::Reachable { mac, expires_at } if now < expires_at => {
                slot.last_used = now;
                Lookup::Found(mac)
            }
            State::Reachable { .. } | State::Free => Lookup::Unknown,
            State::Incomplete { .. } => Lookup::Pending,
            State::Failed => Lookup::Failed,
        }
    }

    /// Picks a slot for a new entry; `true` in the second field when a
    /// live entry was evicted.
    fn victim(&mut self, now: Instant) -> Option<(usize, bool)> {
        let class = |s: &NeighbourSlot| match s.state {
            State::Free => 0,
            State::Reachable { expires_at, .. } if now >= expires_at => 1,
            State::Failed => 1,
            State::Reachable { .. } => 2,
            State::Incomplete { .. } => 3,
        };
        let (index, slot) = self.slots.iter().enumerate().min_by_key(|(_, s)| (class(s), s.last_used))?;
        Some((index, class(slot) >= 2))
    }

    /// Records `ip` at `mac` (learnt from ARP), inserting it if absent.
    /// Returns whether a live entry was evicted to make room.
    pub fn fill(&mut self, ip: Ipv4Address, mac: EthernetAddress, now: Instant) -> bool {
        let state = State::Reachable { mac, expires_at: now + self.lifetime };
        if let Some(slot) = self.find(ip) {
            slot.state = state;
            slot.last_used = now;
            return false;
        }
        let Some((index, evicted)) = self.victim(now) else { return false };
        self.slots[index] = NeighbourSlot { ip, state, last_used: now };
        evicted
    }

    /// Refreshes `ip` only if it is already cached (RFC 826 merge: any ARP
    /// packet updates a known sender). Returns whether it was cached.
    pub fn update_existing(&mut self, ip: Ipv4Address, mac: EthernetAddress, now: Instant) -> bool {
        let lifetime = self.lifetime;
        match self.find(ip) {
            Some(slot) => {
                slot.state = State::Reachable { mac, expires_at: now + lifetime };
                true
            }
            None => false,
        }
    }

    /// Starts resolving `ip` (first request due now) unless it already is.
    /// Returns `None` when the cache has no slot at all, else whether a
    /// live entry was evicted.
    pub fn start(&mut self, ip: Ipv4Address, now: Instant) -> Option<bool> {
        let state = State::Incomplete { tries: 0, next_request_at: now };
        self.maybe_resolving = true;
        if let Some(slot) = self.find(ip) {
            if !matches!(slot.state, State::Incomplete { .. }) {
                slot.state = state;
            }
            slot.last_used = now;
            return Some(false);
        }
        let (index, evicted) = self.victim(now)?;
        self.slots[index] = NeighbourSlot { ip, state, last_used: now };
        Some(evicted)
    }

    /// Whether an address may be being resolved: `false` means
    /// [`next_due`](Self::next_due) has nothing.
    #[inline]
    pub fn maybe_resolving(&self) -> bool {
        self.maybe_resolving
    }

    /// The next request due at `now` (marking it sent), or the next
    /// address whose tries ran out (marking it failed). Call until `None`.
    pub fn next_due(&mut self, now: Instant) -> Option<Due> {
        if !self.maybe_resolving {
            return None;
        }
        let max_tries = self.max_tries;
        let mut resolving = false;
        for slot in self.slots.iter_mut() {
            let State::Incomplete { tries, next_request_at } = slot.state else { continue };
            resolving = true;
            if now < next_request_at {
                continue;
            }
            if tries >= max_tries {
                slot.state = State::Failed;
                return Some(Due::GaveUp(slot.ip));
            }
            slot.state = State::Incomplete { tries: tries + 1, next_request_at: now + REQUEST_INTERVAL };
            return Some(Due::Request(slot.ip));
        }
        self.maybe_resolving = resolving;
        None
    }

    /// Puts back a request taken with [`next_due`](Self::next_due) that
    /// could not be sent, so it is retried at the next poll.
    pub fn unsend(&mut self, ip: Ipv4Address) {
        if let Some(slot) = self.find(ip) {
            if let State::Incomplete { tries, next_request_at } = slot.state {
                slot.state = State::Incomplete {
                    tries: tries.saturating_sub(1),
                    next_request_at: next_request_at - REQUEST_INTERVAL,
                };
            }
        }
    }

    /// When a request or a give-up is next due.
    pub fn poll_at(&self) -> Option<Instant> {
        self.slots
            .iter()
            .filter_map(|s| match s.state {
                State::Incomplete { next_request_at, .. } => Some(next_request_at),
                State::Free | State::Reachable { .. } | State::Failed => None,
            })
            .min()
    }

    /// Whether `ip` has an entry being resolved.
    pub fn is_pending(&self, ip: Ipv4Address) -> bool {
        self.slots.iter().any(|s| s.ip == ip && matches!(s.state, State::Incomplete { .. }))
    }

    /// Reachable, unexpired entries: (address, MAC, expiry).
    pub fn entries(&self, now: Instant) -> impl Iterator<Item = (Ipv4Address, EthernetAddress, Instant)> + '_ {
        self.slots.iter().filter_map(move |s| match s.state {
            State::Reachable { mac, expires_at } if now < expires_at => Some((s.ip, mac, expires_at)),
            _ => None,
        })
    }

    /// Forgets every entry.
    pub fn flush(&mut self) {
        self.slots.fill(NeighbourSlot::EMPTY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ipv4Address = Ipv4Address::new(10, 0, 0, 1);
    const B: Ipv4Address = Ipv4Address::new(10, 0, 0, 2);
    const C: Ipv4Address = Ipv4Address::new(10, 0, 0, 3);
    const MAC_A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
    const MAC_B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);

    fn secs(s: i64) -> Instant {
        Instant::from_secs(s)
    }

    #[test]
    fn fill_lookup_and_expiry() {
        let mut slots = [NeighbourSlot::EMPTY; 2];
        let mut c = NeighbourCache::new(&mut slots, DEFAULT_LIFETIME, 3);
        assert_eq!(c.lookup(A, secs(0)), Lookup::Unknown);
        c.fill(A, MAC_A, secs(0));
        assert_eq!(c.lookup(A, secs(59)), Lookup::Found(MAC_A));
        assert_eq!(c.lookup(A, secs(60)), Lookup::Unknown, "expired after 60 s");
        assert_eq!(c.entries(secs(1)).count(), 1);
        assert!(c.update_existing(A, MAC_B, secs(60)));
        assert_eq!(c.lookup(A, secs(61)), Lookup::Found(MAC_B));
        assert!(!c.update_existing(B, MAC_B, secs(61)), "unknown senders are not added");
        assert_eq!(c.lookup(B, secs(61)), Lookup::Unknown);
    }

    #[test]
    fn lru_eviction() {
        let mut slots = [NeighbourSlot::EMPTY; 2];
        let mut c = NeighbourCache::new(&mut slots, DEFAULT_LIFETIME, 3);
        assert!(!c.fill(A, MAC_A, secs(0)));
        assert!(!c.fill(B, MAC_B, secs(1)));
        c.lookup(A, secs(2)); // A is now the most recently used
        assert!(c.fill(C, MAC_B, secs(3)), "a live entry had to go");
        assert_eq!(c.lookup(B, secs(3)), Lookup::Unknown, "B was least recently used");
        assert_eq!(c.lookup(A, secs(3)), Lookup::Found(MAC_A));
        assert_eq!(c.lookup(C, secs(3)), Lookup::Found(MAC_B));
        // Expired entries go before live ones, whatever their age.
        c.lookup(A, secs(70));
        assert!(!c.fill(B, MAC_B, secs(70)));
    }

    #[test]
    fn requests_are_rate_limited_then_give_up() {
        let mut slots = [NeighbourSlot::EMPTY; 2];
        let mut c = NeighbourCache::new(&mut slots, DEFAULT_LIFETIME, 2);
        assert_eq!(c.start(A, secs(0)), Some(false));
        assert_eq!(c.lookup(A, secs(0)), Lookup::Pending);
        assert_eq!(c.poll_at(), Some(secs(0)));
        assert_eq!(c.next_due(secs(0)), Some(Due::Request(A)));
        assert_eq!(c.next_due(secs(0)), None, "one request per second");
        c.start(A, Instant::from_millis(500));
        assert_eq!(c.next_due(Instant::from_millis(500)), None, "starting again does not reset");
        assert_eq!(c.poll_at(), Some(secs(1)));
        assert_eq!(c.next_due(secs(1)), Some(Due::Request(A)));
        assert_eq!(c.next_due(secs(2)), Some(Due::GaveUp(A)));
        assert_eq!(c.lookup(A, secs(2)), Lookup::Failed);
        assert_eq!(c.poll_at(), None);
        // A reply after giving up still fills the entry.
        c.fill(A, MAC_A, secs(3));
        assert_eq!(c.lookup(A, secs(3)), Lookup::Found(MAC_A));
    }

    #[test]
    fn unsend_retries_at_next_poll() {
        let mut slots = [NeighbourSlot::EMPTY; 1];
        let mut c = NeighbourCache::new(&mut slots, DEFAULT_LIFETIME, 1);
        c.start(A, secs(5));
        assert_eq!(c.next_due(secs(5)), Some(Due::Request(A)));
        c.unsend(A);
        assert_eq!(c.next_due(secs(5)), Some(Due::Request(A)));
        assert!(c.is_pending(A));
        let mut none: [NeighbourSlot; 0] = [];
        let mut c = NeighbourCache::new(&mut none, DEFAULT_LIFETIME, 1);
        assert_eq!(c.start(A, secs(0)), None);
        assert!(!c.fill(A, MAC_A, secs(0)));
    }
}
