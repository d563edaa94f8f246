//! The MLDv2 host side (RFC 3810 6) for the groups the interface listens
//! to: the solicited-node groups of its addresses. (All-nodes is never
//! reported, RFC 3810 6.) Joining or leaving a group sends a state-change
//! report [`ROBUSTNESS`] times, the repeats at random within
//! [`UNSOLICITED_REPORT_INTERVAL`]; a query schedules a current-state
//! report per group at random within its maximum response delay, in the
//! query's version. After an MLDv1 query the listener speaks MLDv1 only
//! (RFC 3810 8.2.1) until [`OLDER_VERSION_QUERIER_TIMEOUT`] passes
//! without another: joins become MLDv1 reports, leaves MLDv1 dones.
//!
//! The group set is not stored separately from the address list: each
//! poll [`Listener::sync`]s a fixed table to it, keeping a slot for a
//! group that is leaving until its leave reports are out.

use crate::time::{Duration, Instant};
use crate::wire::mld::{Query, RecordType, Version};
use crate::wire::Ipv6Address;

use super::slaac::MAX_IPV6_ADDRESSES;

/// RFC 3810 9.1: the Robustness Variable (each state change is sent this
/// many times).
pub const ROBUSTNESS: u8 = 2;
/// RFC 3810 9.11.
pub const UNSOLICITED_REPORT_INTERVAL: Duration = Duration::from_secs(1);
/// RFC 3810 9.12, Older Version Querier Present Timeout: robustness times
/// the query interval (125 s) plus the query response interval (10 s).
pub const OLDER_VERSION_QUERIER_TIMEOUT: Duration = Duration::from_secs(2 * 125 + 10);
/// Groups tracked: one per address, and as many again leaving.
pub const MAX_GROUPS: usize = 2 * MAX_IPV6_ADDRESSES;

/// A state change still to be reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    None,
    Join { left: u8, at: Instant },
    Leave { left: u8, at: Instant },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Group {
    address: Ipv6Address,
    /// Still wanted by an address (false while the leave goes out).
    joined: bool,
    change: Change,
    /// A current-state report owed to a querier of that version.
    answer: Option<(Instant, Version)>,
}

/// A report to send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// An MLDv2 report with one record.
    V2(RecordType, Ipv6Address),
    /// An MLDv1 report, to an MLDv1 querier.
    V1(Ipv6Address),
    /// An MLDv1 done (leaving), to an MLDv1 querier.
    DoneV1(Ipv6Address),
}

/// What [`Listener::next_due`] gives: the report, and whether it reports a
/// state change (a join or leave) rather than answering a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub report: Report,
    pub change: bool,
}

/// The listener state of one interface.
#[derive(Debug)]
pub struct Listener {
    groups: [Option<Group>; MAX_GROUPS],
    /// Until when an MLDv1 querier is taken to be present.
    v1_querier_until: Option<Instant>,
}

impl Listener {
    pub const fn new() -> Listener {
        Listener { groups: [None; MAX_GROUPS], v1_querier_until: None }
    }

    /// Whether the table matches `wanted` (so no sync is needed).
    pub fn in_sync(&self, wanted: &[Ipv6Address]) -> bool {
        let joined = self.groups.iter().flatten().filter(|g| g.joined);
        joined.clone().all(|g| wanted.contains(&g.address))
            && wanted.iter().all(|w| joined.clone().any(|g| g.address == *w))
    }

    /// Follows the groups `wanted` now: new ones are joined, missing ones
    /// left.
    pub fn sync(&mut self, wanted: &[Ipv6Address], now: Instant) {
        for g in self.groups.iter_mut().flatten() {
            if g.joined && !wanted.contains(&g.address) {
                g.joined = false;
                g.answer = None;
                g.change = Change::Leave { left: ROBUSTNESS, at: now };
            }
        }
        for &w in wanted {
            if let Some(g) = self.groups.iter_mut().flatten().find(|g| g.address == w) {
                if !g.joined {
                    g.joined = true;
                    g.change = Change::Join { left: ROBUSTNESS, at: now };
                }
                continue;
            }
            // A table full of leaving groups: the oldest leave is cut short.
            let slot = self
                .groups
                .iter()
                .position(Option::is_none)
                .or_else(|| self.groups.iter().position(|g| g.is_some_and(|g| !g.joined)));
            if let Some(i) = slot {
                let change = Change::Join { left: ROBUSTNESS, at: now };
                self.groups[i] = Some(Group { address: w, joined: true, change, answer: None });
            }
        }
    }

    /// Forgets every group without reporting (IPv6 is off).
    pub fn clear(&mut self) {
        self.groups = [None; MAX_GROUPS];
    }

