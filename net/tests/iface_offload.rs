//! Device offloads through the interface: TCP segmentation offload (the
//! stack hands a segmenting device TCP segments several MSS long and says
//! how to cut them) and per-frame checksum metadata on receive (a frame the
//! device vouches for is not verified again).

mod common;
mod tcp_common;

use common::*;
use net::iface::Interface;
use net::phy::{Checksum, ChecksumCapabilities, Device, DeviceCapabilities, RxMetadata, RxToken, TxToken};
use net::socket::tcp::{State, TcpConfig, TcpSocket};
use net::socket::SocketSet;
use net::time::{Duration, Instant};
use net::wire::tcp::{Packet as TcpPacket, Repr as TcpRepr, SeqNumber, TcpControl};
use net::wire::{ipv4, IpAddress, IpEndpoint, IpProtocol};
use std::collections::VecDeque;
use tcp_common::*;

/// A device that segments TCP and fills TCP checksums (as a virtio-net
/// device with CSUM and HOST_TSO4 does): frames sent are kept with the
/// segment size the stack announced; frames received carry metadata.
#[derive(Default)]
struct OffloadDevice {
    rx: VecDeque<(Vec<u8>, RxMetadata)>,
    tx: Vec<(Vec<u8>, Option<u16>)>,
    caps: DeviceCapabilities,
}

struct Rx(Vec<u8>, RxMetadata);

impl RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
    fn metadata(&self) -> RxMetadata {
        self.1
    }
}

struct Tx<'a> {
    sent: &'a mut Vec<(Vec<u8>, Option<u16>)>,
    segment: Option<u16>,
}

impl TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0xa5; len];
        let r = f(&mut buf);
        self.sent.push((buf, self.segment));
        r
    }
    fn set_tcp_segment_size(&mut self, payload_len: u16) {
        self.segment = Some(payload_len);
    }
}

impl Device for OffloadDevice {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;
    fn receive(&mut self, _: Instant) -> Option<(Rx, Tx<'_>)> {
        let (frame, meta) = self.rx.pop_front()?;
        Some((Rx(frame, meta), Tx { sent: &mut self.tx, segment: None }))
    }
    fn transmit(&mut self, _: Instant) -> Option<Tx<'_>> {
        Some(Tx { sent: &mut self.tx, segment: None })
    }
    fn capabilities(&self) -> DeviceCapabilities {
        self.caps
    }
}

/// TCP checksums filled by the device, TCP segmented up to 64 KiB.
fn offload_caps() -> DeviceCapabilities {
    DeviceCapabilities {
        tso_max_len: 65535,
        checksum: ChecksumCapabilities { tcp: Checksum::Rx, ..ChecksumCapabilities::default() },
        ..DeviceCapabilities::ethernet()
    }
}

/// What the device puts on the wire for one frame the stack gave it: TCP
/// checksummed and, with a segment size, cut into segments of that many
/// payload bytes (FIN and PSH on the last only).
fn device_output(frame: &[u8], segment: Option<u16>) -> Vec<Vec<u8>> {
    let Some((eth, ip, payload)) = parse_ip(frame) else { return vec![frame.to_vec()] };
    if ip.protocol != IpProtocol::Tcp {
        assert_eq!(segment, None, "only TCP is segmented");
        return vec![frame.to_vec()];
    }
    let packet = TcpPacket::new_checked(&payload[..]).expect("tcp header");
    let (src, dst) = (IpAddress::V4(ip.src_addr), IpAddress::V4(ip.dst_addr));
    let repr = TcpRepr::parse(&packet, &src, &dst, false).expect("tcp segment");
    let data = packet.payload();
    let step = segment.map_or(data.len().max(1), usize::from);
    let pieces: Vec<&[u8]> = if data.is_empty() { vec![data] } else { data.chunks(step).collect() };
    let last = pieces.len() - 1;
    let mut offset = 0;
    let mut out = Vec::new();
    for (i, piece) in pieces.into_iter().enumerate() {
        let piece_repr = TcpRepr {
            seq_number: repr.seq_number + offset,
            control: if i == last { repr.control } else { TcpControl::None },
            push: i == last && repr.push,
            ..repr
        };
        let bytes = tcp_bytes(ip.src_addr, ip.dst_addr, &piece_repr, piece);
        out.push(Ip::new(ip.src_addr, ip.dst_addr, IpProtocol::Tcp).frame(eth.dst_addr, eth.src_addr, &bytes));
        offset += piece.len();
    }
    out
}

