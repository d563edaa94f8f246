//! ARP: parse arbitrary bytes; an Ethernet/IPv4 packet that parses must
//! emit back to exactly its first 28 bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use net::wire::arp::{Packet, Repr};

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = Packet::new_checked(data) else { return };
    let _ = (packet.hardware_type(), packet.protocol_type(), packet.operation());
    let _ = (packet.source_hardware_addr(), packet.source_protocol_addr());
    let _ = (packet.target_hardware_addr(), packet.target_protocol_addr());
    let Ok(repr) = Repr::parse(&packet) else { return };

    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Packet::new_unchecked(&mut out[..]));
    assert_eq!(&out[..], &data[..repr.buffer_len()]);
    assert_eq!(Repr::parse(&Packet::new_checked(&out[..]).unwrap()).unwrap(), repr);
});
