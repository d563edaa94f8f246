//! What the appliance reports about itself, and the two renderings of it:
//! JSON for `/stats` ([`json`]) and the Prometheus text format for
//! `/metrics` ([`prometheus`]).
//!
//! The kernel implements [`StatsSource`]; everything is handed out through
//! plain values and callbacks, so nothing is copied into tables here and
//! no allocation is needed. Renderers may call each method more than once
//! (Prometheus groups samples by metric, so it walks the connection table
//! once per metric); a source must give the same answer while a page is
//! rendered, which holds since rendering runs inside one loop iteration.

pub mod json;
pub mod prometheus;

use net::iface::{AddressOrigin, Ipv6AddressInfo, NdpEntry};
use net::socket::tcp::{State, TcpInfo};
use net::time::Duration;
use net::wire::{EthernetAddress, IpEndpoint, Ipv4Address, Ipv4Cidr, Ipv6Address};

/// Whether a rendering holds everything, or had to leave rows out to fit
/// its buffer (it is still a well-formed document then).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    Complete,
    Truncated,
}

/// Whether a value only grows (a count of events) or goes up and down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
}

/// One named value of a [`MetricGroup`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric<'a> {
    /// Lower-case with underscores, e.g. `rx_frames`; other characters are
    /// replaced by `_` in Prometheus names.
    pub name: &'a str,
    pub value: u64,
    pub kind: MetricKind,
    /// One line for Prometheus' `# HELP`; empty means `GROUP NAME`.
    pub help: &'a str,
}

impl<'a> Metric<'a> {
    pub const fn counter(name: &'a str, value: u64) -> Metric<'a> {
        Metric { name, value, kind: MetricKind::Counter, help: "" }
    }
    pub const fn gauge(name: &'a str, value: u64) -> Metric<'a> {
        Metric { name, value, kind: MetricKind::Gauge, help: "" }
    }
    pub const fn with_help(self, help: &'a str) -> Metric<'a> {
        Metric { help, ..self }
    }
}

/// The metrics of one layer or device, e.g. `ethernet`, `ipv4`, `tcp`, `nic`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricGroup<'a> {
    pub name: &'a str,
    pub metrics: &'a [Metric<'a>],
}

/// The network interface's identity and configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterfaceStatus {
    pub mac: EthernetAddress,
    pub link_up: bool,
    pub mtu: u32,
    /// `None` while DHCP has not given an address yet.
    pub ipv4: Option<Ipv4Cidr>,
    pub gateway: Option<Ipv4Address>,
    /// The address came (or is to come) from DHCP rather than bootargs.
    pub dhcp: bool,
}

/// How full the NIC's descriptor rings are right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NicRings {
    pub rx_size: u32,
    /// Receive buffers posted to the device, waiting for frames.
    pub rx_posted: u32,
    pub tx_size: u32,
    /// Transmit descriptors handed to the device, not yet reaped.
    pub tx_in_flight: u32,
}

/// One row of the TCP connection table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpConnection<'a> {
    pub local: IpEndpoint,
    pub remote: IpEndpoint,
    /// RFC 9293 state name, e.g. `ESTABLISHED`.
    pub state: &'a str,
    /// `None` until a round trip has been measured.
    pub srtt_us: Option<u64>,
    pub rttvar_us: u64,
    pub rto_us: u64,
    pub cwnd: u64,
    pub ssthresh: u64,
    pub bytes_in_flight: u64,
    pub retransmits: u64,
}

impl TcpConnection<'static> {
    /// The row for a `net` socket, from its endpoints and `info()`.
    pub fn from_info(local: IpEndpoint, remote: IpEndpoint, info: &TcpInfo) -> TcpConnection<'static> {
        TcpConnection {
            local,
            remote,
            state: state_name(info.state),
            srtt_us: info.srtt.map(Duration::total_micros),
            rttvar_us: info.rttvar.total_micros(),
            rto_us: info.rto.total_micros(),
            cwnd: info.cwnd as u64,
            ssthresh: info.ssthresh as u64,
            bytes_in_flight: info.bytes_in_flight as u64,
            retransmits: u64::from(info.retransmits),
        }
    }
}

