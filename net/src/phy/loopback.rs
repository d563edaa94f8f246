//! In-memory devices: a [`Loopback`] that receives what it transmits, and a
//! [`Link`], a wire between two endpoints where what one transmits the
//! other receives.
//!
//! Both keep frames in bounded [`FrameQueue`]s over storage fixed at
//! construction (caller-provided, or with `std` allocated once). Like a
//! real wire, transmitting never blocks: a frame that arrives at a full
//! queue is dropped and counted, the way a receiving NIC drops frames when
//! its ring is full.

use core::cell::{RefCell, RefMut};
use core::ops::DerefMut;

use super::frame_queue::FrameQueue;
use super::{Device, DeviceCapabilities, RxToken, TxToken};
use crate::time::Instant;

/// Largest frame a queue slot of these devices holds: the capability's
/// frame size plus room for one VLAN tag.
fn slot_frame_len(caps: &DeviceCapabilities) -> usize {
    caps.max_frame_len() + 4
}

/// A device whose transmitted frames come back on receive.
///
/// A receive takes the frame off the queue at once (so its reply token has
/// room), so dropping the receive token unconsumed loses that frame.
#[derive(Debug)]
pub struct Loopback<S> {
    queue: FrameQueue<S>,
    /// The frame being received, copied out of the queue so that the reply
    /// token can push into the queue at the same time.
    rx_frame: S,
    rx_len: usize,
    caps: DeviceCapabilities,
}

impl<S: AsRef<[u8]> + AsMut<[u8]>> Loopback<S> {
    /// Bytes of queue storage for `frames` frames on a device with `caps`
    /// (pass as `queue_storage`; `rx_storage` needs
    /// [`DeviceCapabilities::max_frame_len`] + 4 bytes).
    pub const fn storage_len(frames: usize, caps: &DeviceCapabilities) -> usize {
        FrameQueue::storage_len(frames, caps.max_frame_len() + 4)
    }

    /// A loopback over caller storage: `queue_storage` of
    /// [`storage_len`](Self::storage_len) bytes and `rx_storage` of at
    /// least one frame.
    ///
    /// # Panics
    /// If the storage is too small for two frames (a configuration error).
    pub fn new(queue_storage: S, rx_storage: S, caps: DeviceCapabilities) -> Self {
        let slot = slot_frame_len(&caps);
        assert!(rx_storage.as_ref().len() >= slot, "loopback rx storage smaller than a frame");
        Loopback { queue: FrameQueue::new(queue_storage, slot), rx_frame: rx_storage, rx_len: 0, caps }
    }

    /// Frames dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.queue.overflows()
    }

    /// Frames waiting to be received.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(any(test, feature = "std"))]
impl Loopback<std::vec::Vec<u8>> {
    /// A loopback holding up to `frames` frames, its storage allocated once.
    pub fn with_capacity(frames: usize, caps: DeviceCapabilities) -> Self {
        let slot = slot_frame_len(&caps);
        Loopback::new(std::vec![0; FrameQueue::storage_len(frames, slot)], std::vec![0; slot], caps)
    }
}

/// A received frame held by a device of this module.
#[derive(Debug)]
pub struct LoopbackRxToken<'a> {
    frame: &'a [u8],
}

impl RxToken for LoopbackRxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

/// Room for one frame in the queue the frame will be received from. `Q`
/// is how the queue is borrowed (plainly, or out of a [`RefCell`]).
#[derive(Debug)]
pub struct QueueTxToken<Q> {
    queue: Q,
}

impl<S, Q> TxToken for QueueTxToken<Q>
where
    S: AsRef<[u8]> + AsMut<[u8]>,
    Q: DerefMut<Target = FrameQueue<S>>,
{
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(mut self, len: usize, f: F) -> R {
        match self.queue.push_with(len, 0, f) {
            Some((_kept, result)) => result,
            None => panic!("transmit of {len} bytes exceeds the device frame size"),
        }
    }
}

impl<S: AsRef<[u8]> + AsMut<[u8]>> Device for Loopback<S> {
    type RxToken<'a>
        = LoopbackRxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = QueueTxToken<&'a mut FrameQueue<S>>
    where
        Self: 'a;

