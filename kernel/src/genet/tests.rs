//! The driver against the register-level model: initialisation order,
//! absent and silent devices, auto-negotiation and link changes, receive in
//! sequence and across ring and index wrap, error descriptors, transmit
//! completion and a full ring.
use super::mdio::MdioError;
use super::model::*;
use super::phy::*;
use super::regs::*;
use super::*;
use net::phy::{Device, RxToken, TxToken};
use net::time::Instant;
use net::wire::EthernetAddress;
use std::cell::RefCell;
use std::rc::Rc;
use std::vec::Vec;

type Driver = Genet<ModelRegs, TestDma>;

const MAC: EthernetAddress = EthernetAddress([0xdc, 0xa6, 0x32, 0x01, 0x02, 0x03]);

fn now() -> Instant {
    Instant::from_micros(0)
}

fn start(model: Model, phy_address: Option<u8>) -> (Rc<RefCell<Model>>, Result<Driver, GenetError>) {
    let model = Rc::new(RefCell::new(model));
    let driver =
        Genet::new(ModelRegs(model.clone()), TestDma::new(RX_DMA_BASE), TestDma::new(TX_DMA_BASE), MAC, phy_address);
    (model, driver)
}

/// A driver whose link is up (the model's partner advertises everything).
fn up() -> (Rc<RefCell<Model>>, Driver) {
    let (model, driver) = start(Model::new(), Some(1));
    let mut driver = driver.expect("the driver starts");
    let mut at = 0;
    for _ in 0..10 {
        at = driver.poll_link(at);
        if matches!(driver.link(), LinkState::Up(_)) {
            return (model, driver);
        }
    }
    panic!("the link never came up");
}

/// A frame whose payload carries `seq`, `len` bytes long.
fn frame(seq: u32, len: usize) -> Vec<u8> {
    let mut f = Vec::with_capacity(len);
    f.extend_from_slice(&MAC.0);
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x09]);
    f.extend_from_slice(&[0x88, 0xb5]);
    f.extend_from_slice(&seq.to_be_bytes());
    while f.len() < len {
        f.push((f.len() as u32 ^ seq) as u8);
    }
    f
}

fn deliver(model: &Rc<RefCell<Model>>, driver: &mut Driver, f: &[u8]) -> bool {
    model.borrow_mut().deliver(driver.buffers().0, f)
}

fn receive_all(driver: &mut Driver) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    while let Some((rx, _tx)) = driver.receive(now()) {
        frames.push(rx.consume(|f| f.to_vec()));
    }
    frames
}

fn send(driver: &mut Driver, f: &[u8]) {
    let tx = driver.transmit(now()).expect("room to transmit");
    tx.consume(f.len(), |buffer| buffer.copy_from_slice(f));
}

/// Where `write` first appears in the model's write log.
fn position(writes: &[(usize, u32)], write: (usize, u32)) -> usize {
    writes.iter().position(|w| *w == write).unwrap_or_else(|| panic!("no write of {:#x} to {:#x}", write.1, write.0))
}

