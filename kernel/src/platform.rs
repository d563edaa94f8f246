//! What machine we are on: read from the device tree the firmware (or
//! QEMU) passes, with the board's defaults for whatever it does not say.
use crate::arch::power::PsciConduit;
use crate::bsp;
use kernel::devicetree;

pub const MAX_VIRTIO_SLOTS: usize = 32;

#[derive(Clone, Copy, Debug)]
pub enum GicConfig {
    V2 { distributor: usize, cpu_interface: usize },
    V3 { distributor: usize, redistributors: usize, redistributors_size: usize },
}

/// One virtio-mmio transport window and its interrupt.
#[derive(Clone, Copy, Debug)]
pub struct VirtioMmioSlot {
    pub base: usize,
    pub size: usize,
    pub intid: u32,
}

/// A generic ECAM PCIe host bridge.
#[derive(Clone, Copy, Debug)]
pub struct PciHost {
    pub ecam_base: usize,
    pub ecam_size: usize,
    /// The 32-bit memory window (CPU address, size) for BARs.
    pub mmio32: Option<(usize, usize)>,
    /// The 64-bit memory window, if any.
    pub mmio64: Option<(usize, usize)>,
    /// Legacy INTx routing (`interrupt-map`): child address bits and pin,
    /// after `intx_mask`, to an INTID.
    pub intx_map: [Option<IntxRoute>; MAX_INTX_ROUTES],
    /// `interrupt-map-mask`: (phys.hi mask, pin mask).
    pub intx_mask: (u32, u32),
}

pub const MAX_INTX_ROUTES: usize = 32;

#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(feature = "board-qemu-virt"), allow(dead_code))] // read by the virtio-pci probe
pub struct IntxRoute {
    pub phys_hi: u32,
    pub pin: u32,
    pub intid: u32,
}

#[cfg_attr(not(feature = "board-qemu-virt"), allow(dead_code))] // used by the virtio-pci probe
impl PciHost {
    /// The INTID a bus-0 device's INTx `pin` (1 = INTA) reaches.
    pub fn intx_intid(&self, device: u8, pin: u8) -> Option<u32> {
        if pin == 0 {
            return None;
        }
        let hi = ((device as u32) << 11) & self.intx_mask.0;
        let pin = pin as u32 & self.intx_mask.1;
        self.intx_map.iter().flatten().find(|r| r.phys_hi == hi && r.pin == pin).map(|r| r.intid)
    }
}

/// A GENET Ethernet controller (the Raspberry Pi 4's NIC).
#[derive(Clone, Copy, Debug)]
pub struct GenetConfig {
    /// The register block (64 KiB).
    pub base: usize,
    /// False when the device tree marks it disabled (QEMU's `raspi4b` does).
    pub enabled: bool,
    /// The INTRL2_0 interrupt (default queue, link events).
    pub intid: u32,
    /// `local-mac-address` (or `mac-address`), which the Pi firmware fills in.
    pub mac: Option<[u8; 6]>,
    /// The PHY's MDIO address, from the node `phy-handle` points at.
    pub phy_address: Option<u8>,
}

/// Where a fact came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    DeviceTree,
    BoardDefaults,
}

#[derive(Clone, Debug)]
pub struct Platform {
    pub board: &'static str,
    pub source: Source,
    pub model: Option<&'static str>,
    pub dtb: Option<(usize, usize)>,
    pub ram_base: u64,
    pub ram_size: u64,
    pub uart_base: usize,
    pub uart_clock_hz: Option<u32>,
    pub gic: GicConfig,
    pub timer_intid: u32,
    pub virtio_mmio: [Option<VirtioMmioSlot>; MAX_VIRTIO_SLOTS],
    pub pci: Option<PciHost>,
    pub genet: Option<GenetConfig>,
    pub bootargs: &'static str,
    pub rng_seed: Option<[u8; 32]>,
    pub psci: PsciConduit,
}

impl Platform {
    /// A platform with nothing in it, for boards to fill.
    pub const fn empty() -> Platform {
        Platform {
            board: "",
            source: Source::BoardDefaults,
            model: None,
            dtb: None,
            ram_base: 0,
            ram_size: 0,
            uart_base: 0,
            uart_clock_hz: None,
            gic: GicConfig::V2 { distributor: 0, cpu_interface: 0 },
            timer_intid: 30,
            virtio_mmio: [None; MAX_VIRTIO_SLOTS],
            pci: None,
            genet: None,
            bootargs: "",
            rng_seed: None,
            psci: PsciConduit::Hvc,
        }
    }

