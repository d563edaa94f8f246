//! The controller: initialisation, the receive and transmit paths behind
//! `net::phy::Device`, interrupts and link supervision.
use super::mdio::MdioError;
use super::phy::{self, Link};
use super::regs::*;
use super::rings::{RxRing, TxRing};
use super::{DmaBuffers, Registers, BUFFER_LEN, RING_SIZE};
use alloc::boxed::Box;
use alloc::vec;
use log::{info, warn};
use net::phy::{Device, DeviceCapabilities, RxToken, TxToken};
use net::time::Instant;
use net::wire::EthernetAddress;

/// Shortest frame on the wire without its FCS: shorter ones are padded.
const MIN_FRAME_LEN: usize = 60;
/// Longest frame the driver sends, without the FCS the MAC appends.
const MAX_TX_LEN: usize = MAX_FRAME_LEN as usize - 4;
/// An Ethernet header: anything shorter received is an error.
const MIN_RX_LEN: usize = 14;
/// Room for any frame the stack could build, when it cannot be sent.
const DISCARD_LEN: usize = 65536 + 64;
/// PHY addresses tried when the device tree names none: the Pi 4's is 1.
const PHY_ADDRESSES: [u8; 2] = [1, 0];
/// How often the link is checked (the Pi 4's PHY has no interrupt line).
pub const LINK_POLL_US: u64 = 1_000_000;
/// XON/XOFF thresholds of the receive ring: pause at RING_SIZE / 16 free.
const RX_XON_XOFF: u32 = 5 << 16 | (RING_SIZE as u32 >> 4);

/// Why the controller could not be brought up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenetError {
    /// SYS_REV_CTRL does not read as GENET v5: nothing (or something else) is there.
    Absent { revision: u32 },
    /// No PHY answered on MDIO.
    NoPhy(MdioError),
}

impl core::fmt::Display for GenetError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            GenetError::Absent { revision } => write!(f, "no GENET v5 (SYS_REV_CTRL reads {revision:#010x})"),
            GenetError::NoPhy(MdioError::Timeout) => f.write_str("MDIO does not answer (no PHY reachable)"),
            GenetError::NoPhy(MdioError::ReadFail) => f.write_str("no PHY answers on MDIO"),
        }
    }
}

/// The link as the driver last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Auto-negotiation started, not yet complete.
    Negotiating,
    Up(Link),
    /// Was up, went down (cable pulled); negotiation restarts by itself.
    Down,
}

/// Traffic and error counters, for logs and `/stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenetCounters {
    pub rx_frames: u64,
    pub rx_bytes: u64,
    /// Descriptors with error status (CRC, overrun, oversized...), skipped.
    pub rx_errors: u64,
    /// Frames the device dropped because every descriptor was full.
    pub rx_no_buffer: u64,
    pub tx_frames: u64,
    pub tx_bytes: u64,
    /// Frames the device reported sent.
    pub tx_completed: u64,
    /// Frames too long to send, or a device index that made no sense.
    pub tx_errors: u64,
    /// Frames dropped because every transmit descriptor was in flight.
    pub tx_ring_full: u64,
    pub interrupts: u64,
    pub link_changes: u64,
    pub mdio_errors: u64,
}

pub struct Genet<R: Registers, D: DmaBuffers> {
    regs: R,
    rx_dma: D,
    tx_dma: D,
    rx: RxRing,
    tx: TxRing,
    counters: GenetCounters,
    mac: EthernetAddress,
    phy_address: u8,
    phy_id: u32,
    link: LinkState,
    next_link_check_us: u64,
    /// The device's count of frames dropped for lack of descriptors, as last read.
    rx_discards: u16,
    discard: Box<[u8]>,
}

