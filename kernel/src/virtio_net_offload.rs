//! virtio-net offloads, the part that needs no hardware: which offload
//! features the driver accepts, and the per-frame virtio-net header
//! (virtio 1.2, 5.1.6) that carries them: on receive, whether the device
//! vouches for the transport checksum; on transmit, a TCP checksum left to
//! the device (`NEEDS_CSUM` with a partial checksum, as virtio asks) and
//! TCP segmentation (`GSO_TCPV4`).
//!
//! The header starts every buffer: 10 bytes, or 12 with `num_buffers`
//! (modern devices); the first 10 are the same in both layouts, little
//! endian.
use net::phy::RxMetadata;

/// Feature bits (virtio 1.2, 5.1.3).
pub mod feature {
    /// The device completes partial checksums on transmit.
    pub const CSUM: u64 = 1 << 0;
    /// The driver takes frames with partial or device-verified checksums.
    pub const GUEST_CSUM: u64 = 1 << 1;
    /// The driver takes TCP segments larger than the MTU (host GRO/TSO).
    pub const GUEST_TSO4: u64 = 1 << 7;
    /// The device segments TCP frames larger than the MTU.
    pub const HOST_TSO4: u64 = 1 << 11;
}

/// The offload features to accept from those a device offers. Each TSO
/// feature needs its checksum feature (5.1.3.1: a segmented frame's
/// checksums are the device's to fill).
pub fn offloads_for(device_features: u64) -> u64 {
    use feature::*;
    let mut accepted = device_features & (CSUM | GUEST_CSUM | GUEST_TSO4 | HOST_TSO4);
    if accepted & CSUM == 0 {
        accepted &= !HOST_TSO4;
    }
    if accepted & GUEST_CSUM == 0 {
        accepted &= !GUEST_TSO4;
    }
    accepted
}

/// `flags`: the checksum at `csum_start + csum_offset` is partial.
pub const NEEDS_CSUM: u8 = 1;
/// `flags`: the device verified the frame's checksum.
pub const DATA_VALID: u8 = 2;
/// `gso_type`: not segmented.
pub const GSO_NONE: u8 = 0;
/// `gso_type`: an IPv4 TCP segment to cut (or that was merged).
pub const GSO_TCPV4: u8 = 1;
/// Bytes of the header common to both layouts.
pub const HEADER_LEN: usize = 10;

/// The fields of a virtio-net header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetHeader {
    pub flags: u8,
    pub gso_type: u8,
    /// Bytes of headers (Ethernet, IP, TCP) before the segment payload.
    pub hdr_len: u16,
    /// Payload bytes per segment.
    pub gso_size: u16,
    pub csum_start: u16,
    pub csum_offset: u16,
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_VLAN: u16 = 0x8100;
const PROTOCOL_TCP: u8 = 6;
/// Where the checksum lies in a TCP header.
const TCP_CHECKSUM_OFFSET: usize = 16;

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]))
}

/// The IPv4 TCP segment in a frame: (IP header start, IP header length,
/// TCP length), when the frame holds a whole, unfragmented one.
fn ipv4_tcp(frame: &[u8]) -> Option<(usize, usize, usize)> {
    let mut ip = 14;
    let mut ethertype = be16(frame, 12)?;
    if ethertype == ETHERTYPE_VLAN {
        ip = 18;
        ethertype = be16(frame, 16)?;
    }
    if ethertype != ETHERTYPE_IPV4 {
        return None;
    }
    let version_ihl = *frame.get(ip)?;
    let ihl = usize::from(version_ihl & 0x0f) * 4;
    let total = usize::from(be16(frame, ip + 2)?);
    let fragment = be16(frame, ip + 6)? & 0x3fff;
    let protocol = *frame.get(ip + 9)?;
    if version_ihl >> 4 != 4 || ihl < 20 || protocol != PROTOCOL_TCP || fragment != 0 {
        return None;
    }
    if total > frame.len() - ip || total < ihl + 20 {
        return None;
    }
    Some((ip, ihl, total - ihl))
}

impl NetHeader {
    /// Reads a header from the start of a receive buffer.
    pub fn parse(bytes: &[u8]) -> Option<NetHeader> {
        let b = bytes.get(..HEADER_LEN)?;
        let le = |at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
        Some(NetHeader {
            flags: b[0],
            gso_type: b[1],
            hdr_len: le(2),
            gso_size: le(4),
            csum_start: le(6),
            csum_offset: le(8),
        })
    }

