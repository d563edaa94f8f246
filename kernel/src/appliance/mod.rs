//! The appliance: the one owner of the network stack (interface, sockets)
//! and of the services that run on it. It is generic over the NIC, so the
//! kernel drives it with its virtio driver and host tests drive it with an
//! in-memory link to a second stack.
//!
//! Services:
//! - ping: answered by the interface itself (fragmented pings included);
//! - UDP echo on port 7 (RFC 862).
mod address;

pub use address::AddressPlan;

use crate::apps::echo;
use crate::bootargs::AddressMode;
use log::{info, warn};
use net::iface::{Config, Interface, InterfaceStorage, NeighbourSlot, PendingSlot, ReassemblySlot};
use net::phy::Device;
use net::socket::dhcpv4::DhcpClient;
use net::socket::udp::{UdpPacketMetadata, UdpSocket};
use net::socket::{SocketHandle, SocketSet, SocketStorage};
use net::storage::PacketBuffer;
use net::time::{Duration, Instant};
use net::wire::{EthernetAddress, Ipv4Address, Ipv4Cidr};

/// The echo service's port (RFC 862).
pub const ECHO_PORT: u16 = 7;
/// How long DHCP may take before the static fallback address is used.
pub const DHCP_FALLBACK_AFTER: Duration = Duration::from_secs(5);

/// Every buffer the appliance uses, provided once by the embedder.
#[derive(Debug)]
pub struct Storage<'a> {
    pub neighbours: &'a mut [NeighbourSlot],
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
}

impl Storage<'static> {
    /// Allocates every buffer once, at boot, from the kernel heap (or the
    /// host allocator in tests), for the life of the program.
    pub fn allocate() -> Storage<'static> {
        fn leak<T: Clone>(value: T, n: usize) -> &'static mut [T] {
            alloc::vec![value; n].leak()
        }
        Storage {
            neighbours: leak(NeighbourSlot::EMPTY, 64),
            pending_slots: leak(PendingSlot::EMPTY, 64),
            pending_bytes: leak(0u8, 128 * 1024),
            // Four datagrams of up to 64 KiB reassembled at once.
            reassembly_slots: leak(ReassemblySlot::EMPTY, 4),
            reassembly_bytes: leak(0u8, 4 * 65536),
            sockets: alloc::vec::Vec::from_iter((0..16).map(|_| SocketStorage::EMPTY)).leak(),
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
    plan: AddressPlan,
    scratch: &'a mut [u8],
    counters: ServiceCounters,
}

impl<'a> Appliance<'a> {
    pub fn new(settings: Settings, storage: Storage<'a>, now: Instant) -> Appliance<'a> {
        let mut config = Config::new(settings.mac);
        config.seed = settings.seed as u32 ^ (settings.seed >> 32) as u32;
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
        let mut sockets = SocketSet::new(storage.sockets);

        let mut udp = UdpSocket::new(
            PacketBuffer::new(storage.udp_rx_metadata, storage.udp_rx_bytes),
            PacketBuffer::new(storage.udp_tx_metadata, storage.udp_tx_bytes),
        );
        if let Err(e) = udp.bind(ECHO_PORT) {
            warn!("udp echo: cannot bind port {ECHO_PORT}: {e:?}");
        }
        let udp_echo = sockets.add(udp);

        let plan = match settings.address {
            AddressMode::Static(cidr) => {
                AddressPlan::configure_static(&mut iface, cidr, settings.gateway);
                AddressPlan::Static
            }
            AddressMode::Dhcp => {
                sockets.add(DhcpClient::new(settings.mac, settings.seed as u32));
                info!("network: asking DHCP for an address (fallback {} in {DHCP_FALLBACK_AFTER})", settings.fallback);
                AddressPlan::dhcp(now + DHCP_FALLBACK_AFTER, settings.fallback, settings.fallback_gateway)
            }
        };
        info!("network: MAC {}, services: ping, echo udp/{ECHO_PORT}", settings.mac);
        Appliance { iface, sockets, udp_echo, plan, scratch: storage.scratch, counters: ServiceCounters::default() }
    }

    /// Does all the work due at `now`: frames in and out, timers, services.
    /// Returns when it next needs to run (`None`: only on a frame).
    pub fn poll<D: Device>(&mut self, now: Instant, device: &mut D) -> Option<Instant> {
        // Services may queue output, which the next interface poll sends;
        // loop while a round made progress (bounded, so a flood cannot
        // starve the timer).
        let mut busy = false;
        for _ in 0..4 {
            let result = self.iface.poll(now, device, &mut self.sockets);
            let served = self.serve_udp_echo();
            self.plan.update(now, &mut self.iface);
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
        let next = self.iface.poll_at(now, &self.sockets);
        match (next, self.plan.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
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

    /// The address in use, if any.
    pub fn address(&self) -> Option<Ipv4Cidr> {
        self.iface.addresses().next()
    }
}