impl<R: Registers, D: DmaBuffers> Genet<R, D> {
    /// Brings the controller up: MAC reset and set-up, both rings, DMA,
    /// interrupts, then the PHY with auto-negotiation started. The link
    /// comes up later, through `poll_link`.
    pub fn new(
        mut regs: R,
        rx_dma: D,
        tx_dma: D,
        mac: EthernetAddress,
        phy_address: Option<u8>,
    ) -> Result<Genet<R, D>, GenetError> {
        let revision = regs.read(SYS_REV_CTRL);
        if (revision >> 24) & 0xf != REV_MAJOR_V5 {
            return Err(GenetError::Absent { revision });
        }
        regs.write(SYS_PORT_CTRL, PORT_MODE_EXT_GPHY);
        reset_umac(&mut regs);
        // RGMII with the MAC's transmit clock delay on ("rgmii-rxid": the
        // PHY delays receive); old firmware may have left ID_MODE_DIS set.
        let oob = regs.read(EXT_RGMII_OOB_CTRL);
        regs.write(EXT_RGMII_OOB_CTRL, (oob | RGMII_MODE_EN) & !(ID_MODE_DIS | OOB_DISABLE));
        let m = mac.0;
        regs.write(UMAC_MAC0, u32::from_be_bytes([m[0], m[1], m[2], m[3]]));
        regs.write(UMAC_MAC1, u32::from_be_bytes([0, 0, m[4], m[5]]));

        // Nothing raises an interrupt until the rings are ready.
        regs.write(INTRL2_CPU_MASK_SET, u32::MAX);
        regs.write(INTRL2_CPU_CLEAR, u32::MAX);
        disable_dma(&mut regs);
        let mut genet = Genet {
            rx: RxRing::new(0),
            tx: TxRing::new(0),
            regs,
            rx_dma,
            tx_dma,
            counters: GenetCounters::default(),
            mac,
            phy_address: 0,
            phy_id: 0,
            link: LinkState::Negotiating,
            next_link_check_us: 0,
            rx_discards: 0,
            discard: vec![0; DISCARD_LEN].into_boxed_slice(),
        };
        genet.init_rx_ring();
        genet.init_tx_ring();
        let dma_on = DMA_EN | RING16_DMA_EN;
        let rx_ctrl = genet.regs.read(RX_DMA + DMA_CTRL);
        genet.regs.write(RX_DMA + DMA_CTRL, rx_ctrl | dma_on);
        let tx_ctrl = genet.regs.read(TX_DMA + DMA_CTRL);
        genet.regs.write(TX_DMA + DMA_CTRL, tx_ctrl | dma_on);
        genet.regs.write(INTRL2_CPU_MASK_CLEAR, IRQ_RXDMA_DONE | IRQ_TXDMA_DONE);

        if let Err(e) = genet.start_phy(phy_address) {
            genet.regs.write(INTRL2_CPU_MASK_SET, u32::MAX);
            disable_dma(&mut genet.regs);
            return Err(e);
        }
        Ok(genet)
    }

    /// Descriptors point at the receive buffers; the consumer index starts
    /// at the producer the device holds.
    fn init_rx_ring(&mut self) {
        let regs = &mut self.regs;
        for slot in 0..RING_SIZE {
            let address = self.rx_dma.bus_address(slot);
            regs.write(descriptor(RX_DESCRIPTORS, slot, DESC_ADDRESS_LO), address as u32);
            regs.write(descriptor(RX_DESCRIPTORS, slot, DESC_ADDRESS_HI), (address >> 32) as u32);
            regs.write(
                descriptor(RX_DESCRIPTORS, slot, DESC_LENGTH_STATUS),
                (BUFFER_LEN as u32) << DESC_LENGTH_SHIFT | DESC_OWN,
            );
            self.rx_dma.for_device(slot, BUFFER_LEN);
        }
        regs.write(RX_DMA + DMA_SCB_BURST_SIZE, DMA_MAX_BURST);
        regs.write(RX_RING + RING_START_ADDR, 0);
        regs.write(RX_RING + RING_READ_PTR, 0);
        regs.write(RX_RING + RING_WRITE_PTR, 0);
        regs.write(RX_RING + RING_END_ADDR, (RING_SIZE * DESCRIPTOR_SIZE / 4 - 1) as u32);
        let producer = (regs.read(RX_RING + RING_PROD_CONS) & INDEX_MASK) as u16;
        self.rx_discards = (regs.read(RX_RING + RING_PROD_CONS) >> DISCARD_SHIFT) as u16;
        self.rx = RxRing::new(producer);
        regs.write(RX_RING + RING_CONS_PROD, producer as u32);
        regs.write(RX_RING + RING_BUF_SIZE, (RING_SIZE as u32) << 16 | BUFFER_LEN as u32);
        regs.write(RX_RING + RING_XON_XOFF_OR_FLOW, RX_XON_XOFF);
        regs.write(RX_RING + RING_DONE_THRESH, 1);
        regs.write(RX_DMA + DMA_RING_CFG, RING16_CFG);
    }

