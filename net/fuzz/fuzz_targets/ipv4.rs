//! IPv4: parse arbitrary bytes (checksum verified or not); a header that
//! parses must emit (without options, with a fresh checksum) to a packet
//! that parses to the same Repr and carries the same payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use net::wire::ipv4::{Packet, Repr};

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = Packet::new_checked(data) else { return };
    let _ = (packet.ident(), packet.dont_frag(), packet.more_frags(), packet.frag_offset());
    let _ = (packet.ttl(), packet.protocol(), packet.src_addr(), packet.dst_addr());
    let _ = (packet.options(), packet.is_fragment());
    let verified = Repr::parse(&packet, true);
    let Ok(repr) = Repr::parse(&packet, false) else {
        assert!(verified.is_err());
        return;
    };
    if let Ok(v) = verified {
        assert_eq!(v, repr);
    }
    let payload = packet.payload();
    assert_eq!(payload.len(), repr.payload_len);

    let mut out = vec![0u8; repr.buffer_len()];
    let mut emitted = Packet::new_unchecked(&mut out[..]);
    repr.emit(&mut emitted, true);
    emitted.payload_mut().copy_from_slice(payload);
    let reparsed = Packet::new_checked(&out[..]).expect("emitted header checks");
    assert_eq!(Repr::parse(&reparsed, true).expect("emitted header parses"), repr);
    assert_eq!(reparsed.payload(), payload);
});
