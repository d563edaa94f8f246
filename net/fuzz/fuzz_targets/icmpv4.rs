//! ICMPv4: parse arbitrary bytes (checksum verified or not); a message that
//! parses must emit to one that parses back to the same meaning (error
//! quotes are bounded on emit, so compare what emit writes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use net::wire::icmpv4::{Packet, QuotedDatagram, Repr};

fn emit(repr: &Repr) -> Vec<u8> {
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Packet::new_unchecked(&mut out[..]), true);
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = Packet::new_checked(data) else { return };
    let _ = (packet.msg_type(), packet.msg_code(), packet.echo_ident(), packet.echo_seq_no());
    let _ = (packet.next_hop_mtu(), packet.param_pointer(), packet.data());
    let verified = Repr::parse(&packet, true);
    let Ok(repr) = Repr::parse(&packet, false) else {
        assert!(verified.is_err());
        return;
    };
    if let Ok(v) = verified {
        assert_eq!(v, repr);
    }
    match repr {
        Repr::DstUnreachable { data, .. } | Repr::TimeExceeded { data, .. } | Repr::ParamProblem { data, .. } => {
            let _ = QuotedDatagram::parse(data);
        }
        Repr::EchoRequest { .. } | Repr::EchoReply { .. } => {}
    }

    let out = emit(&repr);
    let reparsed = Packet::new_checked(&out[..]).expect("emitted message checks");
    let again = Repr::parse(&reparsed, true).expect("emitted message parses");
    assert_eq!(again.emitted_data(), repr.emitted_data());
    if repr.buffer_len() == data.len() {
        assert_eq!(again, repr);
    }
    assert_eq!(emit(&again), out);
});
