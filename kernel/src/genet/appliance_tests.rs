//! The appliance served through the GENET driver and the register model:
//! a second `net` stack pings it over a wire whose far end is the model
//! (frames the model sends go on the wire, frames from the wire are
//! delivered into its receive ring).
use super::model::*;
use super::*;
use crate::appliance::{Appliance, NicReport, Settings, Storage};
use crate::bootargs::{Address6Mode, AddressMode};
use net::iface::{Config, Interface, InterfaceStorage, NeighbourSlot, PendingSlot, ReassemblySlot};
use net::phy::{Device, DeviceCapabilities, Link, RxToken, TxToken};
use net::socket::icmp::{IcmpPacketMetadata, IcmpSocket};
use net::socket::{SocketSet, SocketStorage};
use net::storage::PacketBuffer;
use net::time::{Duration, Instant};
use net::wire::{EthernetAddress, IpAddress, Ipv4Address, Ipv4Cidr};
use std::cell::RefCell;
use std::rc::Rc;
use std::vec;
use std::vec::Vec;

const APPLIANCE_MAC: EthernetAddress = EthernetAddress([0xdc, 0xa6, 0x32, 0x0a, 0x0b, 0x0c]);
const APPLIANCE_IP: Ipv4Address = Ipv4Address::new(192, 168, 1, 250);
const CLIENT_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);
const CLIENT_IP: Ipv4Address = Ipv4Address::new(192, 168, 1, 2);

fn leak<T: Clone>(value: T, n: usize) -> &'static mut [T] {
    vec![value; n].leak()
}

#[test]
fn the_appliance_answers_pings_through_the_genet_driver() {
    let model = Rc::new(RefCell::new(Model::new()));
    let mut genet = Genet::new(
        ModelRegs(model.clone()),
        TestDma::new(RX_DMA_BASE),
        TestDma::new(TX_DMA_BASE),
        APPLIANCE_MAC,
        Some(1),
    )
    .expect("the driver starts");
    let mut at_us = 0;
    while !matches!(genet.link(), LinkState::Up(_)) {
        at_us = genet.poll_link(at_us);
        assert!(at_us < 10_000_000, "the link never came up");
    }

    let mut now = Instant::from_secs(1);
    let address = Ipv4Cidr::new(APPLIANCE_IP, 24).expect("prefix");
    let settings = Settings {
        mac: APPLIANCE_MAC,
        address: AddressMode::Static(address),
        gateway: Some(CLIENT_IP),
        seed: 7,
        fallback: address,
        fallback_gateway: CLIENT_IP,
        address6: Address6Mode::Slaac,
        gateway6: None,
    };
    let mut appliance = Appliance::new(settings, Storage::allocate(), now);

    let mut client = Interface::new(
        Config::new(CLIENT_MAC),
        InterfaceStorage {
            neighbours: leak(NeighbourSlot::EMPTY, 4),
            pending_slots: leak(PendingSlot::EMPTY, 8),
            pending_bytes: leak(0u8, 16384),
            reassembly_slots: leak(ReassemblySlot::EMPTY, 2),
            reassembly_bytes: leak(0u8, 2 * 65536),
        },
    );
    client.add_address(Ipv4Cidr::new(CLIENT_IP, 24).expect("prefix")).expect("address");
    let mut sockets = SocketSet::new(Vec::from_iter((0..2).map(|_| SocketStorage::EMPTY)).leak());
    let mut icmp = IcmpSocket::new(
        PacketBuffer::new(leak(IcmpPacketMetadata::EMPTY, 4), leak(0u8, 65536)),
        PacketBuffer::new(leak(IcmpPacketMetadata::EMPTY, 4), leak(0u8, 65536)),
    );
    icmp.bind(0x4242).expect("bind");
    let icmp = sockets.add(icmp);

    let link = Link::with_capacity(256, DeviceCapabilities::ethernet());
    let (mut wire, mut client_end) = link.ends();
    let (mut frames_in, mut frames_out) = (0u64, 0u64);
    // Small and fragmented (3 frames each way) echo requests.
    for (seq, size) in [(1u16, 56usize), (2, 4000), (3, 1472), (4, 2000)] {
        let data: Vec<u8> = (0..size).map(|i| (i * 13 + seq as usize) as u8).collect();
        sockets.get_mut::<IcmpSocket>(icmp).send_echo(APPLIANCE_IP, seq, &data).expect("send");
        let mut reply = None;
        for _ in 0..50 {
            genet.acknowledge_interrupt();
            appliance.poll(now, &mut genet, NicReport::default());
            model.borrow_mut().send(genet.buffers().1, usize::MAX);
            for (frame, _) in model.borrow_mut().sent.drain(..) {
                wire.transmit(now).expect("wire room").consume(frame.len(), |b| b.copy_from_slice(&frame));
                frames_out += 1;
            }
            client.poll(now, &mut client_end, &mut sockets);
            while let Some((rx, _)) = wire.receive(now) {
                let frame = rx.consume(|f| f.to_vec());
                assert!(model.borrow_mut().deliver(genet.buffers().0, &frame), "the receive ring is full");
                frames_in += 1;
            }
            let mut buf = vec![0u8; 65536];
            if let Ok(r) = sockets.get_mut::<IcmpSocket>(icmp).recv_echo_reply(&mut buf) {
                reply = Some((r.src, r.seq_no, buf[..r.len].to_vec()));
                break;
            }
            now += Duration::from_millis(1);
        }
        assert_eq!(reply, Some((IpAddress::V4(APPLIANCE_IP), seq, data)), "echo {seq} of {size} bytes");
    }
    // Completions are reaped when the driver next looks for transmit room.
    assert!(genet.transmit(now).is_some());
    let counters = genet.counters();
    // ARP, then echo requests of 1, 3 (4000 bytes), 1 and 2 frames, answered alike.
    assert!(frames_in >= 8 && frames_out >= 8, "{frames_in} frames in, {frames_out} out");
    assert_eq!((counters.rx_frames, counters.tx_frames, counters.tx_completed), (frames_in, frames_out, frames_out));
    assert_eq!((counters.rx_errors, counters.tx_errors, counters.tx_ring_full), (0, 0, 0));
}
