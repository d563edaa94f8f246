//! NOP removal and address translation over blobs built here, shaped like
//! the Raspberry Pi 4's tree: `/soc` (1-cell children, ranges onto the
//! 2-cell root) with the PL011, and `/scb` (2-cell children) with GENET.
use super::*;
use std::vec::Vec;

/// Builds a flattened device tree (version 17) token by token.
#[derive(Default)]
struct Builder {
    structure: Vec<u8>,
    strings: Vec<u8>,
}

impl Builder {
    fn token(&mut self, token: u32) -> &mut Self {
        self.structure.extend_from_slice(&token.to_be_bytes());
        self
    }

    fn begin(&mut self, name: &str) -> &mut Self {
        self.token(FDT_BEGIN_NODE);
        self.structure.extend_from_slice(name.as_bytes());
        self.structure.push(0);
        self.pad()
    }

    fn end(&mut self) -> &mut Self {
        self.token(FDT_END_NODE)
    }

    fn nop(&mut self) -> &mut Self {
        self.token(FDT_NOP)
    }

    fn prop(&mut self, name: &str, value: &[u8]) -> &mut Self {
        let offset = match self
            .strings
            .windows(name.len() + 1)
            .position(|w| &w[..name.len()] == name.as_bytes() && w[name.len()] == 0)
        {
            Some(offset) => offset,
            None => {
                self.strings.extend_from_slice(name.as_bytes());
                self.strings.push(0);
                self.strings.len() - name.len() - 1
            }
        };
        self.token(FDT_PROP);
        self.structure.extend_from_slice(&(value.len() as u32).to_be_bytes());
        self.structure.extend_from_slice(&(offset as u32).to_be_bytes());
        self.structure.extend_from_slice(value);
        self.pad()
    }

    fn cells(&mut self, name: &str, cells: &[u32]) -> &mut Self {
        let value: Vec<u8> = cells.iter().flat_map(|c| c.to_be_bytes()).collect();
        self.prop(name, &value)
    }

    fn pad(&mut self) -> &mut Self {
        while self.structure.len() % 4 != 0 {
            self.structure.push(0);
        }
        self
    }

    fn finish(&mut self) -> Vec<u8> {
        self.token(9); // FDT_END
        let header = 40;
        let reserve = 16; // one empty memory reservation entry
        let structure_at = header + reserve;
        let strings_at = structure_at + self.structure.len();
        let total = strings_at + self.strings.len();
        let mut blob = Vec::with_capacity(total);
        for field in [
            0xd00d_feed,
            total as u32,
            structure_at as u32,
            strings_at as u32,
            header as u32,
            17,
            16,
            0,
            self.strings.len() as u32,
            self.structure.len() as u32,
        ] {
            blob.extend_from_slice(&u32::to_be_bytes(field));
        }
        blob.extend_from_slice(&[0; 16]);
        blob.extend_from_slice(&self.structure);
        blob.extend_from_slice(&self.strings);
        blob
    }
}

/// A Pi 4-shaped tree, with NOP tokens where `nops` says.
fn pi4_tree(nops: bool) -> Vec<u8> {
    let mut b = Builder::default();
    let nop = |b: &mut Builder| {
        if nops {
            b.nop();
        }
    };
    b.begin("").cells("#address-cells", &[2]).cells("#size-cells", &[1]);
    nop(&mut b);
    b.begin("soc").cells("#address-cells", &[1]).cells("#size-cells", &[1]);
    nop(&mut b);
    b.cells("ranges", &[0x7e00_0000, 0, 0xfe00_0000, 0x180_0000, 0x4000_0000, 0, 0xff80_0000, 0x80_0000]);
    b.begin("serial@7e201000").cells("reg", &[0x7e20_1000, 0x200]);
    nop(&mut b);
    b.end();
    b.begin("interrupt-controller@40041000").cells("reg", &[0x4004_1000, 0x1000, 0x4004_2000, 0x2000]).end();
    b.begin("dma@7e007000").cells("reg", &[0x7000_0000, 0x100]).end(); // outside every range
    b.end();
    nop(&mut b);
    b.begin("scb").cells("#address-cells", &[2]).cells("#size-cells", &[1]);
    b.cells("ranges", &[0, 0x7c00_0000, 0, 0xfc00_0000, 0x380_0000]);
    b.begin("ethernet@7d580000").cells("reg", &[0, 0x7d58_0000, 0x1_0000]);
    nop(&mut b);
    b.begin("mdio@e14").cells("reg", &[0xe14, 8]).end();
    b.end();
    b.end();
    b.begin("identity").cells("#address-cells", &[2]).cells("#size-cells", &[1]).prop("ranges", &[]);
    b.begin("thing@1000").cells("reg", &[0, 0x1000, 0x100]).end();
    b.end();
    b.begin("no-ranges").cells("#address-cells", &[1]).cells("#size-cells", &[1]);
    b.begin("thing@2000").cells("reg", &[0x2000, 0x100]).end();
    b.end();
    b.begin("memory@0").cells("reg", &[0, 0, 0x3b40_0000]).end();
    b.end();
    b.finish()
}

