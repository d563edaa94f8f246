//! Interface counters: one struct per layer, one field per event or drop
//! reason, all monotonically increasing `u64`s.
//!
//! [`Stats::iter`] yields `(layer, counter, value)` triples so an embedder
//! can print them (JSON, Prometheus text) without naming every field.

use super::reassembly::{Accepted, FragmentError};

macro_rules! counters {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: u64,)*
        }

        impl $name {
            /// Every counter as a `(name, value)` pair, in declaration order.
            pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> {
                [$((stringify!($field), self.$field)),*].into_iter()
            }
        }
    };
}

counters!(
    /// Ethernet: frames in, and why frames were dropped.
    EthernetStats {
        /// Frames received from the device.
        rx_frames,
        /// Frames handed to the device.
        tx_frames,
        /// Shorter than an Ethernet header.
        truncated,
        /// Addressed to another station or a multicast group not joined.
        not_for_us,
        /// An EtherType this stack does not handle (IPv6 too while it is
        /// not enabled).
        unknown_ethertype,
        /// 802.1Q-tagged frames dropped (tagged while no VLAN is configured,
        /// another VLAN id, or untagged while one is).
        vlan_dropped,
    }
);

counters!(
    /// ARP.
    ArpStats {
        requests_received,
        replies_received,
        requests_sent,
        replies_sent,
        /// Gratuitous announcements of our addresses.
        announcements_sent,
        /// Unparseable, or not Ethernet/IPv4, or a bogus sender.
        malformed,
        /// Asking about an address that is not ours.
        not_for_us,
        /// Another station claims one of our addresses.
        address_conflict,
        /// A request was due but the per-address rate limit held it back.
        request_rate_limited,
        /// A packet waiting for resolution found the queue full (dropped).
        pending_queue_full,
        /// Packets dropped because resolution failed after every try.
        resolution_failed,
        /// Neighbour entries evicted to make room (least recently used).
        cache_evictions,
    }
);

counters!(
    /// IPv4, fragmentation and reassembly included.
    Ipv4Stats {
        rx_packets,
        tx_packets,
        /// Version field not 4.
        bad_version,
        /// Header checksum does not verify.
        bad_checksum,
        /// Shorter than the header or the total length.
        truncated,
        /// Header length or total length inconsistent, bad options, or a
        /// non-final fragment not a multiple of 8 bytes.
        bad_length,
        /// A source address no host may use (broadcast, multicast,
        /// loopback).
        bad_source,
        /// Not addressed to us, our broadcasts or a joined group.
        not_for_us,
        /// Received with TTL 0.
        ttl_expired,
        /// A protocol this stack does not handle.
        unknown_protocol,
        /// Fragments received.
        fragments_received,
        /// Datagrams completed from fragments.
        fragments_reassembled,
        /// Datagrams abandoned when their reassembly timed out.
        fragments_timed_out,
        /// Datagrams discarded for a fragment overlapping with other data
        /// (RFC 5722 style) or an inconsistent length.
        fragments_overlap,
        /// Fragments that only repeated data already held (ignored).
        fragments_duplicate,
        /// Fragments that would make the datagram longer than 65535 bytes.
        fragments_too_big,
        /// Fragments too small to be legitimate (empty non-final fragments,
        /// a first fragment shorter than 8 bytes, TCP at offset 8).
        fragments_tiny,
        /// Incomplete datagrams dropped to make room for a new one.
        fragments_evicted,
        /// No reassembly buffer free, or the datagram exceeds one buffer.
        fragments_no_buffer,
        /// Outgoing datagrams sent as fragments.
        tx_fragmented,
        /// Fragments sent.
        tx_fragments,
        /// Outgoing datagrams larger than the MTU with DF set (dropped).
        tx_dont_fragment,
        /// Outgoing datagrams over 65535 bytes (dropped).
        tx_too_big,
        /// No route (and no gateway) to the destination.
        tx_no_route,
        /// No local address to send from.
        tx_no_source,
    }
);

counters!(
    /// ICMPv4.
    IcmpStats {
        rx_messages,
        bad_checksum,
        /// Shorter than the ICMP header or an error without its quote.
        truncated,
        /// Types this stack does not handle.
        unknown_type,
        echo_requests_received,
        /// Echo replies sent (pings answered).
        echo_replied,
        /// Echo requests to a broadcast or multicast address (ignored).
        echo_broadcast_ignored,
        /// Echo replies for an identifier no socket is bound to.
        echo_reply_unmatched,
        /// Error messages (unreachable, time exceeded, ...) received.
        errors_received,
        /// Error messages sent (port unreachable, reassembly time exceeded).
        errors_sent,
        /// Error messages not sent because of the rate limit.
        errors_rate_limited,
    }
);

