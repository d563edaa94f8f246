//! DHCPv4: a mode byte, then a message (the UDP payload). With the mode's
//! low bit set, the hardware type and length and the magic cookie are made
//! right first, so the fuzzer spends its time on the options. The view's
//! accessors and option walk never panic; a message whose Repr parses
//! emits to one that parses back to the same Repr, with the same fixed
//! header fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use net::wire::dhcpv4::{Packet, Repr, MAGIC_COOKIE, MIN_MESSAGE_LEN};

fuzz_target!(|input: &[u8]| {
    let Some((&mode, message)) = input.split_first() else { return };
    let mut message = message.to_vec();
    if mode & 1 != 0 && message.len() >= 240 {
        message[1..3].copy_from_slice(&[1, 6]);
        message[236..240].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    }
    let data = &message[..];
    let Ok(packet) = Packet::new_checked(data) else { return };
    let _ = (packet.opcode_raw(), packet.hardware_type(), packet.hardware_len(), packet.hops());
    let _ = (packet.transaction_id(), packet.secs(), packet.flags(), packet.broadcast_flag());
    let _ = (packet.client_ip(), packet.your_ip(), packet.server_ip(), packet.relay_agent_ip());
    let _ = (packet.client_hardware_address(), packet.magic_cookie());
    // new_checked walked the options: the walk ends without an error.
    for option in packet.options() {
        let option = option.expect("checked packet has well-formed options");
        assert!(option.data.len() <= 255);
    }

    let Ok(repr) = Repr::parse(&packet) else { return };
    let len = repr.buffer_len();
    assert!(len >= MIN_MESSAGE_LEN);
    // Emitting into a short buffer fails cleanly.
    let mut short = vec![0u8; len - 1];
    assert!(repr.emit(&mut Packet::new_unchecked(&mut short[..])).is_err());

    let mut out = vec![0xa5u8; len];
    repr.emit(&mut Packet::new_unchecked(&mut out[..])).expect("parsed repr emits");
    let reparsed = Packet::new_checked(&out[..]).expect("emitted message checks");
    let back = Repr::parse(&reparsed).expect("emitted message parses");
    assert_eq!(back, repr);
    assert_eq!(reparsed.transaction_id(), packet.transaction_id());
    assert_eq!(reparsed.client_hardware_address(), packet.client_hardware_address());
    assert_eq!(reparsed.your_ip(), packet.your_ip());
});
