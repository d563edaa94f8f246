//! The Pi 4's BCM54213PE gigabit PHY through clause-22 registers:
//! identification, auto-negotiation and link state.
use super::mdio::{self, MdioError};
use super::Registers;

pub const BMCR: u8 = 0;
pub const BMSR: u8 = 1;
pub const PHYSID1: u8 = 2;
pub const PHYSID2: u8 = 3;
pub const ADVERTISE: u8 = 4;
pub const LPA: u8 = 5;
pub const CTRL1000: u8 = 9;
pub const STAT1000: u8 = 10;
/// Broadcom: auxiliary control, a window onto shadow registers.
pub const AUX_CTL: u8 = 0x18;
/// Broadcom: the 0x1C shadow register window.
pub const SHADOW_1C: u8 = 0x1c;

pub const BMCR_ANENABLE: u16 = 1 << 12;
pub const BMCR_ANRESTART: u16 = 1 << 9;
pub const BMSR_LSTATUS: u16 = 1 << 2;
pub const BMSR_ANEGCOMPLETE: u16 = 1 << 5;
/// 10/100, half and full duplex, IEEE 802.3 selector.
pub const ADVERTISE_ALL_10_100: u16 = 0x0020 | 0x0040 | 0x0080 | 0x0100 | 0x0001;
pub const ADVERTISE_10HALF: u16 = 0x0020;
pub const ADVERTISE_10FULL: u16 = 0x0040;
pub const ADVERTISE_100HALF: u16 = 0x0080;
pub const ADVERTISE_100FULL: u16 = 0x0100;
pub const CTRL1000_HALF: u16 = 1 << 8;
pub const CTRL1000_FULL: u16 = 1 << 9;
/// STAT1000: what the link partner advertises for 1000BASE-T.
pub const STAT1000_PARTNER_HALF: u16 = 1 << 10;
pub const STAT1000_PARTNER_FULL: u16 = 1 << 11;

/// The BCM54213PE's identifier (PHYSID1 << 16 | PHYSID2), revision bits
/// masked (Linux drives it as the BCM54210E).
pub const BCM54213PE_ID: u32 = 0x600d_84a0;
pub const ID_REVISION_MASK: u32 = 0xffff_fff0;

/// AUX_CTL shadow 7 ("misc control"): selecting it for a read, and its bits.
pub const AUX_MISC: u16 = 0x7;
pub const AUX_MISC_READ: u16 = AUX_MISC << 12 | 0x7;
pub const AUX_MISC_WRITE_ENABLE: u16 = 0x8000;
/// The PHY delays RXC against RXD (the "rxid" of "rgmii-rxid").
pub const AUX_MISC_RGMII_SKEW: u16 = 0x0100;
/// 0x1C shadow 3 (clock control) and its GTXCLK delay bit; the shadow
/// number sits in bits 14:10, data in 9:0, bit 15 writes.
pub const SHADOW_CLOCK_CONTROL: u16 = 0x3;
pub const SHADOW_WRITE: u16 = 0x8000;
pub const SHADOW_DATA_MASK: u16 = 0x3ff;
pub const CLOCK_GTXCLK_DELAY: u16 = 1 << 9;

/// A negotiated link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// 10, 100 or 1000 Mbit/s.
    pub mbps: u16,
    pub full_duplex: bool,
}

/// Finds a PHY at `address`: its ID, if one answers with a sane one.
pub fn identify<R: Registers>(regs: &mut R, address: u8) -> Result<u32, MdioError> {
    let high = mdio::read(regs, address, PHYSID1)?;
    let low = mdio::read(regs, address, PHYSID2)?;
    let id = (high as u32) << 16 | low as u32;
    if id == 0 || id == 0xffff_ffff {
        return Err(MdioError::ReadFail); // nobody drove the bus
    }
    Ok(id)
}

/// The Pi 4 wires the PHY as "rgmii-rxid": the PHY delays the receive
/// clock, and does not delay the transmit clock (the MAC does). Broadcom
/// shadow registers, so only for the BCM54213PE.
pub fn configure_rgmii_rxid<R: Registers>(regs: &mut R, address: u8) -> Result<(), MdioError> {
    mdio::write(regs, address, AUX_CTL, AUX_MISC_READ)?;
    let misc = mdio::read(regs, address, AUX_CTL)?;
    mdio::write(regs, address, AUX_CTL, misc | AUX_MISC_WRITE_ENABLE | AUX_MISC_RGMII_SKEW | AUX_MISC)?;
    mdio::write(regs, address, SHADOW_1C, SHADOW_CLOCK_CONTROL << 10)?;
    let clock = mdio::read(regs, address, SHADOW_1C)? & SHADOW_DATA_MASK;
    mdio::write(regs, address, SHADOW_1C, SHADOW_WRITE | SHADOW_CLOCK_CONTROL << 10 | clock & !CLOCK_GTXCLK_DELAY)
}

/// Advertises every speed and duplex and (re)starts auto-negotiation; it
/// completes in the background, in seconds. No reset: it would undo the
/// clock delays.
pub fn start_autonegotiation<R: Registers>(regs: &mut R, address: u8) -> Result<(), MdioError> {
    mdio::write(regs, address, ADVERTISE, ADVERTISE_ALL_10_100)?;
    mdio::write(regs, address, CTRL1000, CTRL1000_FULL | CTRL1000_HALF)?;
    mdio::write(regs, address, BMCR, BMCR_ANENABLE | BMCR_ANRESTART)
}

/// The link as the PHY sees it now: `None` while down or negotiating.
pub fn link<R: Registers>(regs: &mut R, address: u8) -> Result<Option<Link>, MdioError> {
    // The link bit latches low: the first read reports a drop since the
    // last one, the second the state now.
    mdio::read(regs, address, BMSR)?;
    let status = mdio::read(regs, address, BMSR)?;
    if status & BMSR_LSTATUS == 0 || status & BMSR_ANEGCOMPLETE == 0 {
        return Ok(None);
    }
    let ours_1000 = mdio::read(regs, address, CTRL1000)?;
    let theirs_1000 = mdio::read(regs, address, STAT1000)?;
    let common = mdio::read(regs, address, ADVERTISE)? & mdio::read(regs, address, LPA)?;
    Ok(Some(resolve(ours_1000, theirs_1000, common)))
}

/// The best mode both ends advertise (IEEE 802.3 Annex 28B priority).
pub fn resolve(ours_1000: u16, theirs_1000: u16, common_10_100: u16) -> Link {
    let link = |mbps, full_duplex| Link { mbps, full_duplex };
    if ours_1000 & CTRL1000_FULL != 0 && theirs_1000 & STAT1000_PARTNER_FULL != 0 {
        link(1000, true)
    } else if ours_1000 & CTRL1000_HALF != 0 && theirs_1000 & STAT1000_PARTNER_HALF != 0 {
        link(1000, false)
    } else if common_10_100 & ADVERTISE_100FULL != 0 {
        link(100, true)
    } else if common_10_100 & ADVERTISE_100HALF != 0 {
        link(100, false)
    } else if common_10_100 & ADVERTISE_10FULL != 0 {
        link(10, true)
    } else {
        link(10, false)
    }
}
