//! Simulation: two interfaces on an in-memory link (`phy::Link`) whose ends
//! drop, duplicate, reorder and corrupt frames (`phy::FaultInjector`).
//! UDP datagrams up to 4000 bytes (so mostly fragmented) and pings go back
//! and forth, over IPv4 and over IPv6; whatever arrives must be intact, and
//! enough must arrive.

mod common;

use common::*;
use net::iface::{Ipv6Config, NdpSlot};
use net::phy::{DeviceCapabilities, FaultConfig, FaultInjector, FrameQueue, Link};
use net::socket::icmp::IcmpSocket;
use net::socket::udp::UdpSocket;
use net::time::{Duration, Instant};
use net::wire::{IpAddress, IpEndpoint, Ipv6Address};

/// The datagram for sequence number `seq`: its number, then a pattern
/// derived from it, `len` bytes in all.
fn datagram(seq: u32, len: usize) -> Vec<u8> {
    let mut d = seq.to_be_bytes().to_vec();
    d.extend((4..len.max(4)).map(|i| (i as u32).wrapping_mul(seq | 1) as u8));
    d
}

fn faults() -> FaultConfig {
    FaultConfig {
        drop_ppm: 20_000,
        duplicate_ppm: 20_000,
        reorder_ppm: 50_000,
        corrupt_ppm: 20_000,
        ..FaultConfig::clean()
    }
}

fn simulate(seed: u64, ipv6: bool) {
    let caps = DeviceCapabilities::ethernet();
    let len = Link::<Vec<u8>>::storage_len(64, &caps);
    let link = Link::new(vec![0u8; len], vec![0u8; len], caps);
    let (end_a, end_b) = link.ends();
    let queue = FrameQueue::storage_len(64, caps.max_frame_len() + 4);
    let mut dev_a = FaultInjector::new(end_a, vec![0u8; queue], vec![0u8; queue], seed);
    let mut dev_b = FaultInjector::new(end_b, vec![0u8; queue], vec![0u8; queue], seed ^ 0xdead_beef);
    for dev in [&mut dev_a, &mut dev_b] {
        dev.set_rx_faults(faults());
        dev.set_tx_faults(faults());
    }

    let (mut a, mut b) = (interface(MAC_A, "10.0.0.1/24"), interface(MAC_B, "10.0.0.2/24"));
    let (mut sa, mut sb) = (socket_set(), socket_set());
    let ua = sa.add(udp_socket());
    let ping = sa.add(icmp_socket());
    let ub = sb.add(udp_socket());
    sa.get_mut::<UdpSocket>(ua).bind(1000).unwrap();
    sa.get_mut::<IcmpSocket>(ping).bind(7).unwrap();
    sb.get_mut::<UdpSocket>(ub).bind(2000).unwrap();
    let b_addr = if ipv6 {
        let quiet = Ipv6Config { dad_transmits: 0, router_solicitations: false, ..Ipv6Config::new() };
        for (iface, addr) in [(&mut a, "fd00::1/64"), (&mut b, "fd00::2/64")] {
            iface.enable_ipv6(quiet, vec![NdpSlot::EMPTY; 4].leak(), Instant::ZERO);
            iface.add_ipv6_address(Instant::ZERO, addr.parse().unwrap()).unwrap();
        }
        IpAddress::V6(Ipv6Address::new(0xfd00, 0, 0, 0, 0, 0, 0, 2))
    } else {
        IpAddress::V4(IP_B)
    };
    let to_b = IpEndpoint::new(b_addr, 2000);

    let mut rng = seed | 1;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let (mut sent, mut echoed, mut pongs) = (0u32, 0u32, 0u32);
    let mut now = Instant::from_secs(1);
    for step in 0..3000u32 {
        if step % 10 == 0 && sent < 200 {
            let size = 4 + next(4000) as usize;
            if sa.get_mut::<UdpSocket>(ua).send_slice(&datagram(sent, size), to_b).is_ok() {
                sent += 1;
            }
            let _ = sa.get_mut::<IcmpSocket>(ping).send_echo(b_addr, step as u16, &datagram(step, 64));
        }
        a.poll(now, &mut dev_a, &mut sa);
        b.poll(now, &mut dev_b, &mut sb);
        // B echoes what it gets.
        let sock = sb.get_mut::<UdpSocket>(ub);
        let mut buf = vec![0u8; 5000];
        while let Ok((n, from)) = sock.recv_slice(&mut buf) {
            let _ = sock.send_slice(&buf[..n], from);
        }
        // A checks every echo it gets.
        let sock = sa.get_mut::<UdpSocket>(ua);
        while let Ok((n, from)) = sock.recv_slice(&mut buf) {
            assert_eq!(from, to_b);
            assert!(n >= 4);
            let seq = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
            assert_eq!(&buf[..n], &datagram(seq, n)[..], "seed {seed:#x}: datagram {seq} damaged");
            echoed += 1;
        }
        let icmp = sa.get_mut::<IcmpSocket>(ping);
        while let Ok(reply) = icmp.recv_echo_reply(&mut buf) {
            assert_eq!(&buf[..reply.len], &datagram(u32::from(reply.seq_no), 64)[..]);
            pongs += 1;
        }
        now += Duration::from_millis(10);
    }
    let corrupted = dev_a.rx_counters().corrupted + dev_b.rx_counters().corrupted;
    assert!(corrupted > 0, "the link did corrupt frames");
    // A frame is lost or corrupted with about 8% chance per hop (4% at each
    // of two fault stages) and an echo of two 4000-byte datagrams needs up
    // to six frames: about three quarters come back (the reassembly slots
    // of lost datagrams must be reclaimed for that; without eviction less
    // than half did).
    assert!(echoed >= sent * 6 / 10, "seed {seed:#x}: only {echoed} of {sent} echoed");
    assert!(pongs >= 160, "seed {seed:#x}: only {pongs} pongs");
    let caught = a.stats().ipv4.bad_checksum
        + b.stats().ipv4.bad_checksum
        + a.stats().udp.bad_checksum
        + b.stats().udp.bad_checksum
        + a.stats().icmp.bad_checksum
        + b.stats().icmp.bad_checksum
        + a.stats().icmpv6.bad_checksum
        + b.stats().icmpv6.bad_checksum;
    assert!(caught > 0, "corruption was caught by checksums");
}

#[test]
fn udp_and_ping_survive_a_lossy_corrupting_link() {
    for seed in [1, 0x5eed, 0xfeed_f00d] {
        simulate(seed, false);
    }
}

#[test]
fn udp_and_ping_over_ipv6_survive_a_lossy_corrupting_link() {
    for seed in [2, 0x5eed6, 0xfeed_f00e] {
        simulate(seed, true);
    }
}
