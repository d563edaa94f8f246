//! Ring index arithmetic. The device counts descriptors with free-running
//! 16-bit producer and consumer indices (65536 is a multiple of the ring
//! size, so `index % RING_SIZE` names the descriptor); they cannot be reset,
//! so the driver starts from whatever the device holds.
use super::RING_SIZE;

/// The receive ring: the device produces, the driver consumes.
#[derive(Debug)]
pub struct RxRing {
    consumer: u16,
    /// The frame at `consumer` was handed to the stack; its descriptor goes
    /// back to the device on the next call (the stack may still read it).
    pub held: bool,
}

impl RxRing {
    /// Starts consuming at the device's producer index (nothing waiting).
    pub fn new(producer: u16) -> RxRing {
        RxRing { consumer: producer, held: false }
    }

    /// Frames the device has written and the driver not yet consumed.
    pub fn waiting(&self, producer: u16) -> usize {
        producer.wrapping_sub(self.consumer) as usize
    }

    /// The descriptor (and buffer) of the next frame.
    pub fn slot(&self) -> usize {
        self.consumer as usize % RING_SIZE
    }

    /// Consumes one frame; returns the new consumer index for the device.
    pub fn advance(&mut self) -> u16 {
        self.consumer = self.consumer.wrapping_add(1);
        self.consumer
    }

    /// Gives up on everything waiting (the device's index made no sense).
    pub fn resync(&mut self, producer: u16) -> u16 {
        self.consumer = producer;
        self.held = false;
        self.consumer
    }
}

/// The transmit ring: the driver produces, the device consumes.
#[derive(Debug)]
pub struct TxRing {
    producer: u16,
    /// The device's consumer index as last seen: frames up to here are sent.
    completed: u16,
}

impl TxRing {
    /// Starts producing at the device's consumer index (nothing in flight).
    pub fn new(consumer: u16) -> TxRing {
        TxRing { producer: consumer, completed: consumer }
    }

    pub fn in_flight(&self) -> usize {
        self.producer.wrapping_sub(self.completed) as usize
    }

    pub fn free(&self) -> usize {
        RING_SIZE.saturating_sub(self.in_flight())
    }

    /// The descriptor (and buffer) the next frame goes in.
    pub fn slot(&self) -> usize {
        self.producer as usize % RING_SIZE
    }

    /// Queues one frame; returns the new producer index for the device.
    pub fn push(&mut self) -> u16 {
        self.producer = self.producer.wrapping_add(1);
        self.producer
    }

    /// Takes the device's consumer index: how many frames it finished, or
    /// `None` if it claims more than were queued (left as it was).
    pub fn complete(&mut self, consumer: u16) -> Option<usize> {
        let done = consumer.wrapping_sub(self.completed) as usize;
        if done > self.in_flight() {
            return None;
        }
        self.completed = consumer;
        Some(done)
    }
}