#[test]
fn initialisation_follows_the_reset_sequence() {
    let (model, driver) = start(Model::new(), Some(1));
    assert!(driver.is_ok());
    let model = model.borrow();
    let writes = model.writes();
    // Each write in this list happens, in this order.
    let order = [
        (SYS_PORT_CTRL, PORT_MODE_EXT_GPHY),
        (SYS_RBUF_FLUSH_CTRL, RBUF_FLUSH_RESET),
        (SYS_RBUF_FLUSH_CTRL, 0),
        (UMAC_CMD, 0),
        (UMAC_CMD, CMD_SW_RESET | CMD_LCL_LOOP_EN),
        (UMAC_MIB_CTRL, MIB_RESET_ALL),
        (UMAC_MIB_CTRL, 0),
        (UMAC_MAX_FRAME_LEN, 1536),
        (RBUF_CTRL, RBUF_ALIGN_2B),
        (RBUF_TBUF_SIZE_CTRL, 1),
        (EXT_RGMII_OOB_CTRL, RGMII_MODE_EN),
        (UMAC_MAC0, 0xdca6_3201),
        (UMAC_MAC1, 0x0203),
        (INTRL2_CPU_MASK_SET, u32::MAX),
        (INTRL2_CPU_CLEAR, u32::MAX),
        (TX_DMA + DMA_CTRL, 0),
        (RX_DMA + DMA_CTRL, 0),
        (UMAC_TX_FLUSH, 1),
        (UMAC_TX_FLUSH, 0),
        (descriptor(RX_DESCRIPTORS, 0, DESC_ADDRESS_LO), RX_DMA_BASE as u32),
        (descriptor(RX_DESCRIPTORS, 255, DESC_ADDRESS_HI), 1),
        (RX_RING + RING_END_ADDR, 767),
        (RX_RING + RING_CONS_PROD, FIRMWARE_RX_PRODUCER as u32),
        (RX_RING + RING_BUF_SIZE, 256 << 16 | 2048),
        (RX_DMA + DMA_RING_CFG, RING16_CFG),
        (TX_RING + RING_END_ADDR, 767),
        (TX_RING + RING_CONS_PROD, FIRMWARE_TX_CONSUMER as u32),
        (TX_RING + RING_BUF_SIZE, 256 << 16 | 2048),
        (TX_DMA + DMA_RING_CFG, RING16_CFG),
        (RX_DMA + DMA_CTRL, DMA_EN | RING16_DMA_EN),
        (TX_DMA + DMA_CTRL, DMA_EN | RING16_DMA_EN),
        (INTRL2_CPU_MASK_CLEAR, IRQ_RXDMA_DONE | IRQ_TXDMA_DONE),
    ];
    let positions: Vec<usize> = order.iter().map(|w| position(&writes, *w)).collect();
    for (pair, writes_pair) in positions.windows(2).zip(order.windows(2)) {
        assert!(pair[0] < pair[1], "{:x?} must come before {:x?}", writes_pair[0], writes_pair[1]);
    }
    // The reset pulse ends with UMAC_CMD at 0, before the counters are reset.
    let pulse = position(&writes, (UMAC_CMD, CMD_SW_RESET | CMD_LCL_LOOP_EN));
    assert_eq!(writes[pulse + 1], (UMAC_CMD, 0));
    assert!(model.log.contains(&model::Access::Delay(2)));
    // Every receive descriptor points at its own buffer.
    for slot in 0..RING_SIZE {
        let address = RX_DMA_BASE + (slot * BUFFER_LEN) as u64;
        assert_eq!(model.reg(descriptor(RX_DESCRIPTORS, slot, DESC_ADDRESS_LO)), address as u32);
        assert_eq!(model.reg(descriptor(RX_DESCRIPTORS, slot, DESC_ADDRESS_HI)), (address >> 32) as u32);
    }
    // After the DMA is on, the PHY gets its RGMII clock delays (receive
    // skew on, transmit delay off: the MAC delays transmit), then
    // negotiates; it is never reset. The MAC passes no frames before the link is up.
    let dma_on = position(&writes, (TX_DMA + DMA_CTRL, DMA_EN | RING16_DMA_EN));
    let mdio_write = |register: u8, value: u16| (MDIO_CMD, MDIO_WR | 1 << 21 | (register as u32) << 16 | value as u32);
    let skew = position(&writes, mdio_write(AUX_CTL, AUX_MISC_WRITE_ENABLE | AUX_MISC_RGMII_SKEW | AUX_MISC));
    let clock = position(&writes, mdio_write(SHADOW_1C, SHADOW_WRITE | SHADOW_CLOCK_CONTROL << 10 | 0x0001));
    let aneg = position(&writes, mdio_write(BMCR, BMCR_ANENABLE | BMCR_ANRESTART));
    assert!(dma_on < skew && skew < clock && clock < aneg);
    let phy = model.phy.as_ref().expect("a PHY");
    assert_eq!((phy.address, phy.resets), (1, 0));
    assert_eq!(phy.aux_misc & AUX_MISC_RGMII_SKEW, AUX_MISC_RGMII_SKEW);
    assert_eq!(phy.shadow_1c[SHADOW_CLOCK_CONTROL as usize] & CLOCK_GTXCLK_DELAY, 0);
    assert!(writes.iter().all(|&(o, v)| o != UMAC_CMD || v & (CMD_TX_EN | CMD_RX_EN) == 0));
    assert!(writes.iter().all(|&(o, v)| o != EXT_RGMII_OOB_CTRL || v & ID_MODE_DIS == 0));
}

#[test]
fn absent_device_is_reported_at_once() {
    let (model, driver) = start(Model::absent(), Some(1));
    assert_eq!(driver.err(), Some(GenetError::Absent { revision: 0 }));
    let model = model.borrow();
    assert_eq!(model.log, [model::Access::Read(SYS_REV_CTRL, 0)]);
    assert_eq!(model.delay_total_us, 0);
}

