//! A register-level model of a GENET v5 with a BCM54213PE on its MDIO bus,
//! for host tests: it keeps the register file, answers MDIO frames after a
//! few busy polls, runs auto-negotiation, writes received frames into the
//! buffers the receive descriptors point at and moves its producer index,
//! and reads transmitted frames from the buffers the transmit descriptors
//! point at when the test lets it send. Its indices start where a previous
//! owner left them and cannot be reset, as on the real device.
use super::phy::*;
use super::regs::*;
use super::{DmaBuffers, Registers, BUFFER_LEN, RING_SIZE};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::vec;
use std::vec::Vec;

/// Where the test's receive buffers are (above 4 GiB, so the high address
/// word matters) and its transmit buffers.
pub const RX_DMA_BASE: u64 = 0x1_2000_0000;
pub const TX_DMA_BASE: u64 = 0x3000_0000;
/// Index values a previous owner left behind, close to the 16-bit wrap.
pub const FIRMWARE_RX_PRODUCER: u16 = 0xfff0;
pub const FIRMWARE_TX_CONSUMER: u16 = 0xfffa;
/// BMSR's capability bits (10/100 half/full, autoneg, extended status).
const BMSR_CAPABILITIES: u16 = 0x7949 & !(BMSR_LSTATUS | BMSR_ANEGCOMPLETE);
/// Busy polls an MDIO frame takes in the model.
const MDIO_BUSY_POLLS: u32 = 2;

/// DMA memory the test owns: one buffer per descriptor.
pub struct TestDma {
    base: u64,
    buffers: Vec<[u8; BUFFER_LEN]>,
    pub synced_for_device: usize,
    pub synced_for_cpu: usize,
}

impl TestDma {
    pub fn new(base: u64) -> TestDma {
        TestDma { base, buffers: vec![[0xaa; BUFFER_LEN]; RING_SIZE], synced_for_device: 0, synced_for_cpu: 0 }
    }

    /// The buffer a bus address names (it must be a buffer's start).
    fn index_of(&self, address: u64) -> usize {
        let offset = address.checked_sub(self.base).expect("descriptor address below the DMA buffers");
        assert_eq!(offset % BUFFER_LEN as u64, 0, "descriptor address {address:#x} not at a buffer start");
        let index = (offset / BUFFER_LEN as u64) as usize;
        assert!(index < RING_SIZE, "descriptor address {address:#x} beyond the DMA buffers");
        index
    }
}

impl DmaBuffers for TestDma {
    fn bus_address(&self, index: usize) -> u64 {
        self.base + (index * BUFFER_LEN) as u64
    }
    fn buffer(&mut self, index: usize) -> &mut [u8] {
        &mut self.buffers[index]
    }
    fn for_device(&mut self, _index: usize, _len: usize) {
        self.synced_for_device += 1;
    }
    fn for_cpu(&mut self, _index: usize, _len: usize) {
        self.synced_for_cpu += 1;
    }
}

/// One register access or delay, in the order the driver made them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read(usize, u32),
    Write(usize, u32),
    Delay(u32),
}

/// The PHY and the cable behind it.
pub struct PhyModel {
    pub address: u8,
    regs: [u16; 32],
    /// AUX_CTL misc shadow, and whether a read selected it.
    pub aux_misc: u16,
    aux_misc_selected: bool,
    /// 0x1C shadows, and the one a read selected.
    pub shadow_1c: [u16; 32],
    shadow_selected: usize,
    /// BMCR writes with the reset bit (the driver must not reset: it
    /// would undo the clock delays).
    pub resets: u32,
    /// BMSR reads until auto-negotiation completes (after a restart).
    pub negotiation_reads: u32,
    negotiating: Option<u32>,
    pub cable: bool,
    /// What the link partner advertises (LPA, STAT1000).
    pub partner_lpa: u16,
    pub partner_1000: u16,
}

