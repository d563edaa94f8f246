//! GENET v5 register offsets (from the block base) and bits, as the
//! BCM2711's GENET is laid out: SYS at 0x000, INTRL2_0 at 0x200, RBUF at
//! 0x300, UMAC at 0x800, RX DMA at 0x2000 and TX DMA at 0x4000 (descriptors
//! first, then 17 rings of 0x40 bytes, then the DMA control block).

/// SYS_REV_CTRL: bits 27:24 hold the major revision, 6 on GENET v5.
pub const SYS_REV_CTRL: usize = 0x000;
pub const REV_MAJOR_V5: u32 = 6;
/// SYS_PORT_CTRL: 3 selects the external gigabit PHY (RGMII).
pub const SYS_PORT_CTRL: usize = 0x004;
pub const PORT_MODE_EXT_GPHY: u32 = 3;
/// SYS_RBUF_FLUSH_CTRL: bit 1 resets the receive buffer.
pub const SYS_RBUF_FLUSH_CTRL: usize = 0x008;
pub const RBUF_FLUSH_RESET: u32 = 1 << 1;

/// EXT_RGMII_OOB_CTRL.
pub const EXT_RGMII_OOB_CTRL: usize = 0x08c;
pub const RGMII_LINK: u32 = 1 << 4;
pub const OOB_DISABLE: u32 = 1 << 5;
pub const RGMII_MODE_EN: u32 = 1 << 6;
/// Set: the MAC adds no transmit clock delay. The Pi 4 ("rgmii-rxid")
/// needs the MAC's delay, so the driver clears it.
pub const ID_MODE_DIS: u32 = 1 << 16;

/// INTRL2_0, the default queue's interrupt block.
pub const INTRL2_CPU_STAT: usize = 0x200;
pub const INTRL2_CPU_CLEAR: usize = 0x208;
pub const INTRL2_CPU_MASK_STATUS: usize = 0x20c;
pub const INTRL2_CPU_MASK_SET: usize = 0x210;
pub const INTRL2_CPU_MASK_CLEAR: usize = 0x214;
/// A receive (ring 16) buffer is done.
pub const IRQ_RXDMA_DONE: u32 = 1 << 13;
/// A transmit (ring 16) buffer is done.
pub const IRQ_TXDMA_DONE: u32 = 1 << 16;

/// RBUF_CTRL: bit 1 makes every received frame start 2 bytes into its
/// buffer (so the IP header is 4-byte aligned).
pub const RBUF_CTRL: usize = 0x300;
pub const RBUF_ALIGN_2B: u32 = 1 << 1;
/// Offset of a received frame in its buffer.
pub const RX_FRAME_OFFSET: usize = 2;
pub const RBUF_TBUF_SIZE_CTRL: usize = 0x3b4;

/// UMAC_CMD and its bits.
pub const UMAC_CMD: usize = 0x808;
pub const CMD_TX_EN: u32 = 1 << 0;
pub const CMD_RX_EN: u32 = 1 << 1;
pub const CMD_SPEED_SHIFT: u32 = 2;
pub const CMD_SPEED_MASK: u32 = 3 << CMD_SPEED_SHIFT;
pub const CMD_HD_EN: u32 = 1 << 10;
pub const CMD_SW_RESET: u32 = 1 << 13;
pub const CMD_LCL_LOOP_EN: u32 = 1 << 15;
/// UMAC_MAC0: address bytes 0-3, big-endian; UMAC_MAC1: bytes 4-5.
pub const UMAC_MAC0: usize = 0x80c;
pub const UMAC_MAC1: usize = 0x810;
pub const UMAC_MAX_FRAME_LEN: usize = 0x814;
pub const MAX_FRAME_LEN: u32 = 1536;
pub const UMAC_TX_FLUSH: usize = 0xb34;
/// UMAC_MIB_CTRL: bits 0-2 reset the receive, runt and transmit counters.
pub const UMAC_MIB_CTRL: usize = 0xd80;
pub const MIB_RESET_ALL: u32 = 0b111;
/// UMAC_MDIO_CMD.
pub const MDIO_CMD: usize = 0xe14;
pub const MDIO_START_BUSY: u32 = 1 << 29;
pub const MDIO_READ_FAIL: u32 = 1 << 28;
pub const MDIO_RD: u32 = 2 << 26;
pub const MDIO_WR: u32 = 1 << 26;
pub const MDIO_PHY_SHIFT: u32 = 21;
pub const MDIO_REG_SHIFT: u32 = 16;