/// A (offloading device) and B (plain test device) on one link.
struct Net {
    a: Interface<'static>,
    dev_a: OffloadDevice,
    sa: SocketSet<'static>,
    b: Interface<'static>,
    dev_b: TestDevice,
    sb: SocketSet<'static>,
    now: Instant,
    /// Frames A handed its device, with the announced segment size.
    from_a: Vec<(Vec<u8>, Option<u16>)>,
    /// Segments that reached the wire from A after the device's work.
    wire_from_a: usize,
}

impl Net {
    fn new() -> Net {
        Net {
            a: interface(MAC_A, "10.0.0.1/24"),
            dev_a: OffloadDevice { caps: offload_caps(), ..OffloadDevice::default() },
            sa: socket_set_of(2),
            b: interface(MAC_B, "10.0.0.2/24"),
            dev_b: TestDevice::new(),
            sb: socket_set_of(2),
            now: Instant::from_secs(1),
            from_a: Vec::new(),
            wire_from_a: 0,
        }
    }

    fn step(&mut self) -> bool {
        self.a.poll(self.now, &mut self.dev_a, &mut self.sa);
        let from_a = std::mem::take(&mut self.dev_a.tx);
        self.b.poll(self.now, &mut self.dev_b, &mut self.sb);
        let from_b = self.dev_b.take_tx();
        let moved = !from_a.is_empty() || !from_b.is_empty();
        for (frame, segment) in &from_a {
            for wire in device_output(frame, *segment) {
                self.wire_from_a += 1;
                self.dev_b.rx.push_back(wire);
            }
        }
        self.from_a.extend(from_a);
        self.dev_a.rx.extend(from_b.into_iter().map(|f| (f, RxMetadata::default())));
        moved
    }

    fn run(&mut self, limit: Duration, mut done: impl FnMut(&mut SocketSet<'static>, &mut SocketSet<'static>) -> bool) {
        let end = self.now + limit;
        while !done(&mut self.sa, &mut self.sb) {
            if self.step() || !self.dev_a.rx.is_empty() || !self.dev_b.rx.is_empty() {
                continue;
            }
            let next =
                [self.a.poll_at(self.now, &self.sa), self.b.poll_at(self.now, &self.sb)].into_iter().flatten().min();
            self.now = match next {
                Some(t) if t > self.now => t,
                _ => self.now + Duration::from_millis(1),
            };
            assert!(self.now < end, "not done after {limit:?}");
        }
    }
}

fn config() -> TcpConfig {
    TcpConfig { isn_secret: [7; 16], ..TcpConfig::default() }
}

fn ep(addr: net::wire::Ipv4Address, port: u16) -> IpEndpoint {
    IpEndpoint::new(IpAddress::V4(addr), port)
}

#[test]
fn bulk_data_leaves_in_segments_the_device_cuts_at_the_mss() {
    let mut net = Net::new();
    let client = net.sa.add(tcp_socket(65536, 65536, config()));
    let server = net.sb.add(tcp_socket(65536, 65536, config()));
    net.sb.get_mut::<TcpSocket>(server).listen(80).unwrap();
    let now = net.now;
    net.sa.get_mut::<TcpSocket>(client).connect(ep(IP_A, 49152), ep(IP_B, 80), now).unwrap();
    net.run(Duration::from_secs(5), |sa, sb| {
        sa.get::<TcpSocket>(client).state() == State::Established
            && sb.get::<TcpSocket>(server).state() == State::Established
    });
    let mut up = Transfer::new(1, 1_000_000);
    let mut down = Transfer::new(2, 100_000);
    net.run(Duration::from_secs(30), |sa, sb| {
        up.push(sa.get_mut::<TcpSocket>(client));
        down.push(sb.get_mut::<TcpSocket>(server));
        up.pull(sb.get_mut::<TcpSocket>(server));
        down.pull(sa.get_mut::<TcpSocket>(client));
        up.done() && down.done()
    });

    // Timestamps are on: 1500 - 20 - 32 bytes per piece.
    let mut offloaded = 0;
    for (frame, segment) in &net.from_a {
        match segment {
            Some(size) => {
                offloaded += 1;
                assert_eq!(*size, 1448);
                assert!(frame.len() > 1514, "only segments longer than the MTU are offloaded");
                let (_, ip, payload) = parse_ip(frame).expect("IPv4");
                assert_eq!(ip.protocol, IpProtocol::Tcp);
                assert!(ipv4::HEADER_LEN + payload.len() <= 65535);
                let tcp = TcpPacket::new_checked(&payload[..]).unwrap();
                assert!(tcp.payload().len() > 1448, "more than one MSS");
            }
            None => assert!(frame.len() <= 1514, "a frame of {} bytes without a segment size", frame.len()),
        }
    }
    assert!(offloaded > 0, "bulk data went out in large segments");
    let data_frames = net.from_a.len();
    assert!(
        net.wire_from_a > 2 * data_frames,
        "{data_frames} frames from the stack became {} on the wire",
        net.wire_from_a
    );
    let tcp = net.b.stats().tcp;
    assert_eq!((tcp.bad_checksum, tcp.malformed, tcp.truncated), (0, 0, 0), "the device's segments are valid");
}