counters!(
    /// UDP.
    UdpStats {
        rx_datagrams,
        tx_datagrams,
        bad_checksum,
        /// Shorter than the header or its length field.
        truncated,
        /// Length field below 8, or destination port 0.
        malformed,
        /// No socket bound to the destination port (port unreachable).
        no_socket,
        /// The receiving socket's buffer was full.
        socket_buffer_full,
    }
);

counters!(
    /// TCP (the segments the interface carries; per-connection counters
    /// are in each socket's `info`).
    TcpStats {
        /// Segments received and parsed (checksum verified).
        rx_segments,
        /// Segments sent (replies, data, ACKs, RSTs).
        tx_segments,
        bad_checksum,
        /// Shorter than the header or its data offset.
        truncated,
        /// A bad data offset, a zero port, an invalid flag combination or
        /// a malformed option.
        malformed,
        /// Sent to a broadcast or multicast address (dropped).
        not_unicast,
        /// No socket or listener wanted the segment.
        no_socket,
        /// RSTs sent for segments no socket wanted (RFC 9293 3.10.7.1).
        rst_sent,
        /// Immediate answers from a socket (challenge ACKs, duplicate
        /// ACKs, SYN-ACKs of SYN cookies, RSTs).
        replies_sent,
    }
);

counters!(
    /// IPv6, extension headers, fragmentation and reassembly included.
    Ipv6Stats {
        rx_packets,
        tx_packets,
        /// Version field not 6.
        bad_version,
        /// Shorter than the header or its payload length.
        truncated,
        /// A multicast or unspecified source where none may be.
        bad_source,
        /// Not addressed to an assigned address or a group we are in.
        not_for_us,
        /// Addressed to one of our addresses still in DAD (RFC 4862 5.4).
        to_tentative,
        /// Dropped because IPv6 is disabled (a duplicate hardware-derived
        /// link-local address, RFC 4862 5.4.5).
        disabled,
        /// An extension header chain that is malformed, too long, or has a
        /// header this stack does not skip (routing with segments left,
        /// an option that says discard).
        bad_extension,
        /// A protocol this stack does not handle.
        unknown_protocol,
        /// Fragments received (atomic ones included).
        fragments_received,
        /// Fragment headers with offset 0 and no more fragments (RFC 6946),
        /// handled without reassembly.
        atomic_fragments,
        fragments_reassembled,
        fragments_timed_out,
        /// Datagrams discarded for overlapping fragments (RFC 5722) or an
        /// inconsistent length.
        fragments_overlap,
        /// Exact repeats of data already held (dropped).
        fragments_duplicate,
        /// Would make the datagram longer than 65535 bytes.
        fragments_too_big,
        /// Empty non-final fragments, non-final fragments not a multiple
        /// of 8 bytes, or a first fragment without the upper-layer header
        /// (RFC 7112).
        fragments_tiny,
        fragments_evicted,
        fragments_no_buffer,
        /// Outgoing datagrams sent as fragments.
        tx_fragmented,
        tx_fragments,
        /// Outgoing datagrams over 65535 bytes (dropped).
        tx_too_big,
        /// No route: not on link and no default router.
        tx_no_route,
        /// No usable (assigned) source address.
        tx_no_source,
        /// The source address stopped being ours (expired, or lost to DAD)
        /// before the datagram went out: a reply that waited for neighbour
        /// discovery, a TCP retransmission (dropped; RFC 4862 5.5.4).
        tx_source_gone,
        /// Path MTU lowered by a packet too big message.
        pmtu_updates,
    }
);

counters!(
    /// ICMPv6 (RFC 4443), neighbour discovery excluded.
    Icmpv6Stats {
        rx_messages,
        bad_checksum,
        /// Shorter than its header, or an error without its quote.
        truncated,
        /// Types this stack does not handle (counted, then ignored).
        unknown_type,
        echo_requests_received,
        echo_replied,
        /// Echo requests to a multicast group (ignored).
        echo_multicast_ignored,
        echo_reply_unmatched,
        /// Error messages received (unreachable, time exceeded, ...).
        errors_received,
        packet_too_big_received,
        /// Error messages sent.
        errors_sent,
        errors_rate_limited,
    }
);

counters!(
    /// Neighbour discovery (RFC 4861) and address autoconfiguration (RFC 4862).
    NdpStats {
        solicitations_received,
        solicitations_sent,
        advertisements_received,
        advertisements_sent,
        router_solicitations_sent,
        router_advertisements_received,
        redirects_ignored,
        /// Hop limit not 255, a code not 0, a bad option, or fields the
        /// RFC says to check (silently discarded, RFC 4861 6.1, 7.1).
        invalid,
        /// A solicitation for an address that is not ours.
        not_for_us,
        /// DAD probes sent for our tentative addresses.
        dad_probes_sent,
        /// Addresses found in use by another node (not used).
        dad_conflicts,
        /// Another node claims an address we already use.
        address_conflict,
        /// IPv6 frames from our own MAC (a link echoing multicast back),
        /// ignored so our DAD probes are not taken for another node's.
        looped_back,
        /// Router advertisements not from a link-local source (ignored).
        ra_bad_source,
        /// Addresses formed from router advertisement prefixes.
        slaac_addresses,
        /// A packet waiting for resolution found the queue full (dropped).
        pending_queue_full,
        /// Packets dropped because resolution failed.
        resolution_failed,
        cache_evictions,
    }
);

