//! Kernel self-tests chosen by the `selftest=` bootarg. Each ends the run
//! with an exit status, which `scripts/test` reads through semihosting.
use crate::arch::{cpu, power, timer};
use crate::event_loop::now;
use crate::irq;
use crate::nic::{Nic, NicDriver};
use kernel::bootargs::SelfTest;
use log::{error, info};
use net::phy::{Device, RxToken, TxToken};
use net::wire::{arp, ethernet, EthernetAddress, Ipv4Address};

/// How late a deadline interrupt may arrive under QEMU's TCG emulation.
const TIMER_TOLERANCE_US: u64 = 20_000;
/// An address no board maps (beyond the 39-bit virtual address range).
const UNMAPPED_ADDRESS: usize = 0xdead_0000_0000;

pub fn run(test: SelfTest, timer_intid: u32, nic: Option<Nic>) -> ! {
    match test {
        SelfTest::Boot => {
            info!("selftest boot: passed");
            power::exit(crate::EXIT_SUCCESS)
        }
        SelfTest::Timer => timer_deadlines(timer_intid),
        SelfTest::Nic => match nic {
            Some(nic) => arp_with_gateway(nic, timer_intid),
            None => {
                error!("selftest nic: no network device");
                power::exit(crate::EXIT_SELFTEST_FAILED)
            }
        },
        SelfTest::Panic => panic!("selftest panic: the panic handler must report this"),
        SelfTest::Fault => {
            info!("selftest fault: reading unmapped address {UNMAPPED_ADDRESS:#x}");
            // Deliberately invalid: the read must fault.
            // SAFETY: the exception handler ends the run before the read could return.
            let value = unsafe { core::ptr::read_volatile(UNMAPPED_ADDRESS as *const u64) };
            error!("selftest fault: the read returned {value:#x} instead of faulting");
            power::exit(crate::EXIT_SELFTEST_FAILED)
        }
    }
}

/// Arms deadlines of several lengths; each interrupt must arrive after its
/// deadline and within the tolerance, waking the core from WFI.
fn timer_deadlines(timer_intid: u32) -> ! {
    let mut passed = true;
    for delay_us in [1_000u64, 10_000, 50_000, 200_000] {
        let armed_at = timer::uptime_micros();
        let deadline = armed_at + delay_us;
        timer::arm(deadline);
        let mut wakeups = 0u32;
        let arrived = loop {
            cpu::wait_for_interrupt_unless(irq::any_pending);
            wakeups += 1;
            if irq::take(timer_intid) {
                let now = timer::uptime_micros();
                timer::disarm();
                irq::unmask(timer_intid);
                break Some(now);
            }
            if timer::uptime_micros() > deadline + 10 * TIMER_TOLERANCE_US {
                break None;
            }
        };
        match arrived {
            Some(at) if at >= deadline && at - deadline <= TIMER_TOLERANCE_US => {
                info!("selftest timer: {delay_us} us deadline interrupt {} us late, {wakeups} wakeup(s)", at - deadline)
            }
            Some(at) => {
                passed = false;
                error!(
                    "selftest timer: {delay_us} us deadline interrupt at {at}, deadline {deadline}: outside tolerance"
                );
            }
            None => {
                passed = false;
                error!("selftest timer: {delay_us} us deadline interrupt never arrived");
            }
        }
    }
    if passed {
        info!("selftest timer: passed ({} interrupts taken)", irq::total());
        power::exit(crate::EXIT_SUCCESS)
    } else {
        power::exit(crate::EXIT_SELFTEST_FAILED)
    }
}

/// QEMU user networking's gateway and the address it gives the guest.
const SLIRP_GATEWAY: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);
const SLIRP_GUEST: Ipv4Address = Ipv4Address::new(10, 0, 2, 15);

/// Sends an ARP request for the gateway and waits, in WFI, for the NIC
/// interrupt that brings the reply.
fn arp_with_gateway(mut nic: Nic, timer_intid: u32) -> ! {
    irq::enable(nic.intid, nic.trigger);
    let mac = NicDriver::mac_address(&nic.device);
    let request = arp::Repr {
        operation: arp::Operation::Request,
        source_hardware_addr: mac,
        source_protocol_addr: SLIRP_GUEST,
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: SLIRP_GATEWAY,
    };
    let header = ethernet::Repr {
        src_addr: mac,
        dst_addr: EthernetAddress::BROADCAST,
        ethertype: ethernet::EtherType::Arp,
        vlan: None,
    };
    let Some(tx) = nic.device.transmit(now()) else {
        error!("selftest nic: no transmit buffer");
        power::exit(crate::EXIT_SELFTEST_FAILED)
    };
    let sent_at = timer::uptime_micros();
    tx.consume(header.buffer_len(request.buffer_len()), |buffer| {
        let mut frame = ethernet::Frame::new_unchecked(&mut *buffer);
        header.emit(&mut frame);
        request.emit(&mut arp::Packet::new_unchecked(frame.payload_mut()));
    });
    let deadline = sent_at + 2_000_000;
    timer::arm(deadline);
    let mut interrupts = 0;
    loop {
        cpu::wait_for_interrupt_unless(irq::any_pending);
        if irq::take(nic.intid) {
            interrupts += 1;
            NicDriver::acknowledge_interrupt(&mut nic.device);
            while let Some((rx, _tx)) = nic.device.receive(now()) {
                let reply = rx.consume(|frame| {
                    let frame = ethernet::Frame::new_checked(frame).ok()?;
                    let packet = arp::Packet::new_checked(frame.payload()).ok()?;
                    arp::Repr::parse(&packet).ok()
                });
                if let Some(reply) =
                    reply.filter(|r| r.operation == arp::Operation::Reply && r.source_protocol_addr == SLIRP_GATEWAY)
                {
                    let (rx_frames, tx_frames) = nic.device.frame_counts();
                    info!(
                        "selftest nic: {} is-at {} after {} us, {interrupts} NIC interrupt(s), rx {rx_frames} tx {tx_frames} frames",
                        reply.source_protocol_addr,
                        reply.source_hardware_addr,
                        timer::uptime_micros() - sent_at,
                    );
                    info!("selftest nic: passed");
                    power::exit(crate::EXIT_SUCCESS)
                }
            }
            irq::unmask(nic.intid);
        }
        if irq::take(timer_intid) || timer::uptime_micros() >= deadline {
            error!(
                "selftest nic: no ARP reply within 2 s ({interrupts} NIC interrupts, rx {} frames)",
                nic.device.frame_counts().0
            );
            power::exit(crate::EXIT_SELFTEST_FAILED)
        }
    }
}
