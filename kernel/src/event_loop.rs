//! The one loop the appliance runs: sleep in WFI until an interrupt, take
//! the pending set, let the stack and services do their work, arm the timer
//! for the next deadline the stack returned.
use crate::arch::{cpu, timer};
use crate::nic::{Nic, NicDriver};
use crate::{irq, stack_guard};
use kernel::appliance::{Appliance, NicReport};
use log::debug;
use net::time::Instant;

pub struct EventLoop {
    timer_intid: u32,
    network: Option<(Nic, Appliance<'static>)>,
    /// Run the stack now, without waiting for an interrupt.
    due: bool,
}

pub fn now() -> Instant {
    Instant::from_micros(timer::uptime_micros() as i64)
}

fn micros(at: Instant) -> u64 {
    at.total_micros().max(0) as u64
}

impl EventLoop {
    pub fn new(timer_intid: u32, mut network: Option<(Nic, Appliance<'static>)>) -> EventLoop {
        if let Some((nic, _)) = &mut network {
            irq::enable(nic.intid, nic.trigger);
            // A frame that came during boot raised the line before it was
            // configured; an edge-triggered line (virtio-mmio) then never
            // rises again while the device's status stays set. Acknowledge
            // it once here: the first round (`due`) drains the rings.
            nic.device.acknowledge_interrupt();
            log::info!("event loop: {} NIC on INTID {}", nic.location, nic.intid);
        }
        EventLoop { timer_intid, network, due: true }
    }

    pub fn run(mut self) -> ! {
        loop {
            if !self.due {
                cpu::wait_for_interrupt_unless(irq::any_pending);
            }
            self.due = false;
            irq::drain(|intid| self.take_interrupt(intid));
            self.run_stack();
            stack_guard::check();
        }
    }

    /// Acknowledges one interrupt; the work happens in `run_stack`.
    fn take_interrupt(&mut self, intid: u32) {
        if intid == self.timer_intid {
            timer::disarm();
            irq::unmask(intid);
        } else if let Some((nic, _)) = self.network.as_mut().filter(|(n, _)| n.intid == intid) {
            // Acknowledge before draining the rings: a frame that lands
            // after this raises the interrupt again.
            NicDriver::acknowledge_interrupt(&mut nic.device);
            irq::unmask(intid);
        } else {
            // No driver owns it: leave the line masked so a level-triggered
            // device cannot storm.
            debug!("interrupt {intid} has no owner: left masked");
        }
    }

    fn run_stack(&mut self) {
        let Some((nic, appliance)) = self.network.as_mut() else { return };
        let now = now();
        let link_check = NicDriver::poll_link(&mut nic.device, micros(now));
        let counters = NicDriver::metrics(&nic.device);
        let report = NicReport {
            link_up: NicDriver::link_up(&nic.device),
            ip_mtu: net::phy::Device::capabilities(&nic.device).ip_mtu as u32,
            rings: NicDriver::rings(&nic.device),
            counters: counters.as_slice(),
        };
        let stack_deadline = match appliance.poll(now, &mut nic.device, report) {
            Some(at) if at <= now => {
                self.due = true;
                return;
            }
            Some(at) => Some(micros(at)),
            None => None,
        };
        // The earlier of the stack's deadline and the driver's link check.
        match stack_deadline.into_iter().chain(link_check).min() {
            Some(at) => timer::arm(at),
            None => timer::disarm(),
        }
    }
}