    /// The producer index starts at the consumer the device holds.
    fn init_tx_ring(&mut self) {
        let regs = &mut self.regs;
        regs.write(TX_DMA + DMA_SCB_BURST_SIZE, DMA_MAX_BURST);
        regs.write(TX_RING + RING_START_ADDR, 0);
        regs.write(TX_RING + RING_WRITE_PTR, 0);
        regs.write(TX_RING + RING_READ_PTR, 0);
        regs.write(TX_RING + RING_END_ADDR, (RING_SIZE * DESCRIPTOR_SIZE / 4 - 1) as u32);
        let consumer = (regs.read(TX_RING + RING_PROD_CONS) & INDEX_MASK) as u16;
        self.tx = TxRing::new(consumer);
        regs.write(TX_RING + RING_CONS_PROD, consumer as u32);
        regs.write(TX_RING + RING_DONE_THRESH, 1);
        regs.write(TX_RING + RING_XON_XOFF_OR_FLOW, 0);
        regs.write(TX_RING + RING_BUF_SIZE, (RING_SIZE as u32) << 16 | BUFFER_LEN as u32);
        regs.write(TX_DMA + DMA_RING_CFG, RING16_CFG);
    }

    /// Finds the PHY and starts auto-negotiation.
    fn start_phy(&mut self, preferred: Option<u8>) -> Result<(), GenetError> {
        let mut last = MdioError::ReadFail;
        let candidates = preferred.into_iter().chain(PHY_ADDRESSES.into_iter().filter(|&a| Some(a) != preferred));
        for address in candidates {
            match phy::identify(&mut self.regs, address) {
                Ok(id) => {
                    self.phy_address = address;
                    self.phy_id = id;
                    if id & phy::ID_REVISION_MASK == phy::BCM54213PE_ID {
                        phy::configure_rgmii_rxid(&mut self.regs, address).map_err(GenetError::NoPhy)?;
                    }
                    return phy::start_autonegotiation(&mut self.regs, address).map_err(GenetError::NoPhy);
                }
                // A controller that never finishes an MDIO frame will not for the next address either.
                Err(MdioError::Timeout) => return Err(GenetError::NoPhy(MdioError::Timeout)),
                Err(e) => last = e,
            }
        }
        Err(GenetError::NoPhy(last))
    }

    pub fn mac_address(&self) -> EthernetAddress {
        self.mac
    }

    /// The PHY's MDIO address and identifier.
    pub fn phy(&self) -> (u8, u32) {
        (self.phy_address, self.phy_id)
    }

    pub fn counters(&self) -> GenetCounters {
        self.counters
    }

    pub fn link(&self) -> LinkState {
        self.link
    }

    /// Receive buffers owned by the device, and transmit frames in flight.
    pub fn ring_use(&self) -> (usize, usize) {
        (RING_SIZE - self.rx.held as usize, self.tx.in_flight())
    }

    /// Acknowledges the controller's pending interrupts (before draining
    /// the rings: a completion after this raises the interrupt again).
    pub fn acknowledge_interrupt(&mut self) -> u32 {
        self.counters.interrupts += 1;
        let pending = self.regs.read(INTRL2_CPU_STAT) & !self.regs.read(INTRL2_CPU_MASK_STATUS);
        self.regs.write(INTRL2_CPU_CLEAR, pending);
        pending
    }

    /// Checks the PHY if a check is due at `now_us` (microseconds, any
    /// epoch): on link-up the MAC takes the negotiated speed and starts
    /// passing frames. Returns when the next check is due.
    pub fn poll_link(&mut self, now_us: u64) -> u64 {
        if now_us < self.next_link_check_us {
            return self.next_link_check_us;
        }
        self.next_link_check_us = now_us.saturating_add(LINK_POLL_US);
        match phy::link(&mut self.regs, self.phy_address) {
            Ok(Some(link)) if self.link != LinkState::Up(link) => {
                self.configure_mac(link);
                self.link = LinkState::Up(link);
                self.counters.link_changes += 1;
                info!("genet: link up, {} Mbit/s {} duplex", link.mbps, if link.full_duplex { "full" } else { "half" });
            }
            Ok(None) if matches!(self.link, LinkState::Up(_)) => {
                let oob = self.regs.read(EXT_RGMII_OOB_CTRL);
                self.regs.write(EXT_RGMII_OOB_CTRL, oob & !RGMII_LINK);
                self.link = LinkState::Down;
                self.counters.link_changes += 1;
                warn!("genet: link down");
            }
            Ok(_) => {}
            Err(_) => self.counters.mdio_errors += 1,
        }
        self.next_link_check_us
    }