impl PhyModel {
    /// A BCM54213PE at `address` with a gigabit partner on the cable.
    pub fn bcm54213pe(address: u8) -> PhyModel {
        let mut regs = [0; 32];
        regs[BMCR as usize] = 0x1140;
        regs[BMSR as usize] = BMSR_CAPABILITIES;
        regs[PHYSID1 as usize] = 0x600d;
        regs[PHYSID2 as usize] = 0x84a2;
        let mut shadow_1c = [0; 32];
        // Out of reset: transmit clock delay on, receive skew off.
        shadow_1c[SHADOW_CLOCK_CONTROL as usize] = CLOCK_GTXCLK_DELAY | 0x0001;
        PhyModel {
            address,
            regs,
            aux_misc: 0x0000,
            aux_misc_selected: false,
            shadow_1c,
            shadow_selected: 0,
            resets: 0,
            negotiation_reads: 3,
            negotiating: None,
            cable: true,
            partner_lpa: ADVERTISE_ALL_10_100,
            partner_1000: STAT1000_PARTNER_FULL | STAT1000_PARTNER_HALF,
        }
    }

    pub fn set_id(&mut self, id: u32) {
        self.regs[PHYSID1 as usize] = (id >> 16) as u16;
        self.regs[PHYSID2 as usize] = id as u16;
    }

    fn complete(&self) -> bool {
        self.cable && self.negotiating == Some(0)
    }

    fn read(&mut self, register: u8) -> u16 {
        match register {
            AUX_CTL if self.aux_misc_selected => self.aux_misc | AUX_MISC,
            SHADOW_1C => (self.shadow_selected as u16) << 10 | self.shadow_1c[self.shadow_selected],
            BMSR => {
                if let Some(left) = self.negotiating.as_mut() {
                    *left = left.saturating_sub(1);
                }
                let up = if self.complete() { BMSR_LSTATUS | BMSR_ANEGCOMPLETE } else { 0 };
                BMSR_CAPABILITIES | up
            }
            LPA if self.complete() => self.partner_lpa,
            STAT1000 if self.complete() => self.partner_1000,
            LPA | STAT1000 => 0,
            r => self.regs[r as usize & 31],
        }
    }

    fn write(&mut self, register: u8, value: u16) {
        match register {
            AUX_CTL => {
                // Low three bits select the shadow; reads select with bits 14:12.
                self.aux_misc_selected = value == AUX_MISC_READ;
                if value & 0x7 == AUX_MISC && value & AUX_MISC_WRITE_ENABLE != 0 {
                    self.aux_misc = value & !(AUX_MISC_WRITE_ENABLE | 0x7);
                }
            }
            SHADOW_1C => {
                let shadow = (value >> 10 & 0x1f) as usize;
                if value & SHADOW_WRITE != 0 {
                    self.shadow_1c[shadow] = value & SHADOW_DATA_MASK;
                } else {
                    self.shadow_selected = shadow;
                }
            }
            BMCR => {
                if value & 0x8000 != 0 {
                    self.resets += 1;
                    self.negotiating = None;
                    return;
                }
                if value & BMCR_ANRESTART != 0 {
                    self.negotiating = Some(self.negotiation_reads);
                }
                self.regs[BMCR as usize] = value & !BMCR_ANRESTART;
            }
            r => self.regs[r as usize & 31] = value,
        }
    }
}

pub struct Model {
    /// False: nothing answers at the address (reads 0, writes vanish).
    present: bool,
    regs: BTreeMap<usize, u32>,
    pub log: Vec<Access>,
    rx_producer: u16,
    rx_discards: u16,
    tx_consumer: u16,
    irq_status: u32,
    irq_mask: u32,
    mdio_busy: u32,
    mdio_result: u32,
    /// The MDIO controller never finishes a frame.
    pub mdio_dead: bool,
    pub phy: Option<PhyModel>,
    /// Frames sent, with their descriptor's length_status word.
    pub sent: Vec<(Vec<u8>, u32)>,
    pub delay_total_us: u64,
}

/// The driver's handle on the model.
#[derive(Clone)]
pub struct ModelRegs(pub Rc<RefCell<Model>>);

