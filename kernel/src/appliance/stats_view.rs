//! The appliance seen through `apps::stats::StatsSource`, for `/stats` and
//! `/metrics`: interface counters by layer, NIC counters and rings, the
//! services' counters, and every TCP connection of the service listeners.
use crate::apps::stats::{InterfaceStatus, Metric, MetricGroup, NicRings, StatsSource, TcpConnection};
use net::iface::{Interface, Ipv6AddressInfo, NdpEntry};
use net::socket::tcp::{State, TcpListener};
use net::socket::{SocketHandle, SocketSet};
use net::time::{Duration, Instant};
use net::wire::Ipv6Address;

/// What the NIC driver reports (filled by the embedder each poll).
#[derive(Debug, Clone, Copy, Default)]
pub struct NicReport<'n> {
    /// Whether the NIC's driver is up and passing frames. (The virtio
    /// driver cannot read the device's own link status after start-up, so
    /// this is the driver's state, not the cable's.)
    pub link_up: bool,
    /// The device's IP MTU.
    pub ip_mtu: u32,
    pub rings: NicRings,
    pub counters: &'n [Metric<'static>],
}

/// Metric group names of the listeners, in the order of `listeners`.
const LISTENER_GROUPS: [&str; 2] = ["tcp_listener_echo", "tcp_listener_http"];

/// Most counters in one layer of the interface's statistics.
const MAX_GROUP: usize = 48;

pub struct StatsView<'v, 'a> {
    pub now: Instant,
    pub uptime: Duration,
    pub iface: &'v Interface<'a>,
    pub sockets: &'v SocketSet<'a>,
    pub listeners: &'v [SocketHandle],
    pub dhcp: bool,
    pub nic: NicReport<'v>,
    pub services: &'v [Metric<'static>],
}

impl StatsSource for StatsView<'_, '_> {
    fn uptime(&self) -> Duration {
        self.uptime
    }

    fn interface(&self) -> InterfaceStatus {
        InterfaceStatus {
            mac: self.iface.mac(),
            link_up: self.nic.link_up,
            mtu: self.nic.ip_mtu,
            ipv4: self.iface.addresses().next(),
            gateway: self.iface.default_gateway(),
            dhcp: self.dhcp,
        }
    }

    fn nic_rings(&self) -> NicRings {
        self.nic.rings
    }

    fn for_each_group(&self, visit: &mut dyn FnMut(&MetricGroup<'_>)) {
        let stats = self.iface.stats();
        let mut layer = "";
        let mut metrics = [Metric::counter("", 0); MAX_GROUP];
        let mut len = 0;
        for (name, counter, value) in stats.iter().chain(core::iter::once(("", "", 0))) {
            if name != layer {
                if len > 0 {
                    visit(&MetricGroup { name: layer, metrics: &metrics[..len] });
                }
                layer = name;
                len = 0;
            }
            if len < MAX_GROUP && !counter.is_empty() {
                metrics[len] = Metric::counter(counter, value);
                len += 1;
            }
        }
        visit(&MetricGroup { name: "nic", metrics: self.nic.counters });
        visit(&MetricGroup { name: "services", metrics: self.services });
        for (handle, name) in self.listeners.iter().zip(LISTENER_GROUPS) {
            let Some(listener) = self.sockets.try_get::<TcpListener>(*handle) else { continue };
            let s = listener.stats();
            let metrics = [
                Metric::counter("syns_queued", s.syns_queued.into()),
                Metric::counter("cookies_sent", s.cookies_sent.into()),
                Metric::counter("cookies_accepted", s.cookies_accepted.into()),
                Metric::counter("cookies_rejected", s.cookies_rejected.into())
                    .with_help("ACKs with no connection and no valid cookie (answered with RST)"),
                Metric::counter("cookies_unverified", s.cookies_unverified.into())
                    .with_help("ACKs past a cookie client's ISN + 1 while cookies are current (dropped, not reset)"),
                Metric::counter("dropped", s.dropped.into()).with_help("SYNs or cookie ACKs dropped: a queue was full"),
                Metric::counter("evicted", s.evicted.into())
                    .with_help("Half-open connections dropped to make room for clients with a valid cookie"),
                Metric::gauge("syn_queue", listener.syn_queue_len() as u64),
                Metric::gauge("accept_queue", listener.accept_queue_len() as u64),
            ];
            visit(&MetricGroup { name, metrics: &metrics });
        }
    }

    fn for_each_tcp_connection(&self, visit: &mut dyn FnMut(&TcpConnection<'_>) -> bool) {
        for handle in self.listeners {
            let Some(listener) = self.sockets.try_get::<TcpListener>(*handle) else { continue };
            for socket in listener.sockets() {
                if matches!(socket.state(), State::Closed | State::Listen) {
                    continue;
                }
                let (Some(local), Some(remote)) = (socket.local_endpoint(), socket.remote_endpoint()) else {
                    continue;
                };
                if !visit(&TcpConnection::from_info(local, remote, &socket.info())) {
                    return;
                }
            }
        }
    }

    fn for_each_ipv6_address(&self, visit: &mut dyn FnMut(&Ipv6AddressInfo)) {
        self.iface.ipv6_addresses().for_each(|a| visit(&a));
    }

    fn ipv6_router(&self) -> Option<Ipv6Address> {
        self.iface.ipv6_default_router(self.now)
    }

    fn for_each_ipv6_neighbour(&self, visit: &mut dyn FnMut(&NdpEntry) -> bool) {
        for n in self.iface.ipv6_neighbours(self.now) {
            if !visit(&n) {
                return;
            }
        }
    }
}
