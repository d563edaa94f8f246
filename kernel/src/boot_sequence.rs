//! From the entry assembly to the event loop.
use crate::arch::{cpu, exception, mmu, power, timer};
use crate::drivers::gic::{Gic, GicV2, GicV3, Trigger};
use crate::drivers::{pci, virtio_probe};
use crate::platform::{self, GicConfig, Platform, Source};
use crate::{bsp, event_loop, heap, irq, logger, nic, selftest, stack_guard};
use kernel::appliance::{Appliance, Settings, Storage};
use kernel::bootargs::BootArgs;
use log::{info, warn};

/// Called by boot/entry.S on the boot core at EL1, stack set, BSS zeroed,
/// IRQs masked. `entry_el` is the exception level the image was entered at.
#[no_mangle]
extern "C" fn kernel_main(dtb: usize, entry_el: u64) -> ! {
    exception::install();
    // The board's map covers the image, its stack, the DTB and every device.
    // SAFETY: first thing on the boot core, IRQs masked, as `enable` requires.
    unsafe { mmu::enable(bsp::MEMORY_MAP) };

    stack_guard::arm();
    bsp::early_init();
    logger::early(bsp::defaults().uart_base);
    let platform = platform::discover(dtb);
    let args = BootArgs::parse(platform.bootargs);
    power::set_conduit(platform.psci);
    power::use_semihosting_exit(args.semihosting_exit);
    timer::init(bsp::FALLBACK_TIMER_HZ);
    logger::init(platform.uart_base, platform.uart_clock_hz, args.log_level);

    banner(&platform, entry_el);
    for problem in args.problems() {
        warn!("{problem}");
    }
    let heap = heap::init(&platform);
    info!("heap: {} MiB at {:#x}", heap.size >> 20, heap.start);

    let gic = irq::install(make_gic(&platform));
    gic.init();
    info!("interrupts: GICv{} with {} lines", gic.version(), gic.lines());
    irq::enable(platform.timer_intid, Trigger::Level);
    cpu::enable_irqs();

    log_devices(&platform);
    let nic = nic::probe(&platform, args.offload);
    if nic.is_none() {
        warn!("nic: no network device found; running without network");
    }

    if let Some(test) = args.selftest {
        selftest::run(test, platform.timer_intid, nic);
    }
    let network = nic.map(|nic| {
        let settings = Settings {
            mac: nic.device.mac_address(),
            address: args.address,
            gateway: args.gateway,
            seed: entropy(&platform),
            fallback: bsp::FALLBACK_ADDRESS,
            fallback_gateway: bsp::FALLBACK_GATEWAY,
            address6: args.address6,
            gateway6: args.gateway6,
        };
        let appliance = Appliance::new(settings, Storage::allocate(), event_loop::now());
        (nic, appliance)
    });
    info!("ready: idle in the event loop");
    event_loop::EventLoop::new(platform.timer_intid, network).run()
}

/// 64 bits of entropy for the stack: the device tree's rng-seed, else the
/// counter (weak: logged at boot).
fn entropy(platform: &Platform) -> u64 {
    match platform.rng_seed {
        Some(seed) => seed
            .chunks_exact(8)
            .fold(0, |acc, c| acc ^ u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])),
        None => timer::uptime_micros().rotate_left(17) ^ 0x9e37_79b9_7f4a_7c15,
    }
}

fn make_gic(platform: &Platform) -> Gic {
    match platform.gic {
        GicConfig::V2 { distributor, cpu_interface } => {
            // SAFETY: addresses from the device tree (or board defaults), mapped as device memory.
            Gic::V2(unsafe { GicV2::new(distributor, cpu_interface) })
        }
        GicConfig::V3 { distributor, redistributors, redistributors_size } => {
            // SAFETY: addresses from the device tree (or board defaults), mapped as device memory.
            Gic::V3(unsafe { GicV3::new(distributor, redistributors, redistributors_size) })
        }
    }
}