    fn receive(&mut self, _now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let (_, frame) = self.queue.front()?;
        let len = frame.len();
        self.rx_frame.as_mut()[..len].copy_from_slice(frame);
        self.rx_len = len;
        self.queue.pop_front();
        Some((
            LoopbackRxToken { frame: &self.rx_frame.as_ref()[..self.rx_len] },
            QueueTxToken { queue: &mut self.queue },
        ))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Self::TxToken<'_>> {
        Some(QueueTxToken { queue: &mut self.queue })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        self.caps
    }
}

/// One of the two endpoints of a [`Link`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    A,
    B,
}

/// A full-duplex in-memory wire between endpoints A and B, each direction
/// a bounded queue. [`ends`](Link::ends) gives both endpoints as devices at
/// once (so each can be wrapped, e.g. in a fault injector, and kept for the
/// whole simulation); the link itself is only borrowed shared.
///
/// Each direction's queue is in a [`RefCell`]: a device call on one end
/// borrows its two queues only while its tokens live, and if the other end
/// holds one of them at that moment the call reports no frame / no room
/// rather than panicking.
#[derive(Debug)]
pub struct Link<S> {
    a_to_b: RefCell<FrameQueue<S>>,
    b_to_a: RefCell<FrameQueue<S>>,
    caps: DeviceCapabilities,
}

impl<S: AsRef<[u8]> + AsMut<[u8]>> Link<S> {
    /// Bytes of storage for one direction's queue of `frames` frames.
    pub const fn storage_len(frames: usize, caps: &DeviceCapabilities) -> usize {
        FrameQueue::storage_len(frames, caps.max_frame_len() + 4)
    }

    /// A link over caller storage, one block per direction, each of
    /// [`storage_len`](Self::storage_len) bytes.
    ///
    /// # Panics
    /// If a block is too small for two frames (a configuration error).
    pub fn new(a_to_b: S, b_to_a: S, caps: DeviceCapabilities) -> Self {
        let slot = slot_frame_len(&caps);
        Link {
            a_to_b: RefCell::new(FrameQueue::new(a_to_b, slot)),
            b_to_a: RefCell::new(FrameQueue::new(b_to_a, slot)),
            caps,
        }
    }

    /// Both endpoints as devices: `(A, B)`.
    pub fn ends(&self) -> (LinkEnd<'_, S>, LinkEnd<'_, S>) {
        (self.end(Side::A), self.end(Side::B))
    }

    /// Endpoint A as a device.
    pub fn a(&self) -> LinkEnd<'_, S> {
        self.end(Side::A)
    }

    /// Endpoint B as a device.
    pub fn b(&self) -> LinkEnd<'_, S> {
        self.end(Side::B)
    }

    /// The given endpoint as a device.
    pub fn end(&self, side: Side) -> LinkEnd<'_, S> {
        let (incoming, outgoing) = match side {
            Side::A => (&self.b_to_a, &self.a_to_b),
            Side::B => (&self.a_to_b, &self.b_to_a),
        };
        LinkEnd { incoming, outgoing, caps: self.caps }
    }

    fn towards(&self, side: Side) -> &RefCell<FrameQueue<S>> {
        match side {
            Side::A => &self.b_to_a,
            Side::B => &self.a_to_b,
        }
    }

    /// Frames dropped because the queue towards `side` was full (0 while
    /// that queue is borrowed by a live token).
    pub fn dropped_towards(&self, side: Side) -> u64 {
        self.towards(side).try_borrow().map_or(0, |q| q.overflows())
    }

    /// Frames waiting to be received by `side` (0 while that queue is
    /// borrowed by a live token).
    pub fn queued_towards(&self, side: Side) -> usize {
        self.towards(side).try_borrow().map_or(0, |q| q.len())
    }
}

#[cfg(any(test, feature = "std"))]
impl Link<std::vec::Vec<u8>> {
    /// A link whose direction queues hold `frames` frames each, allocated
    /// once here.
    pub fn with_capacity(frames: usize, caps: DeviceCapabilities) -> Self {
        let len = FrameQueue::storage_len(frames, slot_frame_len(&caps));
        Link::new(std::vec![0; len], std::vec![0; len], caps)
    }
}

