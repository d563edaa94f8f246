//! IPv6: parse arbitrary bytes as a packet; a header that parses must emit
//! to exactly the received 40 bytes. The extension-header walk must end
//! (bounded chain) with offsets inside the payload; every option of a
//! hop-by-hop or destination-options header it passed emits and parses
//! back to itself, and a fragment header emits to the received bytes
//! (reserved bits aside).
#![no_main]

use libfuzzer_sys::fuzz_target;
use net::wire::ipv6::{Packet, Repr, HEADER_LEN};
use net::wire::ipv6ext::{self, ChainError, Header, MAX_HEADERS};
use net::wire::ipv6fragment;
use net::wire::ipv6option::{OptionRepr, Options};
use net::wire::IpProtocol;

/// Every option of an option area round-trips through emit and parse.
fn check_options(area: &[u8]) {
    for option in Options::new(area) {
        let Ok((at, repr)) = option else { return };
        assert!(at < area.len());
        let mut out = vec![0u8; repr.buffer_len()];
        assert!(repr.emit(&mut out).is_empty());
        let (again, rest) = OptionRepr::parse(&out).expect("emitted option parses");
        assert!(rest.is_empty());
        assert_eq!(again, repr);
        if !matches!(repr, OptionRepr::PadN(_)) {
            assert_eq!(&out[..], &area[at..at + out.len()]);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = Packet::new_checked(data) else { return };
    let _ = (packet.traffic_class(), packet.flow_label(), packet.hop_limit());
    let payload = packet.payload();
    assert_eq!(payload.len(), usize::from(packet.payload_len()));
    if let Ok(repr) = Repr::parse(&packet) {
        let mut out = vec![0u8; HEADER_LEN];
        repr.emit(&mut Packet::new_unchecked(&mut out[..]));
        assert_eq!(&out[..], &data[..HEADER_LEN]);
        assert_eq!(repr.buffer_len(), packet.datagram().len());
    }

    // Follow the chain by hand as far as the walk goes, checking each header.
    let multicast = packet.dst_addr().is_multicast();
    let result = ipv6ext::walk(payload, packet.next_header(), multicast);
    let (mut next, mut offset) = (packet.next_header(), 0usize);
    for _ in 0..MAX_HEADERS {
        match next {
            IpProtocol::HopByHop | IpProtocol::Ipv6Opts | IpProtocol::Ipv6Route => {
                let Ok(header) = Header::new_checked(&payload[offset..]) else { break };
                if next != IpProtocol::Ipv6Route {
                    check_options(header.data());
                }
                next = header.next_header();
                offset += header.header_len();
            }
            IpProtocol::Ipv6Frag => {
                let Ok(header) = ipv6fragment::Header::new_checked(&payload[offset..]) else { break };
                let repr = ipv6fragment::Repr::parse(&header).expect("checked header parses");
                let mut out = [0u8; ipv6fragment::HEADER_LEN];
                repr.emit(&mut ipv6fragment::Header::new_unchecked(&mut out[..]));
                let received = &payload[offset..offset + ipv6fragment::HEADER_LEN];
                assert_eq!((out[0], out[1], out[2]), (received[0], 0, received[2]));
                assert_eq!(out[3], received[3] & 0xf9);
                assert_eq!(out[4..], received[4..]);
                break;
            }
            _ => break,
        }
    }
    match result {
        Ok(chain) => {
            assert!(chain.upper_offset <= payload.len());
            assert!(chain.headers <= MAX_HEADERS);
            assert!(!matches!(chain.upper, IpProtocol::HopByHop | IpProtocol::Ipv6Opts | IpProtocol::Ipv6Route)
                || chain.fragment.is_some());
            assert!(chain.next_header_pointer < HEADER_LEN + payload.len().max(1));
            if let Some(frag) = chain.fragment {
                assert_eq!(chain.upper, frag.next_header);
                assert_eq!(chain.upper_offset, chain.fragment_offset + ipv6fragment::HEADER_LEN);
            }
        }
        Err(ChainError::ParamProblem { pointer, .. }) => {
            assert!((pointer as usize) < HEADER_LEN + payload.len());
        }
        Err(ChainError::Drop(_)) => {}
    }
});