    /// A valid query: schedules answers for the groups it asks about at a
    /// random time within its maximum response delay (an earlier answer
    /// already scheduled stands, RFC 3810 6.2). Returns how many groups
    /// it concerned.
    pub fn query(&mut self, query: &Query, now: Instant, mut delay: impl FnMut(Duration) -> Duration) -> usize {
        if query.version == Version::V1 {
            self.v1_querier_until = Some(now + OLDER_VERSION_QUERIER_TIMEOUT);
        }
        let max = Duration::from_millis(u64::from(query.max_response_ms));
        let mut asked = 0;
        for g in self.groups.iter_mut().flatten() {
            if !g.joined || !(query.is_general() || query.group == g.address) {
                continue;
            }
            asked += 1;
            let at = now + delay(max);
            g.answer = match g.answer {
                Some((t, _)) if t <= at => Some((t, query.version)),
                Some(_) | None => Some((at, query.version)),
            };
        }
        asked
    }

    /// The next report due at `now`, marked as sent (a repeat of a state
    /// change is rescheduled with `delay`). Call until `None`.
    pub fn next_due(&mut self, now: Instant, mut delay: impl FnMut(Duration) -> Duration) -> Option<Due> {
        let v1 = self.v1_querier_until.is_some_and(|t| now < t);
        for slot in self.groups.iter_mut() {
            let Some(g) = slot else { continue };
            let (record, left, at) = match g.change {
                Change::Join { left, at } => (RecordType::ChangeToExclude, left, at),
                Change::Leave { left, at } => (RecordType::ChangeToInclude, left, at),
                Change::None => (RecordType::ModeIsExclude, 0, now),
            };
            if left > 0 && now >= at {
                let next = now + delay(UNSOLICITED_REPORT_INTERVAL);
                g.change = match (g.change, left - 1) {
                    (_, 0) => Change::None,
                    (Change::Join { .. }, left) => Change::Join { left, at: next },
                    (Change::Leave { .. }, left) => Change::Leave { left, at: next },
                    (Change::None, _) => Change::None,
                };
                let address = g.address;
                if !g.joined && g.change == Change::None {
                    *slot = None;
                }
                let report = match (v1, record) {
                    (false, _) => Report::V2(record, address),
                    (true, RecordType::ChangeToInclude) => Report::DoneV1(address),
                    (true, _) => Report::V1(address),
                };
                return Some(Due { report, change: true });
            }
            if let Some((_, version)) = g.answer.filter(|(at, _)| now >= *at) {
                g.answer = None;
                let report = match (v1, version) {
                    (true, _) | (false, Version::V1) => Report::V1(g.address),
                    (false, Version::V2) => Report::V2(RecordType::ModeIsExclude, g.address),
                };
                return Some(Due { report, change: false });
            }
        }
        None
    }

    /// Puts back a report [`next_due`](Self::next_due) gave that could
    /// not be sent, so it goes out at the next poll.
    pub fn unsend(&mut self, due: Due, now: Instant) {
        let (group, version) = match due.report {
            Report::V2(_, g) => (g, Version::V2),
            Report::V1(g) | Report::DoneV1(g) => (g, Version::V1),
        };
        let slot = self.groups.iter_mut().find(|g| g.is_some_and(|g| g.address == group));
        match (slot, due.change) {
            (Some(Some(g)), false) => {
                if g.joined {
                    g.answer = Some((now, version));
                }
            }
            (Some(Some(g)), true) => {
                let left = match g.change {
                    Change::Join { left, .. } | Change::Leave { left, .. } => left + 1,
                    Change::None => 1,
                };
                g.change = if g.joined { Change::Join { left, at: now } } else { Change::Leave { left, at: now } };
            }
            // The last leave report freed the slot: take one back.
            (Some(None) | None, true) => {
                if let Some(slot) = self.groups.iter_mut().find(|g| g.is_none()) {
                    let change = Change::Leave { left: 1, at: now };
                    *slot = Some(Group { address: group, joined: false, change, answer: None });
                }
            }
            (Some(None) | None, false) => {}
        }
    }

    /// When [`next_due`](Self::next_due) next has something.
    pub fn poll_at(&self) -> Option<Instant> {
        self.groups
            .iter()
            .flatten()
            .flat_map(|g| {
                let change = match g.change {
                    Change::Join { at, .. } | Change::Leave { at, .. } => Some(at),
                    Change::None => None,
                };
                [change, g.answer.map(|(at, _)| at)]
            })
            .flatten()
            .min()
    }

    /// The groups joined.
    pub fn groups(&self) -> impl Iterator<Item = Ipv6Address> + '_ {
        self.groups.iter().flatten().filter(|g| g.joined).map(|g| g.address)
    }
}