impl Registers for ModelRegs {
    fn read(&mut self, offset: usize) -> u32 {
        let mut model = self.0.borrow_mut();
        let value = model.read(offset);
        model.log.push(Access::Read(offset, value));
        value
    }
    fn write(&mut self, offset: usize, value: u32) {
        let mut model = self.0.borrow_mut();
        model.log.push(Access::Write(offset, value));
        model.write(offset, value);
    }
    fn delay_us(&mut self, us: u32) {
        let mut model = self.0.borrow_mut();
        model.log.push(Access::Delay(us));
        model.delay_total_us += us as u64;
    }
}

impl Model {
    /// A GENET v5 with a BCM54213PE at MDIO address 1.
    pub fn new() -> Model {
        Model {
            present: true,
            regs: BTreeMap::new(),
            log: Vec::new(),
            rx_producer: FIRMWARE_RX_PRODUCER,
            rx_discards: 0,
            tx_consumer: FIRMWARE_TX_CONSUMER,
            irq_status: 0,
            irq_mask: u32::MAX,
            mdio_busy: 0,
            mdio_result: 0,
            mdio_dead: false,
            phy: Some(PhyModel::bcm54213pe(1)),
            sent: Vec::new(),
            delay_total_us: 0,
        }
    }

    /// Nothing at the address, as under QEMU's `raspi4b`.
    pub fn absent() -> Model {
        Model { present: false, phy: None, ..Model::new() }
    }

    /// Sets a register as firmware (or a previous owner) left it.
    pub fn preset(&mut self, offset: usize, value: u32) {
        self.regs.insert(offset, value);
    }

    pub fn reg(&self, offset: usize) -> u32 {
        self.regs.get(&offset).copied().unwrap_or(0)
    }

    pub fn writes(&self) -> Vec<(usize, u32)> {
        self.log
            .iter()
            .filter_map(|a| match a {
                Access::Write(o, v) => Some((*o, *v)),
                _ => None,
            })
            .collect()
    }

    fn read(&mut self, offset: usize) -> u32 {
        if !self.present {
            return 0;
        }
        match offset {
            SYS_REV_CTRL => 0x0600_0000,
            o if o == RX_RING + RING_PROD_CONS => (self.rx_discards as u32) << DISCARD_SHIFT | self.rx_producer as u32,
            o if o == TX_RING + RING_PROD_CONS => self.tx_consumer as u32,
            MDIO_CMD if self.mdio_busy > 0 => {
                self.mdio_busy -= 1;
                self.mdio_result | MDIO_START_BUSY
            }
            MDIO_CMD => self.mdio_result,
            INTRL2_CPU_STAT => self.irq_status,
            INTRL2_CPU_MASK_STATUS => self.irq_mask,
            o => self.reg(o),
        }
    }

    fn write(&mut self, offset: usize, value: u32) {
        if !self.present {
            return;
        }
        match offset {
            // The device's own indices: writes do not move them.
            o if o == RX_RING + RING_PROD_CONS || o == TX_RING + RING_PROD_CONS => {}
            MDIO_CMD => self.mdio(value),
            INTRL2_CPU_CLEAR => self.irq_status &= !value,
            INTRL2_CPU_MASK_SET => self.irq_mask |= value,
            INTRL2_CPU_MASK_CLEAR => self.irq_mask &= !value,
            o => {
                self.regs.insert(o, value);
            }
        }
    }