/// The RFC 9293 name of a TCP state, as text that outlives the socket.
pub fn state_name(state: State) -> &'static str {
    match state {
        State::Closed => "CLOSED",
        State::Listen => "LISTEN",
        State::SynSent => "SYN-SENT",
        State::SynReceived => "SYN-RECEIVED",
        State::Established => "ESTABLISHED",
        State::FinWait1 => "FIN-WAIT-1",
        State::FinWait2 => "FIN-WAIT-2",
        State::CloseWait => "CLOSE-WAIT",
        State::Closing => "CLOSING",
        State::LastAck => "LAST-ACK",
        State::TimeWait => "TIME-WAIT",
    }
}

/// Everything `/stats` and `/metrics` show; implemented by the kernel.
pub trait StatsSource {
    /// Time since boot.
    fn uptime(&self) -> Duration;
    fn interface(&self) -> InterfaceStatus;
    fn nic_rings(&self) -> NicRings;
    /// Calls `visit` once per group, in a stable order.
    fn for_each_group(&self, visit: &mut dyn FnMut(&MetricGroup<'_>));
    /// Calls `visit` once per TCP connection (listeners excluded), in a
    /// stable order, until it returns `false`.
    fn for_each_tcp_connection(&self, visit: &mut dyn FnMut(&TcpConnection<'_>) -> bool);
    /// Calls `visit` once per IPv6 address (any state), in a stable order.
    fn for_each_ipv6_address(&self, _visit: &mut dyn FnMut(&Ipv6AddressInfo)) {}
    /// The IPv6 default router, if any.
    fn ipv6_router(&self) -> Option<Ipv6Address> {
        None
    }
    /// Calls `visit` once per IPv6 neighbour cache entry, in a stable
    /// order, until it returns `false`.
    fn for_each_ipv6_neighbour(&self, _visit: &mut dyn FnMut(&NdpEntry) -> bool) {}
}

/// How an IPv6 address was configured, as shown in `/stats`.
pub fn origin_name(origin: AddressOrigin) -> &'static str {
    match origin {
        AddressOrigin::LinkLocal => "link-local",
        AddressOrigin::Slaac => "slaac",
        AddressOrigin::Static => "static",
    }
}

/// A fixed source for tests (here and in `http`).
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;
    use net::wire::IpAddress;

    pub struct FixedStats {
        pub connections: usize,
        pub state: &'static str,
    }

    impl FixedStats {
        pub fn new(connections: usize) -> FixedStats {
            FixedStats { connections, state: "ESTABLISHED" }
        }
    }

    pub fn connection(i: usize, state: &str) -> TcpConnection<'_> {
        let addr = IpAddress::V4(Ipv4Address::new(10, 0, 2, 15));
        let peer = IpAddress::V4(Ipv4Address::new(10, 0, 2, 2));
        TcpConnection {
            local: IpEndpoint::new(addr, 80),
            remote: IpEndpoint::new(peer, 40000 + i as u16),
            state,
            srtt_us: if i == 0 { None } else { Some(1500 + i as u64) },
            rttvar_us: 750,
            rto_us: 1_000_000,
            cwnd: 14600,
            ssthresh: 65535,
            bytes_in_flight: 0,
            retransmits: i as u64,
        }
    }

    impl StatsSource for FixedStats {
        fn uptime(&self) -> Duration {
            Duration::from_micros(12_345_678)
        }
        fn interface(&self) -> InterfaceStatus {
            InterfaceStatus {
                mac: EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
                link_up: true,
                mtu: 1500,
                ipv4: Ipv4Cidr::new(Ipv4Address::new(10, 0, 2, 15), 24),
                gateway: Some(Ipv4Address::new(10, 0, 2, 2)),
                dhcp: true,
            }
        }
        fn nic_rings(&self) -> NicRings {
            NicRings { rx_size: 256, rx_posted: 255, tx_size: 256, tx_in_flight: 3 }
        }
        fn for_each_group(&self, visit: &mut dyn FnMut(&MetricGroup<'_>)) {
            visit(&MetricGroup {
                name: "ethernet",
                metrics: &[Metric::counter("rx_frames", 10), Metric::counter("tx_frames", 9)],
            });
            visit(&MetricGroup {
                name: "tcp",
                metrics: &[
                    Metric::counter("rx_segments", 7).with_help("TCP segments received."),
                    Metric::gauge("listeners", 2),
                ],
            });
        }
        fn for_each_ipv6_address(&self, visit: &mut dyn FnMut(&Ipv6AddressInfo)) {
            use net::iface::AddressState;
            visit(&Ipv6AddressInfo {
                address: Ipv6Address::new(0xfe80, 0, 0, 0, 0x5054, 0xff, 0xfe12, 0x3456),
                prefix_len: 64,
                origin: AddressOrigin::LinkLocal,
                state: AddressState::Preferred,
                valid_until: None,
                preferred_until: None,
            });
        }
        fn ipv6_router(&self) -> Option<Ipv6Address> {
            Some(Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0, 0, 1))
        }
        fn for_each_ipv6_neighbour(&self, visit: &mut dyn FnMut(&NdpEntry) -> bool) {
            visit(&NdpEntry {
                ip: Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
                mac: Some(EthernetAddress([0x52, 0x55, 0, 0, 0, 1])),
                state: net::iface::NeighbourState::Reachable,
                is_router: true,
            });
        }
        fn for_each_tcp_connection(&self, visit: &mut dyn FnMut(&TcpConnection<'_>) -> bool) {
            for i in 0..self.connections {
                if !visit(&connection(i, self.state)) {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use net::wire::Ipv4Address;

    #[test]
    fn connection_row_from_net_tcp_info() {
        let info = TcpInfo {
            state: State::FinWait2,
            srtt: Some(Duration::from_micros(2500)),
            rttvar: Duration::from_micros(1250),
            rto: Duration::from_millis(200),
            cwnd: 14480,
            ssthresh: usize::MAX,
            bytes_in_flight: 1448,
            retransmits: 3,
            send_window: 65535,
            mss: 1448,
        };
        let local = IpEndpoint::new(Ipv4Address::new(10, 0, 2, 15).into(), 80);
        let remote = IpEndpoint::new(Ipv4Address::new(10, 0, 2, 2).into(), 51000);
        let row = TcpConnection::from_info(local, remote, &info);
        assert_eq!(
            row,
            TcpConnection {
                local,
                remote,
                state: "FIN-WAIT-2",
                srtt_us: Some(2500),
                rttvar_us: 1250,
                rto_us: 200_000,
                cwnd: 14480,
                ssthresh: usize::MAX as u64,
                bytes_in_flight: 1448,
                retransmits: 3,
            }
        );
    }

    #[test]
    fn state_names_match_net_display() {
        use std::string::ToString;
        for s in [
            State::Closed,
            State::Listen,
            State::SynSent,
            State::SynReceived,
            State::Established,
            State::FinWait1,
            State::FinWait2,
            State::CloseWait,
            State::Closing,
            State::LastAck,
            State::TimeWait,
        ] {
            assert_eq!(state_name(s), s.to_string());
        }
    }

    #[test]
    fn metric_constructors() {
        assert_eq!(
            Metric::counter("rx", 5).with_help("h"),
            Metric { name: "rx", value: 5, kind: MetricKind::Counter, help: "h" }
        );
        assert_eq!(Metric::gauge("g", 1).kind, MetricKind::Gauge);
    }
}