#[test]
fn silent_mdio_fails_within_a_bounded_wait() {
    let mut silent = Model::new();
    silent.mdio_dead = true;
    let (model, driver) = start(silent, Some(1));
    assert_eq!(driver.err(), Some(GenetError::NoPhy(MdioError::Timeout)));
    let model = model.borrow();
    // One MDIO frame's worth of polling, then the DMA goes off again.
    assert!(model.delay_total_us <= 2_000, "waited {} us", model.delay_total_us);
    assert_eq!(model.reg(RX_DMA + DMA_CTRL) & DMA_EN, 0);
    assert_eq!(model.reg(TX_DMA + DMA_CTRL) & DMA_EN, 0);
}

#[test]
fn no_phy_on_the_bus_is_an_error() {
    let mut lonely = Model::new();
    lonely.phy = None;
    let (_, driver) = start(lonely, None);
    assert_eq!(driver.err(), Some(GenetError::NoPhy(MdioError::ReadFail)));
}

#[test]
fn phy_is_found_at_the_fallback_address() {
    let mut model = Model::new();
    model.phy = Some(PhyModel::bcm54213pe(0));
    let (_, driver) = start(model, None);
    assert_eq!(driver.expect("starts").phy(), (0, 0x600d_84a2));
}

#[test]
fn autonegotiation_brings_the_link_up_at_gigabit() {
    let (model, driver) = start(Model::new(), Some(1));
    let mut driver = driver.expect("starts");
    assert_eq!(driver.link(), LinkState::Negotiating);
    assert_eq!(driver.poll_link(5), 5 + device::LINK_POLL_US);
    assert_eq!(driver.link(), LinkState::Negotiating);
    // Not due yet: no MDIO traffic at all.
    let accesses = model.borrow().log.len();
    assert_eq!(driver.poll_link(10), 5 + device::LINK_POLL_US);
    assert_eq!(model.borrow().log.len(), accesses);
    driver.poll_link(5 + device::LINK_POLL_US);
    assert_eq!(driver.link(), LinkState::Up(Link { mbps: 1000, full_duplex: true }));
    let model = model.borrow();
    let cmd = model.reg(UMAC_CMD);
    assert_eq!(cmd & CMD_SPEED_MASK, 2 << CMD_SPEED_SHIFT);
    assert_eq!(cmd & (CMD_TX_EN | CMD_RX_EN | CMD_HD_EN), CMD_TX_EN | CMD_RX_EN);
    let oob = model.reg(EXT_RGMII_OOB_CTRL);
    assert_eq!(oob & (RGMII_LINK | RGMII_MODE_EN | OOB_DISABLE), RGMII_LINK | RGMII_MODE_EN);
    assert_eq!(driver.counters().link_changes, 1);
}

#[test]
fn a_fast_ethernet_half_duplex_partner_sets_the_mac_to_match() {
    let mut slow = Model::new();
    if let Some(phy) = slow.phy.as_mut() {
        phy.partner_1000 = 0;
        phy.partner_lpa = ADVERTISE_100HALF | ADVERTISE_10FULL | 1;
    }
    let (model, driver) = start(slow, Some(1));
    let mut driver = driver.expect("starts");
    driver.poll_link(0);
    driver.poll_link(device::LINK_POLL_US);
    assert_eq!(driver.link(), LinkState::Up(Link { mbps: 100, full_duplex: false }));
    let cmd = model.borrow().reg(UMAC_CMD);
    assert_eq!(cmd & CMD_SPEED_MASK, 1 << CMD_SPEED_SHIFT);
    assert_ne!(cmd & CMD_HD_EN, 0);
}

#[test]
fn a_pulled_cable_takes_the_link_down() {
    let (model, mut driver) = up();
    if let Some(phy) = model.borrow_mut().phy.as_mut() {
        phy.cable = false;
    }
    driver.poll_link(100 * device::LINK_POLL_US);
    assert_eq!(driver.link(), LinkState::Down);
    assert_eq!(driver.counters().link_changes, 2);
    assert_eq!(model.borrow().reg(EXT_RGMII_OOB_CTRL) & RGMII_LINK, 0);
}

#[test]
fn frames_arrive_in_order_with_their_bytes() {
    let (model, mut driver) = up();
    let frames = [frame(1, 60), frame(2, 1514), frame(3, 342)];
    for f in &frames {
        assert!(deliver(&model, &mut driver, f));
    }
    assert_eq!(receive_all(&mut driver), frames);
    let counters = driver.counters();
    assert_eq!((counters.rx_frames, counters.rx_bytes, counters.rx_errors), (3, 60 + 1514 + 342, 0));
    assert_eq!(model.borrow().reg(RX_RING + RING_CONS_PROD), FIRMWARE_RX_PRODUCER as u32 + 3);
    assert_eq!(driver.buffers().0.synced_for_cpu, 3);
}