    fn mdio(&mut self, command: u32) {
        self.mdio_result = command & !MDIO_START_BUSY;
        if command & MDIO_START_BUSY == 0 {
            return;
        }
        if self.mdio_dead {
            self.mdio_busy = u32::MAX;
            return;
        }
        self.mdio_busy = MDIO_BUSY_POLLS;
        let address = (command >> MDIO_PHY_SHIFT & 0x1f) as u8;
        let register = (command >> MDIO_REG_SHIFT & 0x1f) as u8;
        let reading = command & (3 << 26) == MDIO_RD;
        let phy = self.phy.as_mut().filter(|p| p.address == address);
        self.mdio_result = match (phy, reading) {
            (Some(phy), true) => command & 0xffff_0000 & !MDIO_START_BUSY | phy.read(register) as u32,
            (Some(phy), false) => {
                phy.write(register, command as u16);
                command & !MDIO_START_BUSY
            }
            (None, true) => (command & 0xffff_0000 & !MDIO_START_BUSY) | MDIO_READ_FAIL | 0xffff,
            (None, false) => command & !MDIO_START_BUSY,
        };
    }

    fn dma_enabled(&self, dma: usize) -> bool {
        self.reg(dma + DMA_CTRL) & (DMA_EN | RING16_DMA_EN) == DMA_EN | RING16_DMA_EN
            && self.reg(dma + DMA_RING_CFG) & RING16_CFG != 0
    }

    fn descriptor_address(&self, base: usize, slot: usize) -> u64 {
        (self.reg(descriptor(base, slot, DESC_ADDRESS_HI)) as u64) << 32
            | self.reg(descriptor(base, slot, DESC_ADDRESS_LO)) as u64
    }

    /// A frame arrives from the wire; `status` adds error bits, `flags`
    /// replaces SOP|EOP. False if the MAC or DMA is off or the ring is full
    /// (then counted as a discard, as the device does).
    pub fn deliver_with(&mut self, dma: &mut TestDma, frame: &[u8], status: u32, flags: u32) -> bool {
        if !self.dma_enabled(RX_DMA) || self.reg(UMAC_CMD) & CMD_RX_EN == 0 {
            return false;
        }
        let consumer = self.reg(RX_RING + RING_CONS_PROD) as u16;
        if self.rx_producer.wrapping_sub(consumer) as usize >= RING_SIZE {
            self.rx_discards = self.rx_discards.wrapping_add(1);
            return false;
        }
        let slot = self.rx_producer as usize % RING_SIZE;
        let index = dma.index_of(self.descriptor_address(RX_DESCRIPTORS, slot));
        let buffer = dma.buffer(index);
        let len = frame.len() + RX_FRAME_OFFSET;
        buffer[..RX_FRAME_OFFSET].fill(0);
        buffer[RX_FRAME_OFFSET..len].copy_from_slice(frame);
        self.regs.insert(
            descriptor(RX_DESCRIPTORS, slot, DESC_LENGTH_STATUS),
            (len as u32) << DESC_LENGTH_SHIFT | flags | status,
        );
        self.rx_producer = self.rx_producer.wrapping_add(1);
        self.irq_status |= IRQ_RXDMA_DONE;
        true
    }

    pub fn deliver(&mut self, dma: &mut TestDma, frame: &[u8]) -> bool {
        self.deliver_with(dma, frame, 0, DESC_SOP | DESC_EOP)
    }

    /// The device sends up to `limit` queued frames; returns how many.
    pub fn send(&mut self, dma: &mut TestDma, limit: usize) -> usize {
        if !self.dma_enabled(TX_DMA) || self.reg(UMAC_CMD) & CMD_TX_EN == 0 {
            return 0;
        }
        let producer = self.reg(TX_RING + RING_CONS_PROD) as u16;
        let mut sent = 0;
        while sent < limit && self.tx_consumer != producer {
            let slot = self.tx_consumer as usize % RING_SIZE;
            let status = self.reg(descriptor(TX_DESCRIPTORS, slot, DESC_LENGTH_STATUS));
            let len = (status >> DESC_LENGTH_SHIFT & DESC_LENGTH_MASK) as usize;
            let index = dma.index_of(self.descriptor_address(TX_DESCRIPTORS, slot));
            self.sent.push((dma.buffer(index)[..len].to_vec(), status));
            self.tx_consumer = self.tx_consumer.wrapping_add(1);
            sent += 1;
        }
        if sent > 0 {
            self.irq_status |= IRQ_TXDMA_DONE;
        }
        sent
    }
}