counters!(
    /// Multicast listener discovery (RFC 3810), host side.
    MldStats {
        /// Valid queries for a group we listen to (or general ones).
        queries_received,
        /// Queries that failed a check: length, checksum, group, hop
        /// limit not 1, a source not link-local, no router alert.
        queries_malformed,
        /// Valid queries about a group we do not listen to.
        queries_not_for_us,
        /// Reports sent: state changes (joins, leaves) and answers.
        reports_sent,
        /// Leave (change to include) reports among them.
        leaves_sent,
        /// Reports and done messages from other listeners (ignored).
        others_reports,
    }
);

counters!(
    /// Transmission.
    TxStats {
        /// The device had no transmit buffer; the work waits for a later
        /// poll.
        device_busy,
        /// A reply needing several frames could not be sent from the
        /// receive path and had no deferral slot (dropped).
        reply_dropped,
    }
);

/// The reassembly counters both IP families keep under the same names.
pub(crate) trait FragmentCounters {
    /// Counts what became of a fragment handed to reassembly, and the
    /// incomplete datagrams evicted to take it; the slot of the datagram it
    /// completed, if it did.
    fn count_fragment(&mut self, outcome: Result<Accepted, FragmentError>, evictions: u64) -> Option<usize>;
}

macro_rules! fragment_counters {
    ($($stats:ty),*) => {$(
        impl FragmentCounters for $stats {
            fn count_fragment(&mut self, outcome: Result<Accepted, FragmentError>, evictions: u64) -> Option<usize> {
                self.fragments_evicted += evictions;
                let counter = match outcome {
                    Ok(Accepted::Incomplete) => return None,
                    Ok(Accepted::Complete(index)) => {
                        self.fragments_reassembled += 1;
                        return Some(index);
                    }
                    Ok(Accepted::Duplicate) => &mut self.fragments_duplicate,
                    Err(FragmentError::NoBuffer) => &mut self.fragments_no_buffer,
                    Err(FragmentError::TooBig) => &mut self.fragments_too_big,
                    Err(FragmentError::Overlap) => &mut self.fragments_overlap,
                    Err(FragmentError::Tiny) => &mut self.fragments_tiny,
                };
                *counter += 1;
                None
            }
        }
    )*};
}

fragment_counters!(Ipv4Stats, Ipv6Stats);

/// All counters of an interface.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub ethernet: EthernetStats,
    pub arp: ArpStats,
    pub ipv4: Ipv4Stats,
    pub icmp: IcmpStats,
    pub udp: UdpStats,
    pub tcp: TcpStats,
    pub ipv6: Ipv6Stats,
    pub icmpv6: Icmpv6Stats,
    pub ndp: NdpStats,
    pub mld: MldStats,
    pub tx: TxStats,
}

impl Stats {
    /// Every counter as `(layer, counter, value)`, layer by layer.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &'static str, u64)> + '_ {
        let with = |layer: &'static str| move |(name, v)| (layer, name, v);
        self.ethernet
            .iter()
            .map(with("ethernet"))
            .chain(self.arp.iter().map(with("arp")))
            .chain(self.ipv4.iter().map(with("ipv4")))
            .chain(self.icmp.iter().map(with("icmp")))
            .chain(self.udp.iter().map(with("udp")))
            .chain(self.tcp.iter().map(with("tcp")))
            .chain(self.ipv6.iter().map(with("ipv6")))
            .chain(self.icmpv6.iter().map(with("icmpv6")))
            .chain(self.ndp.iter().map(with("ndp")))
            .chain(self.mld.iter().map(with("mld")))
            .chain(self.tx.iter().map(with("tx")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterates_every_counter_by_name() {
        let mut s = Stats::default();
        s.ipv4.bad_checksum = 3;
        s.tx.reply_dropped = 1;
        let all: std::vec::Vec<_> = s.iter().collect();
        assert!(all.contains(&("ipv4", "bad_checksum", 3)));
        assert_eq!(all.first(), Some(&("ethernet", "rx_frames", 0)));
        assert_eq!(all.last(), Some(&("tx", "reply_dropped", 1)));
        assert_eq!(all.iter().map(|c| c.2).sum::<u64>(), 4);
    }
}