#[test]
fn a_frame_handed_to_the_stack_keeps_its_descriptor_until_the_next_call() {
    let (model, mut driver) = up();
    deliver(&model, &mut driver, &frame(7, 100));
    let (rx, _tx) = driver.receive(now()).expect("a frame");
    assert_eq!(rx.consume(|f| f.len()), 100);
    assert_eq!(model.borrow().reg(RX_RING + RING_CONS_PROD), FIRMWARE_RX_PRODUCER as u32);
    assert!(driver.receive(now()).is_none());
    assert_eq!(model.borrow().reg(RX_RING + RING_CONS_PROD), FIRMWARE_RX_PRODUCER as u32 + 1);
}

#[test]
fn receive_continues_across_ring_and_index_wrap() {
    let (model, mut driver) = up();
    let mut seq = 0;
    for round in 0..3 {
        let batch: Vec<Vec<u8>> = (0..200).map(|i| frame(seq + i, 64 + (round * 200 + i as usize) % 1400)).collect();
        seq += 200;
        for f in &batch {
            assert!(deliver(&model, &mut driver, f));
        }
        assert_eq!(receive_all(&mut driver), batch, "round {round}");
    }
    // 600 frames from 0xfff0: the 16-bit index wrapped, the ring twice.
    let consumer = FIRMWARE_RX_PRODUCER.wrapping_add(600);
    assert_eq!(model.borrow().reg(RX_RING + RING_CONS_PROD), consumer as u32);
    assert_eq!(driver.counters().rx_frames, 600);

    // A full ring: 256 frames fit, the 257th is the device's to drop.
    let full: Vec<Vec<u8>> = (0..256).map(|i| frame(1000 + i, 80)).collect();
    for f in &full {
        assert!(deliver(&model, &mut driver, f));
    }
    assert!(!deliver(&model, &mut driver, &frame(9999, 80)));
    assert_eq!(receive_all(&mut driver), full);
    assert_eq!(driver.counters().rx_no_buffer, 1);
}

#[test]
fn error_descriptors_are_counted_and_skipped() {
    let (model, mut driver) = up();
    let whole = DESC_SOP | DESC_EOP;
    let crc_error = 0x02;
    let overrun = 0x01;
    {
        let mut m = model.borrow_mut();
        let dma = driver.buffers().0;
        m.deliver_with(dma, &frame(1, 64), 0, whole);
        m.deliver_with(dma, &frame(2, 64), crc_error, whole);
        m.deliver_with(dma, &frame(3, 64), 0, whole);
        m.deliver_with(dma, &frame(4, 64), overrun, whole);
        m.deliver_with(dma, &frame(5, 64), 0, DESC_SOP); // no end of packet
        m.deliver_with(dma, &frame(6, 64)[..10], 0, whole); // shorter than a header
        m.deliver_with(dma, &frame(7, 64), 0, whole);
    }
    assert_eq!(receive_all(&mut driver), [frame(1, 64), frame(3, 64), frame(7, 64)]);
    assert_eq!(driver.counters().rx_errors, 4);
    assert_eq!(driver.counters().rx_frames, 3);
    assert_eq!(model.borrow().reg(RX_RING + RING_CONS_PROD), FIRMWARE_RX_PRODUCER as u32 + 7);
}

#[test]
fn transmitted_frames_complete_and_free_their_descriptors() {
    let (model, mut driver) = up();
    let frames = [frame(1, 42), frame(2, 100), frame(3, 1514)];
    for f in &frames {
        send(&mut driver, f);
    }
    assert_eq!(driver.ring_use().1, 3);
    assert!(model.borrow().sent.is_empty());
    assert_eq!(model.borrow().reg(TX_RING + RING_CONS_PROD), FIRMWARE_TX_CONSUMER as u32 + 3);
    assert_eq!(model.borrow_mut().send(driver.buffers().1, 10), 3);
    {
        let model = model.borrow();
        let flags = DESC_SOP | DESC_EOP | DESC_TX_APPEND_CRC | DESC_TX_QTAG;
        // The short frame is padded with zeros to 60 bytes.
        let mut padded = frames[0].clone();
        padded.resize(60, 0);
        assert_eq!(model.sent[0], (padded, 60 << 16 | flags));
        assert_eq!(model.sent[1], (frames[1].clone(), 100 << 16 | flags));
        assert_eq!(model.sent[2], (frames[2].clone(), 1514 << 16 | flags));
    }
    assert!(driver.transmit(now()).is_some());
    assert_eq!(driver.ring_use().1, 0);
    let counters = driver.counters();
    assert_eq!((counters.tx_frames, counters.tx_completed, counters.tx_errors), (3, 3, 0));
    assert_eq!(counters.tx_bytes, 42 + 100 + 1514);
    assert_eq!(driver.buffers().1.synced_for_device, 3);

    // 600 more, in batches, across the 16-bit wrap of the producer.
    for batch in 0..6u32 {
        for i in 0..100 {
            send(&mut driver, &frame(batch * 100 + i, 70));
        }
        assert_eq!(model.borrow_mut().send(driver.buffers().1, 100), 100);
    }
    let model = model.borrow();
    assert_eq!(model.sent.len(), 603);
    assert!(model.sent[3..].iter().enumerate().all(|(i, (f, _))| *f == frame(i as u32, 70)));
    assert_eq!(model.reg(TX_RING + RING_CONS_PROD), FIRMWARE_TX_CONSUMER.wrapping_add(603) as u32);
}