impl Default for Listener {
    fn default() -> Self {
        Listener::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ipv6Address = Ipv6Address::new(0xff02, 0, 0, 0, 0, 1, 0xff00, 0xa);
    const B: Ipv6Address = Ipv6Address::new(0xff02, 0, 0, 0, 0, 1, 0xff00, 0xb);

    fn half(max: Duration) -> Duration {
        Duration::from_micros(max.total_micros() / 2)
    }

    fn drain(l: &mut Listener, now: Instant) -> std::vec::Vec<Report> {
        core::iter::from_fn(|| l.next_due(now, half).map(|d| d.report)).collect()
    }

    #[test]
    fn join_twice_then_leave_twice() {
        let t0 = Instant::from_millis(0);
        let mut l = Listener::new();
        assert!(!l.in_sync(&[A]));
        l.sync(&[A], t0);
        assert!(l.in_sync(&[A]));
        assert_eq!(drain(&mut l, t0), [Report::V2(RecordType::ChangeToExclude, A)]);
        assert_eq!(l.poll_at(), Some(Instant::from_millis(500)));
        assert_eq!(drain(&mut l, Instant::from_millis(499)), []);
        assert_eq!(drain(&mut l, Instant::from_millis(500)), [Report::V2(RecordType::ChangeToExclude, A)]);
        assert_eq!(l.poll_at(), None);
        let t1 = Instant::from_millis(2000);
        l.sync(&[], t1);
        assert_eq!(l.groups().count(), 0);
        assert_eq!(drain(&mut l, t1), [Report::V2(RecordType::ChangeToInclude, A)]);
        assert_eq!(drain(&mut l, Instant::from_millis(2500)), [Report::V2(RecordType::ChangeToInclude, A)]);
        assert_eq!(l.poll_at(), None);
        assert!(l.groups.iter().all(Option::is_none));
    }

    #[test]
    fn queries_answered_in_their_version() {
        let t0 = Instant::from_millis(0);
        let mut l = Listener::new();
        l.sync(&[A, B], t0);
        drain(&mut l, t0);
        drain(&mut l, Instant::from_millis(500));
        let general = Query {
            version: Version::V2,
            max_response_ms: 1000,
            group: Ipv6Address::UNSPECIFIED,
            suppress_router_processing: false,
            robustness: 2,
            query_interval_code: 125,
            sources: 0,
        };
        assert_eq!(l.query(&general, Instant::from_millis(1000), half), 2);
        assert_eq!(l.poll_at(), Some(Instant::from_millis(1500)));
        let reports = drain(&mut l, Instant::from_millis(1500));
        assert_eq!(reports, [Report::V2(RecordType::ModeIsExclude, A), Report::V2(RecordType::ModeIsExclude, B)]);
        let v1 = Query { version: Version::V1, group: B, ..general };
        assert_eq!(l.query(&v1, Instant::from_millis(2000), half), 1);
        assert_eq!(drain(&mut l, Instant::from_millis(2500)), [Report::V1(B)]);
        let other = Query { group: Ipv6Address::new(0xff02, 0, 0, 0, 0, 1, 0xff00, 0xc), ..general };
        assert_eq!(l.query(&other, Instant::from_millis(3000), half), 0);
        assert_eq!(l.poll_at(), None);
        // The MLDv1 querier is still taken to be present: an MLDv2 query
        // is answered in MLDv1, a leave is an MLDv1 done...
        assert_eq!(l.query(&general, Instant::from_millis(4000), half), 2);
        assert_eq!(drain(&mut l, Instant::from_millis(4500)), [Report::V1(A), Report::V1(B)]);
        l.sync(&[A], Instant::from_millis(5000));
        assert_eq!(drain(&mut l, Instant::from_millis(5000)), [Report::DoneV1(B)]);
        // ...until the older version querier present timeout passes.
        let later = Instant::from_millis(2000) + OLDER_VERSION_QUERIER_TIMEOUT;
        l.sync(&[A, B], later);
        assert_eq!(drain(&mut l, later), [Report::V2(RecordType::ChangeToExclude, B)]);
    }

    #[test]
    fn unsent_report_comes_back() {
        let t0 = Instant::from_millis(0);
        let mut l = Listener::new();
        l.sync(&[A], t0);
        let due = l.next_due(t0, half).unwrap();
        assert!(due.change);
        l.unsend(due, t0);
        assert_eq!(drain(&mut l, t0), [Report::V2(RecordType::ChangeToExclude, A)]);
        assert_eq!(l.poll_at(), Some(Instant::from_millis(500)));
    }
}