    pub fn virtio_slots(&self) -> impl Iterator<Item = &VirtioMmioSlot> {
        self.virtio_mmio.iter().flatten()
    }
}

const FDT_MAGIC: u32 = 0xd00d_feed;

/// Reads the device tree at `dtb` (or the board's default address, if it
/// has one, when zero) and fills a `Platform`; the board defaults stand in
/// for a missing or unreadable tree.
pub fn discover(dtb: usize) -> Platform {
    let mut platform = bsp::defaults();
    let Some(address) = (if dtb == 0 { bsp::DEFAULT_DTB_ADDRESS } else { Some(dtb) }) else {
        return platform;
    };
    // Reading four bytes there is harmless even when no DTB is present.
    // SAFETY: `address` is inside RAM, which the early memory map covers.
    let magic = u32::from_be(unsafe { core::ptr::read_volatile(address as *const u32) });
    if magic != FDT_MAGIC {
        return platform;
    }
    // A DTB header (magic checked) lies in mapped RAM and nothing else uses
    // it yet; its totalsize, read here, is checked below before use.
    // SAFETY: reads one aligned word of that mapped header.
    let total = u32::from_be(unsafe { core::ptr::read_volatile((address + 4) as *const u32) }) as usize;
    if !(40..=MAX_DTB_SIZE).contains(&total) {
        return platform;
    }
    // SAFETY: as above; the slice ends before fdt takes its shared view.
    devicetree::drop_nops(unsafe { core::slice::from_raw_parts_mut(address as *mut u8, total) });
    // The blob stays in place for the whole run (the heap excludes it), so 'static holds.
    // SAFETY: a DTB header is present (magic checked) in mapped RAM.
    let fdt = match unsafe { fdt::Fdt::from_ptr(address as *const u8) } {
        Ok(fdt) => fdt,
        Err(_) => return platform,
    };
    DTB.store(address, core::sync::atomic::Ordering::Relaxed);
    platform.source = Source::DeviceTree;
    platform.dtb = Some((address, fdt.total_size()));
    read_device_tree(&fdt, &mut platform);
    platform
}

/// Larger blobs are taken for garbage.
const MAX_DTB_SIZE: usize = 8 << 20;

/// A property's cells as big-endian u32s.
fn cells<'a>(value: &'a [u8]) -> impl Iterator<Item = u32> + 'a {
    value.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
}

/// The INTID of the first GIC interrupt specifier of a node
/// (<type number flags>: type 0 = SPI from 32, 1 = PPI from 16).
fn first_intid(node: &fdt::node::FdtNode) -> Option<u32> {
    let prop = node.property("interrupts")?;
    let mut c = cells(prop.value);
    let (kind, number) = (c.next()?, c.next()?);
    Some(number + if kind == 1 { 16 } else { 32 })
}

