//! The one loop the appliance runs: sleep in WFI until an interrupt, take
//! the pending set, do the work, arm the timer for the next deadline.
use crate::arch::{cpu, timer};
use crate::nic::Nic;
use crate::{irq, stack_guard};
use log::debug;
use net::phy::{Device, RxToken};
use net::time::Instant;

pub struct EventLoop {
    timer_intid: u32,
    nic: Option<Nic>,
    /// The next instant (microseconds since boot) work is due, if any.
    next_deadline: Option<u64>,
    /// Frames received with no stack to take them yet.
    frames_dropped: u64,
}

pub fn now() -> Instant {
    Instant::from_micros(timer::uptime_micros() as i64)
}

impl EventLoop {
    pub fn new(timer_intid: u32, nic: Option<Nic>) -> EventLoop {
        if let Some(nic) = &nic {
            irq::enable(nic.intid, nic.trigger);
            log::info!("event loop: {} NIC on INTID {}", nic.location, nic.intid);
        }
        EventLoop { timer_intid, nic, next_deadline: None, frames_dropped: 0 }
    }

    pub fn run(mut self) -> ! {
        loop {
            cpu::wait_for_interrupt_unless(irq::any_pending);
            irq::drain(|intid| self.dispatch(intid));
            self.arm_timer();
            stack_guard::check();
        }
    }

    fn dispatch(&mut self, intid: u32) {
        if intid == self.timer_intid {
            timer::disarm();
            self.next_deadline = None;
            irq::unmask(intid);
        } else if let Some(nic) = self.nic.as_mut().filter(|n| n.intid == intid) {
            nic.device.acknowledge_interrupt();
            // No stack is attached yet: received frames are counted and dropped.
            while let Some((rx, _tx)) = nic.device.receive(now()) {
                rx.consume(|_| ());
                self.frames_dropped += 1;
            }
            irq::unmask(intid);
        } else {
            // No driver owns it: leave the line masked so a level-triggered
            // device cannot storm.
            debug!("interrupt {intid} has no owner: left masked");
        }
    }

    fn arm_timer(&self) {
        match self.next_deadline {
            Some(at) => timer::arm(at),
            None => timer::disarm(),
        }
    }
}
