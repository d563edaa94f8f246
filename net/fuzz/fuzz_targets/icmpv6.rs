//! ICMPv6 and NDP: the first 32 bytes are the source and destination of the
//! pseudo-header, the rest a message. A message that parses (checksum
//! verified or not) must emit to one that parses back to the same meaning
//! (error quotes are bounded on emit; NDP emit drops unknown options).
//! Every NDP option of the message emits and parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use net::wire::icmpv6::{Packet, QuotedDatagram, Repr};
use net::wire::mld;
use net::wire::ndp::{self, NdpOption, NdpOptions};
use net::wire::Ipv6Address;

fn emit(repr: &Repr, src: &Ipv6Address, dst: &Ipv6Address) -> Vec<u8> {
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Packet::new_unchecked(&mut out[..]), src, dst, true);
    out
}

fn check_options(area: &[u8]) {
    for option in NdpOptions::new(area) {
        let Ok(option) = option else { return };
        let mut out = vec![0u8; option.buffer_len()];
        assert!(option.emit(&mut out).is_empty());
        let (again, rest) = NdpOption::parse(&out).expect("emitted option parses");
        assert!(rest.is_empty());
        assert_eq!(again, option);
    }
}

/// MLD: a query that parses emits (without its sources) to one that parses
/// back the same; a report's records iterate to its count.
fn check_mld(message: &[u8], src: &Ipv6Address, dst: &Ipv6Address) {
    if let Ok(query) = mld::Query::parse(message, src, dst, false) {
        let len = match query.version {
            mld::Version::V1 => mld::QUERY_V1_LEN,
            mld::Version::V2 => mld::QUERY_V2_MIN_LEN,
        };
        let mut out = vec![0u8; len];
        query.emit(&mut out, src, dst);
        let again = mld::Query::parse(&out, src, dst, true).expect("emitted query parses");
        assert_eq!(again, mld::Query { sources: 0, ..query });
    }
    if let Ok(report) = mld::Report::parse(message, src, dst, false) {
        assert_eq!(report.records().count(), report.len());
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 32 {
        return;
    }
    let (addrs, message) = data.split_at(32);
    let src = Ipv6Address::from_bytes(&addrs[..16]);
    let dst = Ipv6Address::from_bytes(&addrs[16..]);
    let Ok(packet) = Packet::new_checked(message) else { return };
    let _ = (packet.msg_type(), packet.msg_code(), packet.echo_ident(), packet.mtu(), packet.param_pointer());
    for fixed in [ndp::RS_LEN, ndp::RA_LEN, ndp::NS_LEN] {
        if let Some(area) = message.get(fixed..) {
            check_options(area);
        }
    }
    check_mld(message, &src, &dst);
    let verified = Repr::parse(&packet, &src, &dst, true);
    let Ok(repr) = Repr::parse(&packet, &src, &dst, false) else {
        assert!(verified.is_err());
        return;
    };
    if let Ok(v) = verified {
        assert_eq!(v, repr);
    }
    match repr {
        Repr::DstUnreachable { data, .. }
        | Repr::PacketTooBig { data, .. }
        | Repr::TimeExceeded { data, .. }
        | Repr::ParamProblem { data, .. } => {
            // At least 40 bytes (parse checks); the version may be anything.
            if let Ok(quote) = QuotedDatagram::parse(data) {
                assert_eq!(quote.payload.len() + 40, data.len());
            }
        }
        Repr::EchoRequest { .. } | Repr::EchoReply { .. } | Repr::Ndp(_) => {}
    }

    let out = emit(&repr, &src, &dst);
    let reparsed = Packet::new_checked(&out[..]).expect("emitted message checks");
    let again = Repr::parse(&reparsed, &src, &dst, true).expect("emitted message parses");
    match (again, repr) {
        (Repr::Ndp(a), Repr::Ndp(b)) => assert_eq!(a, b),
        _ => {
            assert_eq!(again.emitted_data(), repr.emitted_data());
            if repr.buffer_len() == message.len() {
                assert_eq!(again, repr);
                assert_eq!(out[0], message[0]);
            }
        }
    }
    assert_eq!(emit(&again, &src, &dst), out);
});