    /// The MAC follows the PHY: speed, duplex, RGMII link, then TX and RX on.
    fn configure_mac(&mut self, link: Link) {
        let oob = self.regs.read(EXT_RGMII_OOB_CTRL);
        self.regs.write(EXT_RGMII_OOB_CTRL, (oob | RGMII_LINK | RGMII_MODE_EN) & !(ID_MODE_DIS | OOB_DISABLE));
        let speed = match link.mbps {
            1000 => 2,
            100 => 1,
            _ => 0,
        };
        let mut cmd = self.regs.read(UMAC_CMD) & !(CMD_SPEED_MASK | CMD_HD_EN);
        cmd |= speed << CMD_SPEED_SHIFT;
        if !link.full_duplex {
            cmd |= CMD_HD_EN;
        }
        self.regs.write(UMAC_CMD, cmd | CMD_TX_EN | CMD_RX_EN);
    }

    /// Gives the descriptor of the frame the stack last read back to the device.
    fn release_held(&mut self) {
        if self.rx.held {
            self.rx.held = false;
            let consumer = self.rx.advance();
            self.regs.write(RX_RING + RING_CONS_PROD, consumer as u32);
        }
    }

    /// The next good frame's slot and length (buffer bytes), skipping and
    /// counting descriptors with error status; `None` when none is waiting.
    fn next_frame(&mut self) -> Option<(usize, usize)> {
        loop {
            let produced = self.regs.read(RX_RING + RING_PROD_CONS);
            let discards = (produced >> DISCARD_SHIFT) as u16;
            self.counters.rx_no_buffer += discards.wrapping_sub(self.rx_discards) as u64;
            self.rx_discards = discards;
            let producer = (produced & INDEX_MASK) as u16;
            match self.rx.waiting(producer) {
                0 => return None,
                n if n > RING_SIZE => {
                    // More than the ring holds: the index is not to be trusted.
                    self.counters.rx_errors += 1;
                    let consumer = self.rx.resync(producer);
                    self.regs.write(RX_RING + RING_CONS_PROD, consumer as u32);
                    return None;
                }
                _ => {}
            }
            let slot = self.rx.slot();
            let status = self.regs.read(descriptor(RX_DESCRIPTORS, slot, DESC_LENGTH_STATUS));
            let len = (status >> DESC_LENGTH_SHIFT & DESC_LENGTH_MASK) as usize;
            let whole = status & (DESC_SOP | DESC_EOP) == DESC_SOP | DESC_EOP;
            if status & DESC_RX_ERRORS == 0 && whole && (RX_FRAME_OFFSET + MIN_RX_LEN..=BUFFER_LEN).contains(&len) {
                return Some((slot, len));
            }
            self.counters.rx_errors += 1;
            let consumer = self.rx.advance();
            self.regs.write(RX_RING + RING_CONS_PROD, consumer as u32);
        }
    }

    /// Notes the transmit completions the device reports.
    fn reap(regs: &mut R, tx: &mut TxRing, counters: &mut GenetCounters) {
        let consumer = (regs.read(TX_RING + RING_PROD_CONS) & INDEX_MASK) as u16;
        match tx.complete(consumer) {
            Some(done) => counters.tx_completed += done as u64,
            None => counters.tx_errors += 1,
        }
    }

    #[cfg(test)]
    pub(crate) fn buffers(&mut self) -> (&mut D, &mut D) {
        (&mut self.rx_dma, &mut self.tx_dma)
    }
}

/// Receive-buffer flush, UMAC software reset, MIB counters cleared, frame
/// length and receive alignment set.
fn reset_umac<R: Registers>(regs: &mut R) {
    let flush = regs.read(SYS_RBUF_FLUSH_CTRL);
    regs.write(SYS_RBUF_FLUSH_CTRL, flush | RBUF_FLUSH_RESET);
    regs.delay_us(10);
    regs.write(SYS_RBUF_FLUSH_CTRL, flush & !RBUF_FLUSH_RESET);
    regs.delay_us(10);
    regs.write(UMAC_CMD, 0);
    regs.write(UMAC_CMD, CMD_SW_RESET | CMD_LCL_LOOP_EN);
    regs.delay_us(2);
    regs.write(UMAC_CMD, 0);
    regs.write(UMAC_MIB_CTRL, MIB_RESET_ALL);
    regs.write(UMAC_MIB_CTRL, 0);
    regs.write(UMAC_MAX_FRAME_LEN, MAX_FRAME_LEN);
    let rbuf = regs.read(RBUF_CTRL);
    regs.write(RBUF_CTRL, rbuf | RBUF_ALIGN_2B);
    regs.write(RBUF_TBUF_SIZE_CTRL, 1);
}