#[test]
fn a_full_transmit_ring_refuses_until_the_device_catches_up() {
    let (model, mut driver) = up();
    for i in 0..RING_SIZE as u32 {
        send(&mut driver, &frame(i, 64));
    }
    assert!(driver.transmit(now()).is_none());
    // A reply token handed out with a received frame drops its frame and counts it.
    deliver(&model, &mut driver, &frame(500, 64));
    let (_rx, tx) = driver.receive(now()).expect("a frame");
    tx.consume(64, |b| b.fill(1));
    assert_eq!(driver.counters().tx_ring_full, 1);
    assert_eq!(model.borrow_mut().send(driver.buffers().1, 10), 10);
    assert!(driver.transmit(now()).is_some());
    assert_eq!(driver.ring_use().1, RING_SIZE - 10);
}

#[test]
fn an_oversized_frame_is_counted_not_sent() {
    let (model, mut driver) = up();
    let tx = driver.transmit(now()).expect("room");
    tx.consume(1600, |b| b.fill(0));
    assert_eq!(driver.counters().tx_errors, 1);
    assert_eq!(driver.counters().tx_frames, 0);
    assert_eq!(model.borrow().reg(TX_RING + RING_CONS_PROD), FIRMWARE_TX_CONSUMER as u32);
}

#[test]
fn acknowledging_clears_the_pending_interrupts() {
    let (model, mut driver) = up();
    deliver(&model, &mut driver, &frame(1, 64));
    assert_eq!(driver.acknowledge_interrupt(), IRQ_RXDMA_DONE);
    assert_eq!(driver.acknowledge_interrupt(), 0);
    send(&mut driver, &frame(2, 64));
    model.borrow_mut().send(driver.buffers().1, 1);
    assert_eq!(driver.acknowledge_interrupt(), IRQ_TXDMA_DONE);
    assert_eq!(driver.counters().interrupts, 3);
}

#[test]
fn rgmii_settings_left_by_old_firmware_are_corrected() {
    let mut model = Model::new();
    model.preset(EXT_RGMII_OOB_CTRL, ID_MODE_DIS | OOB_DISABLE);
    let (model, driver) = start(model, Some(1));
    assert!(driver.is_ok());
    assert_eq!(model.borrow().reg(EXT_RGMII_OOB_CTRL), RGMII_MODE_EN);
}

#[test]
fn another_phy_gets_no_broadcom_shadow_writes() {
    let mut model = Model::new();
    if let Some(phy) = model.phy.as_mut() {
        phy.set_id(0x0022_1620); // some other vendor's gigabit PHY
    }
    let (model, driver) = start(model, Some(1));
    assert_eq!(driver.expect("starts").phy(), (1, 0x0022_1620));
    let writes = model.borrow().writes();
    let mdio_register = |v: u32| (v >> MDIO_REG_SHIFT & 0x1f) as u8;
    assert!(writes.iter().all(|&(o, v)| o != MDIO_CMD || !matches!(mdio_register(v), AUX_CTL | SHADOW_1C)));
}

#[test]
fn nothing_is_queued_for_transmit_without_a_link() {
    let (_, driver) = start(Model::new(), Some(1));
    let mut driver = driver.expect("starts");
    assert!(driver.transmit(now()).is_none());
    driver.poll_link(0);
    assert!(driver.transmit(now()).is_none(), "still negotiating");
    driver.poll_link(device::LINK_POLL_US);
    assert!(matches!(driver.link(), LinkState::Up(_)));
    assert!(driver.transmit(now()).is_some());
}
