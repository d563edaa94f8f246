//! What the kernel needs of a flattened device tree beyond the `fdt`
//! crate, over the raw blob: removing NOP tokens (which `fdt` 0.1's node
//! walk trips over, and which QEMU and the Pi firmware leave when they edit
//! a tree), and translating a bus address into a CPU address through the
//! `ranges` of the buses above a node (the Pi 4's peripherals sit at bus
//! address 0x7E.. and CPU address 0xFE..).
//!
//! Every read is checked: a malformed blob gives `None` or is left as it
//! is, never a panic.

const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
/// Header offsets: structure block offset, strings block offset, structure size.
const OFF_DT_STRUCT: usize = 8;
const OFF_DT_STRINGS: usize = 12;
const SIZE_DT_STRUCT: usize = 36;
/// Most levels of nesting the translation follows.
pub const MAX_DEPTH: usize = 8;

fn word(blob: &[u8], at: usize) -> Option<u32> {
    let b = blob.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Big-endian cells of a property value, read as one number (up to 2 cells).
fn number(bytes: &[u8]) -> u64 {
    bytes.chunks_exact(4).fold(0u64, |acc, c| acc << 32 | u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as u64)
}

/// The length of the token at `at` (tag included), or `None` if it runs
/// past `end` or is unknown.
fn token_len(blob: &[u8], at: usize, end: usize) -> Option<(u32, usize)> {
    let token = word(blob, at)?;
    let len = match token {
        FDT_BEGIN_NODE => {
            let name = blob.get(at + 4..end)?.iter().position(|&b| b == 0)?;
            (4 + name + 1).next_multiple_of(4)
        }
        FDT_PROP => 12usize.checked_add(word(blob, at + 4)? as usize)?.next_multiple_of(4),
        FDT_END_NODE | FDT_NOP => 4,
        _ => 4, // FDT_END (9) ends the walk; anything else is taken as one word
    };
    (at.checked_add(len)? <= end).then_some((token, len))
}

/// Removes the NOP tokens from the structure block in place and shrinks
/// `size_dt_struct`. Returns false, with the blob untouched, if the
/// structure block is malformed.
pub fn drop_nops(blob: &mut [u8]) -> bool {
    let (Some(start), Some(size)) = (word(blob, OFF_DT_STRUCT), word(blob, SIZE_DT_STRUCT)) else { return false };
    let (start, size) = (start as usize, size as usize);
    let Some(end) = start.checked_add(size).filter(|&e| e <= blob.len()) else { return false };
    // Check the whole block first, so a malformed one is left as it was.
    let mut at = start;
    while at < end {
        let Some((_, len)) = token_len(blob, at, end) else { return false };
        at += len;
    }
    let (mut read, mut write) = (start, start);
    while read < end {
        let Some((token, len)) = token_len(blob, read, end) else { return false };
        if token != FDT_NOP {
            blob.copy_within(read..read + len, write);
            write += len;
        }
        read += len;
    }
    blob[SIZE_DT_STRUCT..SIZE_DT_STRUCT + 4].copy_from_slice(&((write - start) as u32).to_be_bytes());
    true
}

/// What translation needs to know of one node on a path.
#[derive(Clone, Copy, Debug)]
struct Bus<'b> {
    address_cells: usize,
    size_cells: usize,
    ranges: Option<&'b [u8]>,
}

/// Translates `address`, as the parent bus of the node whose name starts
/// at byte `name_offset` of `blob` sees it, into a CPU physical address
/// through the `ranges` of every bus above it (an empty `ranges` is the
/// identity). `None` if some bus does not map it, or the blob is malformed.
pub fn cpu_address(blob: &[u8], name_offset: usize, address: u64) -> Option<u64> {
    let (path, depth) = ancestors(blob, name_offset)?;
    let mut address = address;
    // path[0] is the root; path[depth - 1] the node's parent bus.
    for level in (1..depth).rev() {
        address = through_ranges(&path[level], path[level - 1].address_cells, address)?;
    }
    Some(address)
}

/// The ancestors of the node whose name starts at `name_offset`, root first.
fn ancestors(blob: &[u8], name_offset: usize) -> Option<([Bus<'_>; MAX_DEPTH], usize)> {
    let structure = word(blob, OFF_DT_STRUCT)? as usize;
    let strings = word(blob, OFF_DT_STRINGS)? as usize;
    let end = structure.checked_add(word(blob, SIZE_DT_STRUCT)? as usize)?.min(blob.len());
    let string_at =
        |offset: usize| -> Option<&[u8]> { blob.get(strings.checked_add(offset)?..)?.split(|&b| b == 0).next() };
    let empty = Bus { address_cells: 2, size_cells: 1, ranges: None };
    let mut path = [empty; MAX_DEPTH];
    let mut depth = 0usize;
    let mut at = structure;
    while at < end {
        let (token, len) = token_len(blob, at, end)?;
        match token {
            FDT_BEGIN_NODE => {
                if at + 4 == name_offset {
                    return Some((path, depth));
                }
                *path.get_mut(depth)? = empty;
                depth += 1;
            }
            FDT_END_NODE => depth = depth.checked_sub(1)?,
            FDT_PROP => {
                let value = blob.get(at + 12..at + 12 + word(blob, at + 4)? as usize)?;
                let current = path.get_mut(depth.checked_sub(1)?)?;
                match string_at(word(blob, at + 8)? as usize)? {
                    b"#address-cells" => current.address_cells = number(value.get(..4)?) as usize,
                    b"#size-cells" => current.size_cells = number(value.get(..4)?) as usize,
                    b"ranges" => current.ranges = Some(value),
                    _ => {}
                }
            }
            FDT_NOP => {}
            _ => return None, // FDT_END: the node is not there
        }
        at += len;
    }
    None
}

/// One hop: `bus`'s `ranges` entries are <child address (bus
/// #address-cells)> <parent address (parent_cells)> <size (bus #size-cells)>.
fn through_ranges(bus: &Bus, parent_cells: usize, address: u64) -> Option<u64> {
    // No `ranges`: the bus does not map its children into the parent.
    let ranges = bus.ranges?;
    if ranges.is_empty() {
        return Some(address);
    }
    let (child_cells, size_cells) = (bus.address_cells, bus.size_cells);
    if child_cells > 2 || parent_cells > 2 || size_cells > 2 {
        return None;
    }
    let entry_len = (child_cells + parent_cells + size_cells) * 4;
    if entry_len == 0 {
        return None;
    }
    for entry in ranges.chunks_exact(entry_len) {
        let (child, rest) = entry.split_at(child_cells * 4);
        let (parent, size) = rest.split_at(parent_cells * 4);
        let (child, parent, size) = (number(child), number(parent), number(size));
        if address >= child && address - child < size {
            return parent.checked_add(address - child);
        }
    }
    None
}

#[cfg(test)]
mod tests;