/// Both DMA engines off and the transmit FIFO flushed.
fn disable_dma<R: Registers>(regs: &mut R) {
    let tx = regs.read(TX_DMA + DMA_CTRL);
    regs.write(TX_DMA + DMA_CTRL, tx & !DMA_EN);
    let rx = regs.read(RX_DMA + DMA_CTRL);
    regs.write(RX_DMA + DMA_CTRL, rx & !DMA_EN);
    regs.write(UMAC_TX_FLUSH, 1);
    regs.delay_us(10);
    regs.write(UMAC_TX_FLUSH, 0);
}

pub struct GenetRxToken<'a> {
    frame: &'a [u8],
}

pub struct GenetTxToken<'a, R: Registers, D: DmaBuffers> {
    regs: &'a mut R,
    dma: &'a mut D,
    ring: &'a mut TxRing,
    counters: &'a mut GenetCounters,
    discard: &'a mut [u8],
}

impl RxToken for GenetRxToken<'_> {
    fn consume<T, F: FnOnce(&[u8]) -> T>(self, f: F) -> T {
        f(self.frame)
    }
}

impl<R: Registers, D: DmaBuffers> TxToken for GenetTxToken<'_, R, D> {
    fn consume<T, F: FnOnce(&mut [u8]) -> T>(self, len: usize, f: F) -> T {
        Genet::<R, D>::reap(self.regs, self.ring, self.counters);
        if len > MAX_TX_LEN {
            self.counters.tx_errors += 1;
            return f(&mut self.discard[..len.min(DISCARD_LEN)]);
        }
        if self.ring.free() == 0 {
            self.counters.tx_ring_full += 1;
            return f(&mut self.discard[..len]);
        }
        let slot = self.ring.slot();
        let buffer = self.dma.buffer(slot);
        let result = f(&mut buffer[..len]);
        let padded = len.max(MIN_FRAME_LEN);
        buffer[len..padded].fill(0);
        self.dma.for_device(slot, padded);
        let address = self.dma.bus_address(slot);
        self.regs.write(descriptor(TX_DESCRIPTORS, slot, DESC_ADDRESS_LO), address as u32);
        self.regs.write(descriptor(TX_DESCRIPTORS, slot, DESC_ADDRESS_HI), (address >> 32) as u32);
        self.regs.write(
            descriptor(TX_DESCRIPTORS, slot, DESC_LENGTH_STATUS),
            (padded as u32) << DESC_LENGTH_SHIFT | DESC_SOP | DESC_EOP | DESC_TX_APPEND_CRC | DESC_TX_QTAG,
        );
        let producer = self.ring.push();
        self.regs.write(TX_RING + RING_CONS_PROD, producer as u32);
        self.counters.tx_frames += 1;
        self.counters.tx_bytes += len as u64;
        result
    }
}

impl<R: Registers, D: DmaBuffers> Device for Genet<R, D> {
    type RxToken<'a>
        = GenetRxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = GenetTxToken<'a, R, D>
    where
        Self: 'a;

    fn receive(&mut self, _now: Instant) -> Option<(GenetRxToken<'_>, GenetTxToken<'_, R, D>)> {
        self.release_held();
        let (slot, len) = self.next_frame()?;
        self.rx_dma.for_cpu(slot, len);
        self.rx.held = true;
        self.counters.rx_frames += 1;
        self.counters.rx_bytes += (len - RX_FRAME_OFFSET) as u64;
        let frame = &self.rx_dma.buffer(slot)[RX_FRAME_OFFSET..len];
        let tx = GenetTxToken {
            regs: &mut self.regs,
            dma: &mut self.tx_dma,
            ring: &mut self.tx,
            counters: &mut self.counters,
            discard: &mut self.discard,
        };
        Some((GenetRxToken { frame }, tx))
    }

    fn transmit(&mut self, _now: Instant) -> Option<GenetTxToken<'_, R, D>> {
        Self::reap(&mut self.regs, &mut self.tx, &mut self.counters);
        // Without a link the MAC sends nothing: queue nothing to go stale.
        if self.tx.free() == 0 || !matches!(self.link, LinkState::Up(_)) {
            return None;
        }
        Some(GenetTxToken {
            regs: &mut self.regs,
            dma: &mut self.tx_dma,
            ring: &mut self.tx,
            counters: &mut self.counters,
            discard: &mut self.discard,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        DeviceCapabilities { max_burst: Some(RING_SIZE / 2), ..DeviceCapabilities::ethernet() }
    }
}
