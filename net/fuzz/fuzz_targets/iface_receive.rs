//! The interface's whole receive path: each input is one received
//! Ethernet frame, handed to `Interface::poll` of an interface at
//! 10.0.0.1/24 with a UDP echo socket on port 7, an ICMP socket, a DNS
//! resolver, a TCP listener on port 80 and a TCP socket on port 81. The
//! frame is polled in twice (the second time with the neighbour learnt
//! from the first, if any), and every frame the interface sends in answer
//! must parse with valid checksums.
#![no_main]

#[path = "../common/iface.rs"]
mod iface;

use iface::{drain_icmp, poll_and_check, tcp_app, udp_echo, with_stack, FuzzDevice};
use libfuzzer_sys::fuzz_target;
use net::time::Instant;

fuzz_target!(|data: &[u8]| {
    with_stack(
        false,
        |config| config.reply_to_broadcast_ping = true,
        |iface, sockets, handles| {
            let mut device = FuzzDevice::new();
            let mut now = Instant::from_millis(1);
            poll_and_check(iface, &mut device, sockets, now);
            for _ in 0..2 {
                device.rx.push_back(data.to_vec());
                poll_and_check(iface, &mut device, sockets, now);
                udp_echo(sockets, handles);
                drain_icmp(sockets, handles);
                tcp_app(sockets, handles);
                poll_and_check(iface, &mut device, sockets, now);
                now = now + net::time::Duration::from_millis(10);
            }
        },
    );
});