/// One endpoint of a [`Link`] as a device.
#[derive(Debug)]
pub struct LinkEnd<'l, S> {
    incoming: &'l RefCell<FrameQueue<S>>,
    outgoing: &'l RefCell<FrameQueue<S>>,
    caps: DeviceCapabilities,
}

/// A frame received on a [`LinkEnd`]; consuming it removes it from the wire.
#[derive(Debug)]
pub struct LinkRxToken<'a, S> {
    queue: RefMut<'a, FrameQueue<S>>,
}

impl<S: AsRef<[u8]> + AsMut<[u8]>> RxToken for LinkRxToken<'_, S> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(mut self, f: F) -> R {
        let result = match self.queue.front() {
            Some((_, frame)) => f(frame),
            // receive() only hands out a token for a non-empty queue and
            // the token holds the only borrow, so the frame is still there.
            None => unreachable!("link rx token without a frame"),
        };
        self.queue.pop_front();
        result
    }
}

impl<'l, S: AsRef<[u8]> + AsMut<[u8]>> Device for LinkEnd<'l, S> {
    type RxToken<'a>
        = LinkRxToken<'a, S>
    where
        Self: 'a;
    type TxToken<'a>
        = QueueTxToken<RefMut<'a, FrameQueue<S>>>
    where
        Self: 'a;