/// The offset of a node's name in the blob (as `fdt` hands it out).
fn name_offset(blob: &[u8], name: &str) -> usize {
    let mut needle = name.as_bytes().to_vec();
    needle.push(0);
    blob.windows(needle.len()).position(|w| w == needle.as_slice()).unwrap_or_else(|| panic!("no node {name}"))
}

fn translate(blob: &[u8], node: &str, address: u64) -> Option<u64> {
    cpu_address(blob, name_offset(blob, node), address)
}

#[test]
fn bus_addresses_become_cpu_addresses_through_ranges() {
    let blob = pi4_tree(false);
    assert_eq!(translate(&blob, "serial@7e201000", 0x7e20_1000), Some(0xfe20_1000));
    assert_eq!(translate(&blob, "interrupt-controller@40041000", 0x4004_1000), Some(0xff84_1000));
    assert_eq!(translate(&blob, "interrupt-controller@40041000", 0x4004_2000), Some(0xff84_2000));
    assert_eq!(translate(&blob, "ethernet@7d580000", 0x7d58_0000), Some(0xfd58_0000));
    assert_eq!(translate(&blob, "memory@0", 0x1234), Some(0x1234), "children of the root are not translated");
    assert_eq!(translate(&blob, "thing@1000", 0x1000), Some(0x1000), "an empty ranges is the identity");
}

#[test]
fn unmapped_addresses_have_no_cpu_address() {
    let blob = pi4_tree(false);
    assert_eq!(translate(&blob, "dma@7e007000", 0x7000_0000), None, "outside every range");
    assert_eq!(translate(&blob, "thing@2000", 0x2000), None, "a bus without ranges maps nothing");
    // The GENET's MDIO child sits on a bus without ranges.
    assert_eq!(translate(&blob, "mdio@e14", 0xe14), None);
    assert_eq!(cpu_address(&blob, 3, 0), None, "no node's name starts there");
}

#[test]
fn nops_are_removed_leaving_the_tree_as_built_without_them() {
    let clean = pi4_tree(false);
    let mut edited = pi4_tree(true);
    assert_ne!(edited.len(), clean.len());
    assert!(drop_nops(&mut edited));
    let size = |blob: &[u8]| word(blob, SIZE_DT_STRUCT).unwrap() as usize;
    let structure = |blob: &[u8]| {
        let start = word(blob, OFF_DT_STRUCT).unwrap() as usize;
        blob[start..start + size(blob)].to_vec()
    };
    assert_eq!(size(&edited), size(&clean));
    assert_eq!(structure(&edited), structure(&clean));
    // Translation works on the edited blob (its strings did not move).
    assert_eq!(translate(&edited, "ethernet@7d580000", 0x7d58_0000), Some(0xfd58_0000));
    // A second pass finds nothing to remove.
    let again = edited.clone();
    assert!(drop_nops(&mut edited));
    assert_eq!(edited, again);
}

#[test]
fn translation_walks_over_nops() {
    let blob = pi4_tree(true);
    assert_eq!(translate(&blob, "serial@7e201000", 0x7e20_1000), Some(0xfe20_1000));
    assert_eq!(translate(&blob, "ethernet@7d580000", 0x7d58_0000), Some(0xfd58_0000));
}

#[test]
fn malformed_blobs_are_left_alone_without_panicking() {
    let good = pi4_tree(true);
    // Every truncation, and a property length running past the block.
    for len in (0..good.len()).step_by(7) {
        let mut cut = good[..len].to_vec();
        let before = cut.clone();
        if !drop_nops(&mut cut) {
            assert_eq!(cut, before, "a rejected blob of {len} bytes was changed");
        }
        let _ = cpu_address(&cut, name_offset(&good, "serial@7e201000").min(len), 0x7e20_1000);
    }
    let mut long_prop = good.clone();
    let start = word(&long_prop, OFF_DT_STRUCT).unwrap() as usize;
    let first_prop = (start..long_prop.len()).step_by(4).find(|&at| word(&long_prop, at) == Some(FDT_PROP)).unwrap();
    long_prop[first_prop + 4..first_prop + 8].copy_from_slice(&u32::MAX.to_be_bytes());
    let before = long_prop.clone();
    assert!(!drop_nops(&mut long_prop));
    assert_eq!(long_prop, before);
    assert_eq!(cpu_address(&long_prop, name_offset(&good, "serial@7e201000"), 0x7e20_1000), None);
}