/// Reads `interrupt-map`: entries of <phys.hi phys.mid phys.lo pin>
/// <parent phandle> <parent address (#address-cells)> <parent interrupt
/// specifier (#interrupt-cells)>, where the parent is the GIC.
fn read_interrupt_map(fdt: &fdt::Fdt<'static>, pci: &fdt::node::FdtNode, host: &mut PciHost) {
    if let Some(mask) = pci.property("interrupt-map-mask") {
        let m: [u32; 4] = {
            let mut a = [0; 4];
            for (slot, v) in a.iter_mut().zip(cells(mask.value)) {
                *slot = v;
            }
            a
        };
        host.intx_mask = (m[0], m[3]);
    }
    let Some(map) = pci.property("interrupt-map") else { return };
    let words: &[u8] = map.value;
    let word = |i: usize| -> Option<u32> {
        let b = words.get(i * 4..i * 4 + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let mut i = 0;
    let mut route = 0;
    while route < MAX_INTX_ROUTES {
        let (Some(phys_hi), Some(pin), Some(phandle)) = (word(i), word(i + 3), word(i + 4)) else { break };
        let parent = fdt.find_phandle(phandle);
        let cells_of = |name: &str, default: usize| {
            parent.and_then(|p| p.property(name)).and_then(|p| p.as_usize()).unwrap_or(default)
        };
        let (address_cells, interrupt_cells) = (cells_of("#address-cells", 0), cells_of("#interrupt-cells", 3));
        let spec = i + 5 + address_cells;
        let (Some(kind), Some(number)) = (word(spec), word(spec + 1)) else { break };
        host.intx_map[route] = Some(IntxRoute {
            phys_hi: phys_hi & host.intx_mask.0,
            pin: pin & host.intx_mask.1,
            intid: number + if kind == 1 { 16 } else { 32 },
        });
        route += 1;
        i = spec + interrupt_cells;
    }
}

fn read_device_tree(fdt: &fdt::Fdt<'static>, p: &mut Platform) {
    p.model = fdt.root().property("model").and_then(|m| m.as_str());

    // A zero-sized region is a placeholder the firmware did not fill in
    // (the stock Pi 4 tree has one): keep the board's default then.
    let memory = fdt.find_node("/memory").and_then(|m| m.reg()).and_then(|mut r| r.next());
    if let Some(region) = memory.filter(|r| r.size.unwrap_or(0) > 0) {
        p.ram_base = region.starting_address as u64;
        p.ram_size = region.size.unwrap_or(0) as u64;
    }

    if let Some(chosen) = fdt.find_node("/chosen") {
        if let Some(args) = chosen.property("bootargs").and_then(|b| b.as_str()) {
            p.bootargs = args;
        }
        if let Some(seed) = chosen.property("rng-seed") {
            if seed.value.len() >= 32 {
                let mut bytes = [0; 32];
                bytes.copy_from_slice(&seed.value[..32]);
                p.rng_seed = Some(bytes);
            }
        }
    }

    let uart = fdt
        .find_node("/chosen")
        .and_then(|c| c.property("stdout-path"))
        .and_then(|s| s.as_str())
        .map(|path| path.split(':').next().unwrap_or(path))
        .and_then(|path| fdt.find_node(path))
        .filter(|n| n.compatible().is_some_and(|c| c.all().any(|s| s == "arm,pl011")))
        .or_else(|| fdt.find_compatible(&["arm,pl011"]));
    if let Some(base) = uart.and_then(|n| first_reg_cpu_address(fdt, &n)) {
        p.uart_base = base;
    }

    if let Some(gic) = fdt.find_compatible(&["arm,gic-v3"]) {
        let mut regs = gic.reg().into_iter().flatten();
        if let (Some(d), Some(r)) = (regs.next(), regs.next()) {
            p.gic = GicConfig::V3 {
                distributor: d.starting_address as usize,
                redistributors: r.starting_address as usize,
                redistributors_size: r.size.unwrap_or(0x20000),
            };
        }
    } else if let Some(gic) = fdt.find_compatible(&["arm,cortex-a15-gic", "arm,gic-400", "arm,cortex-a7-gic"]) {
        let mut regs = gic.reg().into_iter().flatten();
        if let (Some(d), Some(c)) = (regs.next(), regs.next()) {
            let cpu = |r: fdt::standard_nodes::MemoryRegion| cpu_address(fdt, &gic, r.starting_address as u64);
            if let (Some(distributor), Some(cpu_interface)) = (cpu(d), cpu(c)) {
                p.gic = GicConfig::V2 { distributor, cpu_interface };
            }
        }
    }

    // The timer's interrupts: secure phys, non-secure phys, virt, hyp.
    if let Some(timer) = fdt.find_compatible(&["arm,armv8-timer", "arm,armv7-timer"]) {
        if let Some(prop) = timer.property("interrupts") {
            let c: [u32; 6] = {
                let mut a = [0; 6];
                for (slot, v) in a.iter_mut().zip(cells(prop.value)) {
                    *slot = v;
                }
                a
            };
            if c[3] == 1 {
                p.timer_intid = c[4] + 16;
            }
        }
    }

    if let Some(psci) = fdt.find_compatible(&["arm,psci-1.0", "arm,psci-0.2", "arm,psci"]) {
        match psci.property("method").and_then(|m| m.as_str()) {
            Some("smc") => p.psci = PsciConduit::Smc,
            Some("hvc") => p.psci = PsciConduit::Hvc,
            // A conduit we cannot call is no conduit.
            Some(_) => p.psci = PsciConduit::None,
            None => {}
        }
    }

    read_genet(fdt, p);

    let mut slot = 0;
    for node in fdt.all_nodes() {
        if slot >= MAX_VIRTIO_SLOTS {
            break;
        }
        if !node.compatible().is_some_and(|c| c.all().any(|s| s == "virtio,mmio")) {
            continue;
        }
        let (Some(reg), Some(intid)) = (node.reg().and_then(|mut r| r.next()), first_intid(&node)) else {
            continue;
        };
        p.virtio_mmio[slot] =
            Some(VirtioMmioSlot { base: reg.starting_address as usize, size: reg.size.unwrap_or(0x200), intid });
        slot += 1;
    }

    if let Some(pci) = fdt.find_compatible(&["pci-host-ecam-generic"]) {
        if let Some(ecam) = pci.reg().and_then(|mut r| r.next()) {
            let mut host = PciHost {
                ecam_base: ecam.starting_address as usize,
                ecam_size: ecam.size.unwrap_or(0),
                mmio32: None,
                mmio64: None,
                intx_map: [None; MAX_INTX_ROUTES],
                intx_mask: (0, 0),
            };
            read_interrupt_map(fdt, &pci, &mut host);
            // ranges: <phys.hi phys.mid phys.lo> <cpu addr (2)> <size (2)>.
            if let Some(ranges) = pci.property("ranges") {
                let words: [u32; 7 * 3] = {
                    let mut a = [0; 21];
                    for (slot, v) in a.iter_mut().zip(cells(ranges.value)) {
                        *slot = v;
                    }
                    a
                };
                for entry in words.chunks_exact(7).take(ranges.value.len() / 28) {
                    let space = (entry[0] >> 24) & 3;
                    let cpu = ((entry[3] as u64) << 32 | entry[4] as u64) as usize;
                    let size = ((entry[5] as u64) << 32 | entry[6] as u64) as usize;
                    match space {
                        2 => host.mmio32 = Some((cpu, size)),
                        3 => host.mmio64 = Some((cpu, size)),
                        _ => {}
                    }
                }
            }
            p.pci = Some(host);
        }
    }
}

/// The GENET controller as the tree describes it; none if the tree has no
/// node for it (QEMU's `raspi4b` removes it).
fn read_genet(fdt: &fdt::Fdt<'static>, p: &mut Platform) {
    let Some(node) = fdt.find_compatible(&["brcm,bcm2711-genet-v5", "brcm,genet-v5"]) else {
        p.genet = None;
        return;
    };
    let enabled = node.property("status").and_then(|s| s.as_str()).is_none_or(|s| s == "okay" || s == "ok");
    let Some(base) = first_reg_cpu_address(fdt, &node) else { return };
    let mac = ["local-mac-address", "mac-address"]
        .iter()
        .filter_map(|name| node.property(name))
        .filter_map(|prop| <[u8; 6]>::try_from(prop.value).ok())
        .find(|mac| mac.iter().any(|&b| b != 0));
    let phy_address = node
        .property("phy-handle")
        .and_then(|h| h.as_usize())
        .and_then(|phandle| fdt.find_phandle(phandle as u32))
        .and_then(|phy| phy.property("reg"))
        .and_then(|reg| reg.as_usize())
        .and_then(|reg| u8::try_from(reg).ok());
    let default = p.genet;
    p.genet = Some(GenetConfig {
        base,
        enabled,
        intid: first_intid(&node).or(default.map(|g| g.intid)).unwrap_or(0),
        mac: mac.or(default.and_then(|g| g.mac)),
        phy_address: phy_address.or(default.and_then(|g| g.phy_address)),
    });
}

/// The CPU address of a node's first `reg` entry.
fn first_reg_cpu_address(fdt: &fdt::Fdt<'static>, node: &fdt::node::FdtNode<'_, 'static>) -> Option<usize> {
    let reg = node.reg()?.next()?;
    cpu_address(fdt, node, reg.starting_address as u64)
}

/// Translates `address`, as `node`'s parent bus sees it, into a CPU
/// physical address (see `kernel::devicetree::cpu_address`).
fn cpu_address(fdt: &fdt::Fdt<'static>, node: &fdt::node::FdtNode<'_, 'static>, address: u64) -> Option<usize> {
    let blob = blob_of(fdt)?;
    // The node's name is a slice of the blob: its offset names the node.
    let name = (node.name.as_ptr() as usize).checked_sub(blob.as_ptr() as usize)?;
    devicetree::cpu_address(blob, name, address).and_then(|a| usize::try_from(a).ok())
}

/// The whole blob as bytes.
fn blob_of(fdt: &fdt::Fdt<'static>) -> Option<&'static [u8]> {
    let (address, size) = (DTB.load(core::sync::atomic::Ordering::Relaxed), fdt.total_size());
    if address == 0 {
        return None;
    }
    // `discover` stored the address of the blob `fdt` parses; its header
    // says it is `size` bytes.
    // SAFETY: that blob stays in place, unmodified, for the whole run.
    Some(unsafe { core::slice::from_raw_parts(address as *const u8, size) })
}

/// The address of the blob being read (for `blob_of`).
static DTB: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);