    fn receive(&mut self, _now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let incoming = self.incoming.try_borrow_mut().ok()?;
        if incoming.is_empty() {
            return None;
        }
        let outgoing = self.outgoing.try_borrow_mut().ok()?;
        Some((LinkRxToken { queue: incoming }, QueueTxToken { queue: outgoing }))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Self::TxToken<'_>> {
        let outgoing = self.outgoing.try_borrow_mut().ok()?;
        Some(QueueTxToken { queue: outgoing })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        self.caps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    const NOW: Instant = Instant::ZERO;
    const SMALL: DeviceCapabilities = DeviceCapabilities { ip_mtu: 100, ..DeviceCapabilities::ethernet() };

    fn send<D: Device>(dev: &mut D, frame: &[u8]) {
        let tx = dev.transmit(NOW).expect("transmit token");
        tx.consume(frame.len(), |buf| buf.copy_from_slice(frame));
    }

    fn recv<D: Device>(dev: &mut D) -> Option<Vec<u8>> {
        let (rx, _tx) = dev.receive(NOW)?;
        Some(rx.consume(|f| f.to_vec()))
    }

    #[test]
    fn loopback_returns_frames_in_order() {
        let mut dev = Loopback::with_capacity(4, DeviceCapabilities::ethernet());
        assert_eq!(recv(&mut dev), None);
        send(&mut dev, &[1, 2, 3]);
        send(&mut dev, &[4; 1518]);
        assert_eq!(dev.queued(), 2);
        assert_eq!(recv(&mut dev), Some(std::vec![1, 2, 3]));
        assert_eq!(recv(&mut dev), Some(std::vec![4; 1518]));
        assert_eq!(recv(&mut dev), None);
        assert_eq!(dev.dropped(), 0);
    }

    #[test]
    fn loopback_reply_token_while_receiving() {
        let mut dev = Loopback::with_capacity(2, DeviceCapabilities::ethernet());
        send(&mut dev, &[1]);
        send(&mut dev, &[2]);
        // The queue is full; receiving frees a slot for the reply.
        let (rx, tx) = dev.receive(NOW).unwrap();
        let got = rx.consume(|f| f.to_vec());
        tx.consume(1, |buf| buf[0] = got[0] + 10);
        assert_eq!(dev.dropped(), 0);
        assert_eq!(recv(&mut dev), Some(std::vec![2]));
        assert_eq!(recv(&mut dev), Some(std::vec![11]));
    }

    #[test]
    fn loopback_counts_drops_when_full() {
        let mut dev = Loopback::with_capacity(2, DeviceCapabilities::ethernet());
        for i in 0..5u8 {
            send(&mut dev, &[i]);
        }
        assert_eq!(dev.dropped(), 3);
        assert_eq!(recv(&mut dev), Some(std::vec![0]));
        assert_eq!(recv(&mut dev), Some(std::vec![1]));
        assert_eq!(recv(&mut dev), None);
    }

    #[test]
    fn loopback_on_caller_storage() {
        let mut queue = [0u8; Loopback::<&mut [u8]>::storage_len(3, &SMALL)];
        let mut rx = [0u8; 118];
        let mut dev = Loopback::new(&mut queue[..], &mut rx[..], SMALL);
        send(&mut dev, &[7; 118]);
        assert_eq!(recv(&mut dev), Some(std::vec![7; 118]));
        assert_eq!(dev.capabilities().ip_mtu, 100);
    }

    #[test]
    #[should_panic(expected = "exceeds the device frame size")]
    fn oversized_transmit_panics() {
        let mut dev = Loopback::with_capacity(2, SMALL);
        send(&mut dev, &[0; 119]);
    }

    #[test]
    fn link_carries_each_direction() {
        let link = Link::with_capacity(4, DeviceCapabilities::ethernet());
        send(&mut link.a(), &[0xa1]);
        send(&mut link.a(), &[0xa2]);
        send(&mut link.b(), &[0xb1]);
        assert_eq!(recv(&mut link.a()), Some(std::vec![0xb1]));
        assert_eq!(recv(&mut link.a()), None, "A never hears itself");
        assert_eq!(link.queued_towards(Side::B), 2);
        assert_eq!(recv(&mut link.b()), Some(std::vec![0xa1]));
        assert_eq!(recv(&mut link.end(Side::B)), Some(std::vec![0xa2]));
        assert_eq!(recv(&mut link.b()), None);
    }

    #[test]
    fn link_reply_goes_to_the_peer() {
        let link = Link::with_capacity(4, DeviceCapabilities::ethernet());
        send(&mut link.a(), &[1, 2]);
        {
            let mut b = link.b();
            let (rx, tx) = b.receive(NOW).unwrap();
            let len = rx.consume(|f| f.len());
            tx.consume(len, |buf| buf.copy_from_slice(&[3, 4]));
        }
        assert_eq!(recv(&mut link.a()), Some(std::vec![3, 4]));
    }

    #[test]
    fn link_unconsumed_rx_token_keeps_the_frame() {
        let link = Link::with_capacity(4, DeviceCapabilities::ethernet());
        send(&mut link.a(), &[9]);
        {
            let mut b = link.b();
            let _ = b.receive(NOW).unwrap();
        }
        assert_eq!(recv(&mut link.b()), Some(std::vec![9]));
    }

    #[test]
    fn link_ends_live_together() {
        let link = Link::with_capacity(4, DeviceCapabilities::ethernet());
        let (mut a, mut b) = link.ends();
        send(&mut a, &[1]);
        send(&mut b, &[2]);
        assert_eq!(recv(&mut b), Some(std::vec![1]));
        assert_eq!(recv(&mut a), Some(std::vec![2]));
    }

    #[test]
    fn link_end_busy_while_peer_token_lives() {
        let link = Link::with_capacity(4, DeviceCapabilities::ethernet());
        let (mut a, mut b) = link.ends();
        send(&mut a, &[1]);
        let (rx, tx) = b.receive(NOW).unwrap();
        // B's tokens borrow both queues: A can neither send nor receive.
        assert!(a.transmit(NOW).is_none());
        assert!(a.receive(NOW).is_none());
        assert_eq!(link.queued_towards(Side::B), 0);
        drop((rx, tx));
        assert_eq!(link.queued_towards(Side::B), 1);
        assert!(a.transmit(NOW).is_some());
    }

    #[test]
    fn link_counts_drops_per_direction() {
        let link = Link::with_capacity(2, DeviceCapabilities::ethernet());
        for i in 0..3u8 {
            send(&mut link.a(), &[i]);
        }
        assert_eq!(link.dropped_towards(Side::B), 1);
        assert_eq!(link.dropped_towards(Side::A), 0);
    }
}
