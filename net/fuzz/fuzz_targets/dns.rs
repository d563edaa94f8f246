//! DNS: a message (the UDP payload). Walking the entries of any message
//! ends (compression loops included) without panicking, checked or not.
//! For a message that checks, every name is copied into a buffer of the
//! longest text name and compared back, the header round-trips, and a
//! query for each printable name emits and parses back to that name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use net::wire::dns::{Entry, Name, Packet, QueryRepr, RecordData, Repr, Type, HEADER_LEN, MAX_NAME_TEXT_LEN};
use net::wire::Error;

/// Flag bits the header Repr keeps (Z, AD and CD are dropped).
const KEPT_FLAGS: u16 = 0xff8f;

fn check_name(name: &Name<'_>) {
    assert!(name.eq_name(name));
    let _ = (name.is_root(), format!("{name:?}"));
    let mut wire_len = 1;
    for label in name.labels() {
        assert!(!label.is_empty() && label.len() <= 63);
        wire_len += 1 + label.len();
    }
    assert!(wire_len <= 255);
    let mut text = [0u8; MAX_NAME_TEXT_LEN];
    match name.copy_text(&mut text) {
        Ok(text) => {
            assert!(name.eq_text(text), "{name:?} != {text}");
            if !text.is_empty() {
                round_trip_query(name, text);
            }
        }
        // Names that fit the wire always fit the longest text buffer.
        Err(e) => assert_eq!(e, Error::Unsupported),
    }
}

fn round_trip_query(name: &Name<'_>, text: &str) {
    let query = QueryRepr { id: 0x1234, name: text, qtype: Type::A };
    let len = query.buffer_len().expect("a parsed name is a valid query name");
    let mut out = vec![0u8; len];
    assert_eq!(query.emit(&mut Packet::new_unchecked(&mut out[..])), Ok(len));
    let packet = Packet::new_checked(&out[..]).expect("emitted query checks");
    let mut entries = packet.entries();
    match entries.next() {
        Some(Ok(Entry::Question(q))) => {
            assert!(q.name.eq_name(name));
            assert_eq!(q.qtype, Type::A);
        }
        other => panic!("query question: {other:?}"),
    }
    assert!(entries.next().is_none());
}

fuzz_target!(|data: &[u8]| {
    // The walk is bounded even on messages that do not check.
    if data.len() >= HEADER_LEN {
        let unchecked = Packet::new_unchecked(data);
        let mut n = 0usize;
        for entry in unchecked.entries() {
            n += 1;
            if entry.is_err() {
                break;
            }
        }
        assert!(n <= 4 * 65535);
    }

    let Ok(packet) = Packet::new_checked(data) else { return };
    let _ = (packet.authoritative(), packet.truncated(), packet.recursion_desired());
    let _ = (packet.recursion_available(), packet.opcode(), packet.rcode());
    for entry in packet.entries() {
        match entry.expect("checked message walks without error") {
            Entry::Question(q) => check_name(&q.name),
            Entry::Record(_, r) => {
                check_name(&r.name);
                if let RecordData::Cname(target) = r.data {
                    check_name(&target);
                }
            }
        }
    }

    let repr = Repr::parse(&packet).expect("checked message parses");
    let mut out = [0u8; HEADER_LEN];
    repr.emit(&mut Packet::new_unchecked(&mut out[..])).expect("header emits");
    let emitted = Packet::new_unchecked(&out[..]);
    assert_eq!(emitted.id(), packet.id());
    assert_eq!(emitted.flags(), packet.flags() & KEPT_FLAGS);
    assert_eq!(&out[4..], &data[4..HEADER_LEN]);
});