fn banner(p: &Platform, entry_el: u64) {
    info!("network appliance {} ({})", kernel::VERSION, env!("APPLIANCE_GIT_REVISION"));
    let (core, variant, revision) = cpu::description();
    info!(
        "board: {}{}{} | CPU {core} r{variant}p{revision}",
        p.board,
        if p.model.is_some() { ", model " } else { "" },
        p.model.unwrap_or("")
    );
    info!("entered at EL{entry_el}, running at EL1, MMU {}", if mmu::is_enabled() { "on, caches on" } else { "off" });
    match (p.source, p.dtb) {
        (Source::DeviceTree, Some((addr, size))) => info!("device tree: {size} bytes at {addr:#x}"),
        _ => warn!("no device tree: using the {} board defaults", p.board),
    }
    info!("RAM: {} MiB at {:#x}", p.ram_size >> 20, p.ram_base);
    match p.gic {
        GicConfig::V2 { distributor, cpu_interface } => {
            info!("GIC: version 2, distributor {distributor:#x}, CPU interface {cpu_interface:#x}")
        }
        GicConfig::V3 { distributor, redistributors, .. } => {
            info!("GIC: version 3, distributor {distributor:#x}, redistributors {redistributors:#x}")
        }
    }
    let hz = timer::frequency_hz();
    info!("timer: {}.{:03} MHz, deadline interrupt INTID {}", hz / 1_000_000, hz / 1000 % 1000, p.timer_intid);
    info!("console: PL011 at {:#x}", p.uart_base);
    info!("bootargs: {:?}", p.bootargs);
    match p.rng_seed {
        Some(_) => info!("entropy: 32-byte rng-seed from the device tree"),
        None => warn!("entropy: no rng-seed in the device tree; falling back to timer jitter"),
    }
}

fn log_devices(p: &Platform) {
    let mut found = 0;
    for slot in p.virtio_slots() {
        // Reading the ID registers has no side effects.
        // SAFETY: the window comes from the device tree and is mapped as device memory.
        if let Some(dev) = unsafe { virtio_probe::probe(slot.base) } {
            found += 1;
            info!(
                "device: virtio-mmio {:#x}+{:#x} (INTID {}): {} (device ID {}), {} transport",
                slot.base,
                slot.size,
                slot.intid,
                dev.device_name(),
                dev.device_id,
                if dev.version == 1 { "legacy" } else { "modern" }
            );
        }
    }
    let slots = p.virtio_slots().count();
    info!("virtio-mmio: {found} device(s) in {slots} slot(s)");
    match &p.pci {
        Some(host) => {
            info!(
                "device: PCIe host bridge, ECAM {:#x} ({} MiB){}",
                host.ecam_base,
                host.ecam_size >> 20,
                match host.mmio32 {
                    Some((base, size)) => alloc::format!(", 32-bit window {base:#x} ({} MiB)", size >> 20),
                    None => alloc::string::String::new(),
                }
            );
            // SAFETY: the ECAM window comes from the device tree and is mapped as device memory.
            unsafe {
                pci::scan_bus0(host, |f| {
                    info!(
                        "device: PCI 00:{:02x}.0 {:04x}:{:04x} class {:06x}: {}",
                        f.device,
                        f.vendor_id,
                        f.device_id,
                        f.class,
                        f.description()
                    )
                })
            };
        }
        None => info!("no PCIe host bridge"),
    }
    if let Some(genet) = &p.genet {
        let mac = genet.mac.map(net::wire::EthernetAddress);
        info!(
            "device: GENET at {:#x} (INTID {}){}, MAC {}, PHY at MDIO address {}",
            genet.base,
            genet.intid,
            if genet.enabled { "" } else { ", disabled" },
            mac.map_or(alloc::string::String::from("not given"), |m| alloc::format!("{m}")),
            genet.phy_address.map_or(alloc::string::String::from("not given"), |a| alloc::format!("{a}")),
        );
    }
}
