//! UDP: the first 8 bytes are the IPv4 source and destination of the
//! pseudo-header, the rest a datagram. One that parses must emit (with a
//! fresh checksum) to a datagram that parses back to the same Repr.
#![no_main]

use libfuzzer_sys::fuzz_target;
use net::wire::udp::{Packet, Repr};
use net::wire::{IpAddress, Ipv4Address};

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (addrs, datagram) = data.split_at(8);
    let src = IpAddress::V4(Ipv4Address::from_bytes(&addrs[..4]));
    let dst = IpAddress::V4(Ipv4Address::from_bytes(&addrs[4..]));
    let Ok(packet) = Packet::new_checked(datagram) else { return };
    let _ = (packet.src_port(), packet.dst_port(), packet.len(), packet.checksum());
    let verified = Repr::parse(&packet, &src, &dst, true);
    let Ok(repr) = Repr::parse(&packet, &src, &dst, false) else {
        assert!(verified.is_err());
        return;
    };
    if let Ok(v) = verified {
        assert_eq!(v, repr);
    }

    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Packet::new_unchecked(&mut out[..]), &src, &dst, true);
    let reparsed = Packet::new_checked(&out[..]).expect("emitted datagram checks");
    assert_ne!(reparsed.checksum(), 0);
    assert_eq!(Repr::parse(&reparsed, &src, &dst, true).expect("emitted datagram parses"), repr);
    // The header and payload bytes are the received ones, checksum aside.
    assert_eq!(&out[..6], &datagram[..6]);
    assert_eq!(&out[8..], repr.payload);
});
