//! The one loop the appliance runs: sleep in WFI until an interrupt, take
//! the pending set, do the work, arm the timer for the next deadline.
use crate::arch::{cpu, timer};
use crate::irq;
use log::debug;

pub struct EventLoop {
    timer_intid: u32,
    /// The next instant (microseconds since boot) work is due, if any.
    next_deadline: Option<u64>,
}

impl EventLoop {
    pub fn new(timer_intid: u32) -> EventLoop {
        EventLoop { timer_intid, next_deadline: None }
    }

    pub fn run(mut self) -> ! {
        loop {
            cpu::wait_for_interrupt_unless(irq::any_pending);
            irq::drain(|intid| self.dispatch(intid));
            self.arm_timer();
        }
    }

    fn dispatch(&mut self, intid: u32) {
        if intid == self.timer_intid {
            timer::disarm();
            self.next_deadline = None;
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