/// Descriptors: 256 per direction, 3 words each, in register space.
pub const RX_DESCRIPTORS: usize = 0x2000;
pub const TX_DESCRIPTORS: usize = 0x4000;
pub const DESCRIPTOR_COUNT: usize = 256;
pub const DESCRIPTOR_SIZE: usize = 12;
pub const DESC_LENGTH_STATUS: usize = 0x0;
pub const DESC_ADDRESS_LO: usize = 0x4;
pub const DESC_ADDRESS_HI: usize = 0x8;
/// length_status: the length in bits 27:16, flags below.
pub const DESC_LENGTH_SHIFT: u32 = 16;
pub const DESC_LENGTH_MASK: u32 = 0xfff;
pub const DESC_OWN: u32 = 0x8000;
pub const DESC_EOP: u32 = 0x4000;
pub const DESC_SOP: u32 = 0x2000;
pub const DESC_WRAP: u32 = 0x1000;
pub const DESC_TX_APPEND_CRC: u32 = 0x0040;
pub const DESC_TX_QTAG: u32 = 0x3f << 7;
/// Receive status: oversized, not octet-aligned, PHY receive error, CRC
/// error, FIFO overrun.
pub const DESC_RX_ERRORS: u32 = 0x10 | 0x08 | 0x04 | 0x02 | 0x01;

/// The default queue's ring (16) registers, RX and TX.
pub const RX_RING: usize = 0x3000;
pub const TX_RING: usize = 0x5000;
/// Ring register offsets.
pub const RING_WRITE_PTR: usize = 0x00; // RX: write pointer; TX: read pointer
pub const RING_PROD_CONS: usize = 0x08; // RX: producer index; TX: consumer index
pub const RING_CONS_PROD: usize = 0x0c; // RX: consumer index; TX: producer index
pub const RING_BUF_SIZE: usize = 0x10;
pub const RING_START_ADDR: usize = 0x14;
pub const RING_END_ADDR: usize = 0x1c;
pub const RING_DONE_THRESH: usize = 0x24;
pub const RING_XON_XOFF_OR_FLOW: usize = 0x28; // RX: XON/XOFF thresholds; TX: flow period
pub const RING_READ_PTR: usize = 0x2c; // RX: read pointer; TX: write pointer
/// RX producer index register: bits 31:16 count frames dropped for lack
/// of descriptors.
pub const INDEX_MASK: u32 = 0xffff;
pub const DISCARD_SHIFT: u32 = 16;

/// The DMA control blocks, RX and TX.
pub const RX_DMA: usize = 0x3040;
pub const TX_DMA: usize = 0x5040;
pub const DMA_RING_CFG: usize = 0x00;
pub const DMA_CTRL: usize = 0x04;
pub const DMA_SCB_BURST_SIZE: usize = 0x0c;
pub const DMA_EN: u32 = 1 << 0;
/// Ring 16 enabled in DMA_RING_CFG (bit 16) and DMA_CTRL (bit 17).
pub const RING16_CFG: u32 = 1 << 16;
pub const RING16_DMA_EN: u32 = 1 << 17;
pub const DMA_MAX_BURST: u32 = 8;

/// Register offset of field `field` of descriptor `index` in `base`.
pub const fn descriptor(base: usize, index: usize, field: usize) -> usize {
    base + index * DESCRIPTOR_SIZE + field
}
