//! TCP: a segment from 10.0.0.1 to 10.0.0.2. Every option of the option
//! list is parsed alone, emitted and parsed back to itself. A segment that
//! parses (checksum ignored) emits, with a fresh checksum over the same
//! pseudo-header, to one that parses (checksum verified) to the same Repr
//! and carries the same payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use net::wire::tcp::{Packet as TcpPacket, Repr as TcpRepr, TcpOption, MAX_HEADER_LEN};
use net::wire::{IpAddress, Ipv4Address};

const SRC: IpAddress = IpAddress::V4(Ipv4Address([10, 0, 0, 1]));
const DST: IpAddress = IpAddress::V4(Ipv4Address([10, 0, 0, 2]));

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = TcpPacket::new_checked(data) else { return };
    let _ = (packet.seq_number(), packet.ack_number(), packet.window_len(), packet.urgent_at());
    let _ = (packet.checksum(), packet.segment_len(), format!("{:?}", packet.flags()));
    assert!(packet.header_len() <= MAX_HEADER_LEN);
    assert_eq!(packet.options().len() + packet.payload().len() + 20, data.len());

    // Each option alone: emit then parse gives it back.
    let mut options = packet.options();
    while !options.is_empty() {
        let Ok((rest, option)) = TcpOption::parse(options) else { break };
        assert!(rest.len() < options.len());
        let mut out = [0u8; 40];
        let len = option.buffer_len();
        assert!(len <= 40);
        let left = option.emit(&mut out[..len]);
        assert!(left.is_empty());
        match option {
            TcpOption::EndOfList => break,
            _ => {
                let (_, back) = TcpOption::parse(&out[..len]).expect("emitted option parses");
                assert_eq!(back, option);
            }
        }
        options = rest;
    }

    let verified = TcpRepr::parse(&packet, &SRC, &DST, true);
    let Ok(repr) = TcpRepr::parse(&packet, &SRC, &DST, false) else {
        assert!(verified.is_err());
        return;
    };
    if let Ok(v) = verified {
        assert_eq!(v, repr);
    }
    let _ = format!("{repr}");
    assert_eq!(repr.payload_len, packet.payload().len());
    assert!(repr.window_scale.is_none_or(|s| s <= 14));

    let mut out = vec![0u8; repr.buffer_len()];
    assert!(repr.header_len() <= MAX_HEADER_LEN);
    repr.emit(&mut TcpPacket::new_unchecked(&mut out[..]), &SRC, &DST, packet.payload(), true);
    let reparsed = TcpPacket::new_checked(&out[..]).expect("emitted segment checks");
    assert!(reparsed.verify_checksum(&SRC, &DST));
    let back = TcpRepr::parse(&reparsed, &SRC, &DST, true).expect("emitted segment parses");
    assert_eq!(back, repr);
    assert_eq!(reparsed.payload(), packet.payload());
    assert_eq!(reparsed.segment_len(), repr.segment_len());
});
