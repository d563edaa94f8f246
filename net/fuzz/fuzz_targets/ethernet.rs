//! Ethernet/VLAN: parse arbitrary bytes; a frame that parses must emit back
//! to exactly the same bytes (every header bit is represented).
#![no_main]

use libfuzzer_sys::fuzz_target;
use net::wire::ethernet::{Frame, Repr};

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = Frame::new_checked(data) else { return };
    let _ = (frame.dst_addr(), frame.src_addr(), frame.ethertype(), frame.vlan_tag());
    let _ = (frame.payload_ethertype(), frame.payload_offset());
    let payload = frame.payload();
    let repr = Repr::parse(&frame).expect("a checked frame parses");

    let mut out = vec![0u8; repr.buffer_len(payload.len())];
    let mut emitted = Frame::new_unchecked(&mut out[..]);
    repr.emit(&mut emitted);
    emitted.payload_mut().copy_from_slice(payload);
    assert_eq!(out, data);
    assert_eq!(Repr::parse(&Frame::new_checked(&out[..]).unwrap()).unwrap(), repr);
});
