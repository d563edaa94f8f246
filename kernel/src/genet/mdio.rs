//! The UMAC's MDIO master: clause-22 reads and writes of the PHY's
//! registers, each a bounded wait on START_BUSY.
use super::regs::*;
use super::Registers;

/// Polls of START_BUSY per operation, `MDIO_POLL_US` apart (an MDIO frame
/// takes about 25 us at 2.5 MHz; 1 ms is far beyond).
pub const MDIO_POLLS: u32 = 100;
pub const MDIO_POLL_US: u32 = 10;

/// Why an MDIO operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MdioError {
    /// START_BUSY never cleared: the controller does not answer.
    Timeout,
    /// The controller finished but no PHY drove the data line.
    ReadFail,
}

fn run<R: Registers>(regs: &mut R, command: u32) -> Result<u32, MdioError> {
    regs.write(MDIO_CMD, command);
    regs.write(MDIO_CMD, command | MDIO_START_BUSY);
    for _ in 0..MDIO_POLLS {
        let value = regs.read(MDIO_CMD);
        if value & MDIO_START_BUSY == 0 {
            return Ok(value);
        }
        regs.delay_us(MDIO_POLL_US);
    }
    Err(MdioError::Timeout)
}

fn address(phy: u8, register: u8) -> u32 {
    (phy as u32 & 0x1f) << MDIO_PHY_SHIFT | (register as u32 & 0x1f) << MDIO_REG_SHIFT
}

/// Reads PHY register `register` of the PHY at MDIO address `phy`.
pub fn read<R: Registers>(regs: &mut R, phy: u8, register: u8) -> Result<u16, MdioError> {
    let value = run(regs, MDIO_RD | address(phy, register))?;
    if value & MDIO_READ_FAIL != 0 {
        return Err(MdioError::ReadFail);
    }
    Ok(value as u16)
}

/// Writes `value` to PHY register `register`.
pub fn write<R: Registers>(regs: &mut R, phy: u8, register: u8, value: u16) -> Result<(), MdioError> {
    run(regs, MDIO_WR | address(phy, register) | value as u32).map(|_| ())
}