    /// Writes the header into `out` (10 or 12 bytes; bytes past the
    /// common 10, `num_buffers`, are zeroed as the driver must).
    pub fn emit(&self, out: &mut [u8]) {
        let fields = [
            [self.flags, self.gso_type],
            self.hdr_len.to_le_bytes(),
            self.gso_size.to_le_bytes(),
            self.csum_start.to_le_bytes(),
            self.csum_offset.to_le_bytes(),
        ];
        for (chunk, field) in out.chunks_mut(2).zip(fields) {
            let n = chunk.len();
            chunk.copy_from_slice(&field[..n]);
        }
        if let Some(rest) = out.get_mut(HEADER_LEN..) {
            rest.fill(0);
        }
    }

    /// What the stack may skip for a received frame: a partial checksum
    /// (from the same host) or one the device verified is not checked.
    pub fn rx_metadata(&self) -> RxMetadata {
        RxMetadata { l4_checksum_valid: self.flags & (NEEDS_CSUM | DATA_VALID) != 0 }
    }

    /// The header for a frame the stack built, on a device that completes
    /// TCP checksums (`checksum_offload`): an IPv4 TCP segment gets its
    /// checksum field set to the pseudo-header sum and `NEEDS_CSUM`, and,
    /// when `segment` is given and the payload is longer, `GSO_TCPV4` to
    /// be cut into pieces of `segment` bytes. Other frames go as built.
    pub fn for_transmit(frame: &mut [u8], checksum_offload: bool, segment: Option<u16>) -> NetHeader {
        let none = NetHeader::default();
        if !checksum_offload {
            return none;
        }
        let Some((ip, ihl, tcp_len)) = ipv4_tcp(frame) else { return none };
        let tcp = ip + ihl;
        let Some(data_offset) = frame.get(tcp + 12) else { return none };
        let tcp_header = usize::from(data_offset >> 4) * 4;
        if tcp_header < 20 || tcp_header > tcp_len {
            return none;
        }
        // The pseudo-header sum, folded and not complemented: the device
        // sums from csum_start over it and stores the complement.
        let mut sum = u32::from(PROTOCOL_TCP) + tcp_len as u32;
        for at in (ip + 12..ip + 20).step_by(2) {
            sum += u32::from(u16::from_be_bytes([frame[at], frame[at + 1]]));
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        let field = tcp + TCP_CHECKSUM_OFFSET;
        frame[field..field + 2].copy_from_slice(&(sum as u16).to_be_bytes());
        let mut header =
            NetHeader { flags: NEEDS_CSUM, csum_start: tcp as u16, csum_offset: TCP_CHECKSUM_OFFSET as u16, ..none };
        if let Some(size) = segment.filter(|&s| s > 0 && tcp_len - tcp_header > usize::from(s)) {
            header.gso_type = GSO_TCPV4;
            header.gso_size = size;
            header.hdr_len = (tcp + tcp_header) as u16;
        }
        header
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use feature::*;
    use net::wire::checksum;
    use net::wire::tcp::{Packet as TcpPacket, Repr as TcpRepr, SeqNumber, TcpControl};
    use net::wire::{ipv4, IpAddress, IpProtocol, Ipv4Address};
    use std::vec;
    use std::vec::Vec;

    const SRC: Ipv4Address = Ipv4Address::new(10, 90, 0, 2);
    const DST: Ipv4Address = Ipv4Address::new(10, 90, 0, 1);

    /// An Ethernet frame with an IPv4 TCP segment of `payload` bytes whose
    /// checksum field holds 0xdead.
    fn tcp_frame(payload: usize) -> Vec<u8> {
        let repr = TcpRepr {
            src_port: 7,
            dst_port: 40000,
            control: TcpControl::None,
            seq_number: SeqNumber(1),
            ack_number: Some(SeqNumber(2)),
            window_len: 1000,
            payload_len: payload,
            ..TcpRepr::default()
        };
        let ip = ipv4::Repr {
            src_addr: SRC,
            dst_addr: DST,
            protocol: IpProtocol::Tcp,
            payload_len: repr.buffer_len(),
            ttl: 64,
            ident: 1,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
        };
        let mut frame = vec![0u8; 14 + ip.buffer_len()];
        frame[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        ip.emit(&mut ipv4::Packet::new_unchecked(&mut frame[14..]), true);
        let data: Vec<u8> = (0..payload).map(|i| i as u8).collect();
        let tcp = &mut frame[34..];
        repr.emit(&mut TcpPacket::new_unchecked(&mut *tcp), &IpAddress::V4(SRC), &IpAddress::V4(DST), &data, false);
        tcp[16..18].copy_from_slice(&[0xde, 0xad]);
        frame
    }

    #[test]
    fn offloads_need_their_checksum_features() {
        let all = CSUM | GUEST_CSUM | GUEST_TSO4 | HOST_TSO4;
        assert_eq!(offloads_for(all | (1 << 5) | (1 << 29)), all);
        assert_eq!(offloads_for(GUEST_TSO4 | HOST_TSO4), 0);
        assert_eq!(offloads_for(CSUM | GUEST_TSO4 | HOST_TSO4), CSUM | HOST_TSO4);
        assert_eq!(offloads_for(GUEST_CSUM | GUEST_TSO4 | HOST_TSO4), GUEST_CSUM | GUEST_TSO4);
        assert_eq!(offloads_for(0), 0);
    }

    #[test]
    fn header_round_trips_in_both_layouts() {
        let h = NetHeader { flags: 1, gso_type: 1, hdr_len: 66, gso_size: 1448, csum_start: 34, csum_offset: 16 };
        let mut modern = [0xffu8; 12];
        h.emit(&mut modern);
        assert_eq!(modern, [1, 1, 66, 0, 0xa8, 0x05, 34, 0, 16, 0, 0, 0]);
        assert_eq!(NetHeader::parse(&modern), Some(h));
        let mut legacy = [0xffu8; 10];
        h.emit(&mut legacy);
        assert_eq!(NetHeader::parse(&legacy), Some(h));
        assert_eq!(NetHeader::parse(&legacy[..9]), None);
    }

    #[test]
    fn received_checksums_are_vouched_for_by_either_flag() {
        let flags = |flags| NetHeader { flags, ..NetHeader::default() }.rx_metadata().l4_checksum_valid;
        assert!(!flags(0));
        assert!(flags(NEEDS_CSUM));
        assert!(flags(DATA_VALID));
        assert!(!flags(4));
    }

    #[test]
    fn a_tcp_segment_gets_a_partial_checksum_the_device_can_complete() {
        let mut frame = tcp_frame(100);
        let h = NetHeader::for_transmit(&mut frame, true, None);
        assert_eq!(h, NetHeader { flags: NEEDS_CSUM, csum_start: 34, csum_offset: 16, ..NetHeader::default() });
        // What the device does: sum from csum_start, store the complement.
        let sum = checksum::finish(checksum::data(&frame[34..]));
        frame[50..52].copy_from_slice(&sum.to_be_bytes());
        let tcp = TcpPacket::new_checked(&frame[34..]).unwrap();
        assert!(tcp.verify_checksum(&IpAddress::V4(SRC), &IpAddress::V4(DST)), "the completed checksum is right");
    }

    #[test]
    fn a_long_segment_is_marked_for_segmentation() {
        let mut frame = tcp_frame(3000);
        let h = NetHeader::for_transmit(&mut frame, true, Some(1460));
        assert_eq!((h.flags, h.gso_type, h.gso_size, h.hdr_len), (NEEDS_CSUM, GSO_TCPV4, 1460, 54));
        // One MSS or less: nothing to cut.
        let mut frame = tcp_frame(1460);
        let h = NetHeader::for_transmit(&mut frame, true, Some(1460));
        assert_eq!((h.gso_type, h.gso_size, h.hdr_len), (GSO_NONE, 0, 0));
    }

    #[test]
    fn other_frames_go_as_built() {
        let mut frame = tcp_frame(10);
        let before = frame.clone();
        assert_eq!(NetHeader::for_transmit(&mut frame, false, Some(1000)), NetHeader::default());
        assert_eq!(frame, before, "no offload: untouched");
        // UDP, a fragment, a truncated frame, ARP: untouched, plain header.
        let mut udp = tcp_frame(10);
        udp[14 + 9] = 17;
        let mut fragment = tcp_frame(10);
        fragment[14 + 6] = 0x20;
        let mut short = tcp_frame(10);
        short.truncate(40);
        let mut arp = tcp_frame(10);
        arp[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
        let mut tiny = vec![0u8; 5];
        for frame in [&mut udp, &mut fragment, &mut short, &mut arp, &mut tiny] {
            let before = frame.clone();
            assert_eq!(NetHeader::for_transmit(frame, true, Some(1000)), NetHeader::default());
            assert_eq!(*frame, before);
        }
    }
}