#[test]
fn without_offload_no_segment_exceeds_the_mtu() {
    let mut net = Net::new();
    // The same stack, but the device computes no TCP checksum: then no
    // segmentation either (a cut segment needs its checksum redone).
    net.dev_a.caps = DeviceCapabilities { tso_max_len: 65535, ..DeviceCapabilities::ethernet() };
    let client = net.sa.add(tcp_socket(65536, 65536, config()));
    let server = net.sb.add(tcp_socket(65536, 65536, config()));
    net.sb.get_mut::<TcpSocket>(server).listen(80).unwrap();
    let now = net.now;
    net.sa.get_mut::<TcpSocket>(client).connect(ep(IP_A, 49152), ep(IP_B, 80), now).unwrap();
    let mut up = Transfer::new(3, 200_000);
    net.run(Duration::from_secs(30), |sa, sb| {
        up.push(sa.get_mut::<TcpSocket>(client));
        up.pull(sb.get_mut::<TcpSocket>(server));
        up.done()
    });
    assert!(net.from_a.iter().all(|(f, s)| s.is_none() && f.len() <= 1514));
}

/// A TCP SYN to a listening port of `iface`, with a checksum that is wrong
/// unless `good`.
fn syn_frame(good: bool) -> Vec<u8> {
    let syn = TcpRepr {
        src_port: 40000,
        dst_port: 80,
        control: TcpControl::Syn,
        seq_number: SeqNumber(1000),
        window_len: 4096,
        max_seg_size: Some(1460),
        ..TcpRepr::default()
    };
    let mut bytes = tcp_bytes(IP_P, IP_B, &syn, &[]);
    if !good {
        bytes[16] ^= 0xff;
    }
    Ip::new(IP_P, IP_B, IpProtocol::Tcp).frame(MAC_B, MAC_P, &bytes)
}

#[test]
fn a_checksum_the_device_vouched_for_is_not_verified_again() {
    let mut iface = interface(MAC_B, "10.0.0.2/24");
    let mut dev = OffloadDevice { caps: DeviceCapabilities::ethernet(), ..OffloadDevice::default() };
    let mut sockets = socket_set_of(2);
    let listener = sockets.add(tcp_socket(4096, 4096, config()));
    sockets.get_mut::<TcpSocket>(listener).listen(80).unwrap();

    // A bad checksum without metadata: dropped and counted.
    dev.rx.push_back((syn_frame(false), RxMetadata::default()));
    iface.poll(secs(1), &mut dev, &mut sockets);
    assert_eq!(iface.stats().tcp.bad_checksum, 1);
    assert_eq!(sockets.get::<TcpSocket>(listener).state(), State::Listen);

    // The same bytes vouched for by the device (a partial checksum from
    // the same host): accepted, the SYN-ACK goes out.
    dev.rx.push_back((syn_frame(false), RxMetadata { l4_checksum_valid: true }));
    iface.poll(secs(1), &mut dev, &mut sockets);
    assert_eq!(iface.stats().tcp.bad_checksum, 1);
    assert_eq!(sockets.get::<TcpSocket>(listener).state(), State::SynReceived);

    // Metadata vouches for one frame only: the next bad one is dropped.
    dev.rx.push_back((syn_frame(false), RxMetadata::default()));
    iface.poll(secs(1), &mut dev, &mut sockets);
    assert_eq!(iface.stats().tcp.bad_checksum, 2);
}

#[test]
fn vouched_checksums_keep_the_transmit_side() {
    let caps =
        ChecksumCapabilities { ipv4: Checksum::Both, udp: Checksum::Rx, tcp: Checksum::Tx, icmpv4: Checksum::None };
    let vouched = caps.for_received(RxMetadata { l4_checksum_valid: true });
    assert_eq!(
        vouched,
        ChecksumCapabilities { ipv4: Checksum::Both, udp: Checksum::None, tcp: Checksum::Tx, icmpv4: Checksum::None }
    );
    assert_eq!(caps.for_received(RxMetadata::default()), caps);
    assert_eq!(Checksum::Both.vouched(), Checksum::Tx);
}
