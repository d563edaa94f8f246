//! A device wrapper that makes a link misbehave on purpose.
//!
//! [`FaultInjector`] sits between the stack and any [`Device`] and applies,
//! per direction, seeded random loss, duplication, reordering, corruption,
//! a fixed delay and a bandwidth cap. Every random choice comes from a
//! [`crate::rand::Rng`] seeded at construction, so the same seed and the
//! same traffic give the same faults: a failing simulation replays exactly.
//!
//! Frames pass through a bounded [`FrameQueue`] per direction (one copy per
//! frame). On receive, frames are pulled from the inner device only while
//! the queue has room, so a slow (delayed, rate-capped) direction pushes
//! back on the inner device instead of growing. On transmit, a full queue
//! makes [`Device::transmit`] return `None`.

use super::frame_queue::FrameQueue;
use super::{ChecksumCapabilities, Device, DeviceCapabilities, RxToken, TxToken};
use crate::rand::Rng;
use crate::time::{Duration, Instant};

/// A bandwidth cap as a token bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained rate in bytes of frame per second (at least 1 is used).
    pub bytes_per_sec: u64,
    /// Bytes that may pass back to back after idleness. A frame larger
    /// than this passes when the bucket is full, so every frame can pass.
    pub burst_bytes: u64,
}

/// The faults applied to one direction. Probabilities are in parts per
/// million (1_000_000 = always); everything zero means a clean link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultConfig {
    /// Probability a frame is lost.
    pub drop_ppm: u32,
    /// Probability a frame is delivered twice.
    pub duplicate_ppm: u32,
    /// Probability a frame is held back and delivered after the next one.
    pub reorder_ppm: u32,
    /// Probability one bit of a frame is flipped.
    pub corrupt_ppm: u32,
    /// Every frame is held until this long after it entered.
    pub delay: Duration,
    /// A frame held back for reordering goes out anyway after this long
    /// without a next frame, so a lone frame is not held forever.
    pub reorder_timeout: Duration,
    /// Optional bandwidth cap.
    pub rate_limit: Option<RateLimit>,
}

impl FaultConfig {
    /// No faults.
    pub const fn clean() -> FaultConfig {
        FaultConfig {
            drop_ppm: 0,
            duplicate_ppm: 0,
            reorder_ppm: 0,
            corrupt_ppm: 0,
            delay: Duration::ZERO,
            reorder_timeout: Duration::from_millis(10),
            rate_limit: None,
        }
    }
}

impl Default for FaultConfig {
    fn default() -> FaultConfig {
        FaultConfig::clean()
    }
}

/// What happened to the frames of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultCounters {
    /// Frames that entered the direction.
    pub frames: u64,
    /// Frames delivered out of the direction (duplicates included).
    pub delivered: u64,
    /// Frames lost on purpose.
    pub dropped: u64,
    /// Extra copies made.
    pub duplicated: u64,
    /// Frames delivered after a frame that entered later.
    pub reordered: u64,
    /// Frames with a bit flipped.
    pub corrupted: u64,
    /// Frames held for the configured delay.
    pub delayed: u64,
    /// Frames that had to wait for the bandwidth cap.
    pub throttled: u64,
    /// Frames lost because the queue was full.
    pub overflowed: u64,
    /// Received frames lost because they exceed the frame size.
    pub oversized: u64,
}

/// A token bucket in micro-bytes (bytes x 10^6), so that rate x elapsed
/// microseconds needs no division and loses nothing to rounding. The level
/// may go negative: a frame larger than the burst passes when the bucket
/// is full and leaves a debt, which keeps the long-run rate exact.
#[derive(Debug, Clone, Copy)]
struct TokenBucket {
    rate: i128,
    burst: i128,
    tokens: i128,
    last: Option<Instant>,
}

impl TokenBucket {
    fn new(limit: RateLimit) -> TokenBucket {
        let burst = i128::from(limit.burst_bytes.max(1)) * 1_000_000;
        TokenBucket { rate: i128::from(limit.bytes_per_sec.max(1)), burst, tokens: burst, last: None }
    }

    fn refill(&mut self, now: Instant) {
        if let Some(last) = self.last {
            let elapsed = i128::from((now - last).total_micros());
            self.tokens = self.burst.min(self.tokens.saturating_add(elapsed.saturating_mul(self.rate)));
        }
        if self.last.is_none_or(|last| now > last) {
            self.last = Some(now);
        }
    }

    fn size(len: usize) -> i128 {
        len as i128 * 1_000_000
    }

    /// Tokens a frame of `len` bytes waits for: its size, or a full
    /// bucket if it is larger than the burst.
    fn need(&self, len: usize) -> i128 {
        Self::size(len).min(self.burst)
    }

    fn can_take(&self, len: usize) -> bool {
        self.tokens >= self.need(len)
    }

    fn take(&mut self, len: usize) {
        self.tokens = self.tokens.saturating_sub(Self::size(len));
    }

    /// When `len` bytes will be available (after a refill at `now`).
    fn ready_at(&self, len: usize, now: Instant) -> Instant {
        let deficit = self.need(len).saturating_sub(self.tokens).max(0);
        let wait = (deficit + self.rate - 1) / self.rate;
        now + Duration::from_micros(wait.min(i128::from(u64::MAX)) as u64)
    }
}

/// One direction: its configuration, generator, queue and counters.
#[derive(Debug)]
struct Lane<S> {
    config: FaultConfig,
    rng: Rng,
    queue: FrameQueue<S>,
    /// When the last queued frame was held back for reordering, if it is.
    held_since: Option<Instant>,
    bucket: Option<TokenBucket>,
    /// Whether the front frame has been counted as throttled.
    front_throttled: bool,
    counters: FaultCounters,
}

impl<S: AsRef<[u8]> + AsMut<[u8]>> Lane<S> {
    fn new(storage: S, max_frame_len: usize, seed: u64) -> Self {
        Lane {
            config: FaultConfig::clean(),
            rng: Rng::new(seed),
            queue: FrameQueue::new(storage, max_frame_len),
            held_since: None,
            bucket: None,
            front_throttled: false,
            counters: FaultCounters::default(),
        }
    }

    fn configure(&mut self, config: FaultConfig) {
        self.config = config;
        self.bucket = config.rate_limit.map(TokenBucket::new);
    }

    /// Queues a frame of `len` bytes written by `f` and decides its fate.
    /// `None` (without calling `f`) if it exceeds the slot size.
    fn admit_with<R, F: FnOnce(&mut [u8]) -> R>(&mut self, len: usize, now: Instant, f: F) -> Option<R> {
        let release = (now + self.config.delay).total_micros();
        let (kept, result) = self.queue.push_with(len, release, f)?;
        self.counters.frames += 1;
        if !kept {
            self.counters.overflowed += 1;
            return Some(result);
        }
        // Draw every decision in a fixed order so the sequence of draws
        // depends only on the seed and the traffic.
        let lose = self.rng.chance(self.config.drop_ppm);
        let corrupt = self.rng.chance(self.config.corrupt_ppm);
        let duplicate = self.rng.chance(self.config.duplicate_ppm);
        let reorder = self.rng.chance(self.config.reorder_ppm);
        if lose {
            self.queue.pop_back();
            self.counters.dropped += 1;
            return Some(result);
        }
        let mut newest = self.queue.len() - 1;
        if corrupt && len > 0 {
            let bit = self.rng.gen_range(0..len as u64 * 8) as usize;
            if let Some(frame) = self.queue.get_mut(newest) {
                frame[bit / 8] ^= 1 << (bit % 8);
                self.counters.corrupted += 1;
            }
        }
        if self.config.delay > Duration::ZERO {
            self.counters.delayed += 1;
        }
        // A frame held back goes out right after this one.
        let released_held = self.held_since.take().is_some() && self.queue.swap_last_two();
        if released_held {
            self.counters.reordered += 1;
            newest -= 1;
        }
        if duplicate && self.queue.duplicate(newest) {
            self.counters.duplicated += 1;
        } else if reorder && !released_held {
            self.held_since = Some(now);
        }
        Some(result)
    }

    fn admit_copy(&mut self, frame: &[u8], now: Instant) {
        if self.admit_with(frame.len(), now, |buf| buf.copy_from_slice(frame)).is_none() {
            self.counters.oversized += 1;
        }
    }

    /// Whether the only queued frame is being held back for reordering.
    fn front_is_held(&mut self, now: Instant) -> bool {
        if let Some(since) = self.held_since {
            if now >= since + self.config.reorder_timeout {
                self.held_since = None;
            }
        }
        self.held_since.is_some() && self.queue.len() == 1
    }

    /// Whether the front frame may leave at `now`.
    fn ready(&mut self, now: Instant) -> bool {
        if self.front_is_held(now) {
            return false;
        }
        let Some((release, frame)) = self.queue.front() else {
            return false;
        };
        if release > now.total_micros() {
            return false;
        }
        let len = frame.len();
        if let Some(bucket) = &mut self.bucket {
            bucket.refill(now);
            if !bucket.can_take(len) {
                if !self.front_throttled {
                    self.front_throttled = true;
                    self.counters.throttled += 1;
                }
                return false;
            }
        }
        true
    }

    /// Removes the front frame after it was delivered.
    fn pop_delivered(&mut self) {
        if let (Some(bucket), Some((_, frame))) = (&mut self.bucket, self.queue.front()) {
            bucket.take(frame.len());
        }
        if self.queue.pop_front() {
            self.counters.delivered += 1;
        }
        self.front_throttled = false;
    }

    /// When the front frame may next leave, if something is queued.
    fn next_release(&self, now: Instant) -> Option<Instant> {
        let (release, frame) = self.queue.front()?;
        if let (Some(since), 1) = (self.held_since, self.queue.len()) {
            return Some(since + self.config.reorder_timeout);
        }
        let release = Instant::from_micros(release);
        let rate_ready = match &self.bucket {
            Some(bucket) => {
                let mut bucket = *bucket;
                bucket.refill(now);
                bucket.ready_at(frame.len(), now)
            }
            None => now,
        };
        Some(release.max(rate_ready))
    }

    /// Pulls frames from `inner` into the queue while it has room.
    fn pull<D: Device>(&mut self, inner: &mut D, now: Instant) {
        for _ in 0..self.queue.capacity() {
            if self.queue.is_full() {
                break;
            }
            let Some((rx, _reply)) = inner.receive(now) else {
                break;
            };
            rx.consume(|frame| self.admit_copy(frame, now));
        }
    }

    /// Sends every frame that may leave at `now` to `inner`.
    fn flush<D: Device>(&mut self, inner: &mut D, now: Instant) {
        for _ in 0..self.queue.capacity() {
            if !self.ready(now) {
                break;
            }
            let Some(tx) = inner.transmit(now) else {
                break;
            };
            if let Some((_, frame)) = self.queue.front() {
                tx.consume(frame.len(), |buf| buf.copy_from_slice(frame));
            }
            self.pop_delivered();
        }
    }
}

/// A device wrapper applying seeded faults to received and transmitted
/// frames. See the [module docs](self).
#[derive(Debug)]
pub struct FaultInjector<D, S> {
    inner: D,
    rx: Lane<S>,
    tx: Lane<S>,
}

/// Mixes the seed for the transmit direction so the two directions draw
/// independent sequences (each direction's faults then depend only on its
/// own traffic).
const TX_SEED_MIX: u64 = 0x6a09_e667_f3bc_c909;

impl<D: Device, S: AsRef<[u8]> + AsMut<[u8]>> FaultInjector<D, S> {
    /// Bytes of storage for one direction's queue of `frames` frames
    /// around a device with capabilities `caps`.
    pub const fn storage_len(frames: usize, caps: &DeviceCapabilities) -> usize {
        FrameQueue::storage_len(frames, caps.max_frame_len() + 4)
    }

    /// Wraps `inner` with no faults configured yet; `rx_storage` and
    /// `tx_storage` hold each direction's queue (see
    /// [`storage_len`](Self::storage_len)).
    ///
    /// # Panics
    /// If a storage block is smaller than two frames.
    pub fn new(inner: D, rx_storage: S, tx_storage: S, seed: u64) -> Self {
        let max = inner.capabilities().max_frame_len() + 4;
        FaultInjector {
            inner,
            rx: Lane::new(rx_storage, max, seed),
            tx: Lane::new(tx_storage, max, seed ^ TX_SEED_MIX),
        }
    }

    /// Sets the faults applied to received frames.
    pub fn set_rx_faults(&mut self, config: FaultConfig) {
        self.rx.configure(config);
    }
    /// Sets the faults applied to transmitted frames.
    pub fn set_tx_faults(&mut self, config: FaultConfig) {
        self.tx.configure(config);
    }
    pub fn rx_faults(&self) -> &FaultConfig {
        &self.rx.config
    }
    pub fn tx_faults(&self) -> &FaultConfig {
        &self.tx.config
    }
    /// What happened to received frames so far.
    pub fn rx_counters(&self) -> &FaultCounters {
        &self.rx.counters
    }
    /// What happened to transmitted frames so far.
    pub fn tx_counters(&self) -> &FaultCounters {
        &self.tx.counters
    }
    pub fn inner(&self) -> &D {
        &self.inner
    }
    pub fn inner_mut(&mut self) -> &mut D {
        &mut self.inner
    }
    pub fn into_inner(self) -> D {
        self.inner
    }

    /// The earliest time a queued frame may move on (a delay or rate wait
    /// ending, a held frame timing out): poll the device again by then.
    /// `None` when nothing is queued.
    pub fn poll_at(&self, now: Instant) -> Option<Instant> {
        match (self.rx.next_release(now), self.tx.next_release(now)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the receive queue is full: until frames are delivered, no
    /// more are taken from the inner device (a hosted loop should not wait
    /// on the inner device's readiness meanwhile).
    pub fn rx_is_full(&self) -> bool {
        self.rx.queue.is_full()
    }

    /// Whether the transmit queue is full ([`Device::transmit`] then
    /// returns `None` until frames leave).
    pub fn tx_is_full(&self) -> bool {
        self.tx.queue.is_full()
    }

    /// Sends transmitted frames that are due to the inner device (also done
    /// on every receive and transmit).
    pub fn flush(&mut self, now: Instant) {
        self.tx.flush(&mut self.inner, now);
    }
}

#[cfg(any(test, feature = "std"))]
impl<D: Device> FaultInjector<D, std::vec::Vec<u8>> {
    /// Wraps `inner` with direction queues of `frames` frames each,
    /// allocated once here.
    pub fn with_capacity(inner: D, frames: usize, seed: u64) -> Self {
        let len = FrameQueue::storage_len(frames, inner.capabilities().max_frame_len() + 4);
        FaultInjector::new(inner, std::vec![0; len], std::vec![0; len], seed)
    }
}

/// A received frame that survived the receive faults.
#[derive(Debug)]
pub struct FaultRxToken<'a, S> {
    lane: &'a mut Lane<S>,
}

impl<S: AsRef<[u8]> + AsMut<[u8]>> RxToken for FaultRxToken<'_, S> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let result = match self.lane.queue.front() {
            Some((_, frame)) => f(frame),
            // Tokens are only made for a ready front frame, and the token
            // holds the only borrow of the lane.
            None => unreachable!("fault rx token without a frame"),
        };
        self.lane.pop_delivered();
        result
    }
}

/// Room for one frame, which goes through the transmit faults.
#[derive(Debug)]
pub struct FaultTxToken<'a, D, S> {
    inner: &'a mut D,
    lane: &'a mut Lane<S>,
    now: Instant,
}

impl<D: Device, S: AsRef<[u8]> + AsMut<[u8]>> TxToken for FaultTxToken<'_, D, S> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let Some(result) = self.lane.admit_with(len, self.now, f) else {
            panic!("transmit of {len} bytes exceeds the device frame size");
        };
        self.lane.flush(self.inner, self.now);
        result
    }
}

impl<D: Device, S: AsRef<[u8]> + AsMut<[u8]>> Device for FaultInjector<D, S> {
    type RxToken<'a>
        = FaultRxToken<'a, S>
    where
        Self: 'a;
    type TxToken<'a>
        = FaultTxToken<'a, D, S>
    where
        Self: 'a;

    fn receive(&mut self, now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        self.tx.flush(&mut self.inner, now);
        self.rx.pull(&mut self.inner, now);
        if !self.rx.ready(now) {
            return None;
        }
        Some((FaultRxToken { lane: &mut self.rx }, FaultTxToken { inner: &mut self.inner, lane: &mut self.tx, now }))
    }

    fn transmit(&mut self, now: Instant) -> Option<Self::TxToken<'_>> {
        self.tx.flush(&mut self.inner, now);
        if self.tx.queue.is_full() {
            return None;
        }
        Some(FaultTxToken { inner: &mut self.inner, lane: &mut self.tx, now })
    }

    /// The inner device's capabilities, except that with corruption
    /// configured the stack must check every checksum itself: the inner
    /// device's offload cannot see bits flipped after it.
    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = self.inner.capabilities();
        if self.rx.config.corrupt_ppm > 0 || self.tx.config.corrupt_ppm > 0 {
            caps.checksum = ChecksumCapabilities::default();
        }
        caps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::loopback::Loopback;
    use crate::phy::Checksum;
    use std::vec::Vec;

    type Injector = FaultInjector<Loopback<Vec<u8>>, Vec<u8>>;

    fn injector(seed: u64) -> Injector {
        FaultInjector::with_capacity(Loopback::with_capacity(64, DeviceCapabilities::ethernet()), 16, seed)
    }

    fn frame(n: u8) -> [u8; 60] {
        [n; 60]
    }

    /// Puts a frame on the inner device so the injector receives it.
    fn feed(dev: &mut Injector, data: &[u8]) {
        let tx = dev.inner_mut().transmit(Instant::ZERO).unwrap();
        tx.consume(data.len(), |buf| buf.copy_from_slice(data));
    }

    fn recv_all(dev: &mut Injector, now: Instant) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some((rx, _)) = dev.receive(now) {
            out.push(rx.consume(|f| f.to_vec()));
        }
        out
    }

    fn first_bytes(frames: &[Vec<u8>]) -> Vec<u8> {
        frames.iter().map(|f| f[0]).collect()
    }

    #[test]
    fn clean_config_passes_everything_in_order() {
        let mut dev = injector(1);
        for n in 0..5 {
            feed(&mut dev, &frame(n));
        }
        let got = recv_all(&mut dev, Instant::ZERO);
        assert_eq!(first_bytes(&got), [0, 1, 2, 3, 4]);
        assert_eq!(dev.rx_counters().frames, 5);
        assert_eq!(dev.rx_counters().delivered, 5);
        assert_eq!(dev.poll_at(Instant::ZERO), None);
    }

    #[test]
    fn drop_everything() {
        let mut dev = injector(1);
        dev.set_rx_faults(FaultConfig { drop_ppm: 1_000_000, ..FaultConfig::clean() });
        for n in 0..5 {
            feed(&mut dev, &frame(n));
        }
        assert!(recv_all(&mut dev, Instant::ZERO).is_empty());
        assert_eq!(dev.rx_counters().dropped, 5);
    }

    #[test]
    fn duplicate_everything() {
        let mut dev = injector(1);
        dev.set_rx_faults(FaultConfig { duplicate_ppm: 1_000_000, ..FaultConfig::clean() });
        feed(&mut dev, &frame(1));
        feed(&mut dev, &frame(2));
        let got = recv_all(&mut dev, Instant::ZERO);
        assert_eq!(first_bytes(&got), [1, 1, 2, 2]);
        assert_eq!(dev.rx_counters().duplicated, 2);
        assert_eq!(dev.rx_counters().delivered, 4);
    }

    #[test]
    fn reorder_swaps_pairs() {
        let mut dev = injector(1);
        dev.set_rx_faults(FaultConfig { reorder_ppm: 1_000_000, ..FaultConfig::clean() });
        for n in 1..=4 {
            feed(&mut dev, &frame(n));
        }
        let got = recv_all(&mut dev, Instant::ZERO);
        assert_eq!(first_bytes(&got), [2, 1, 4, 3]);
        assert_eq!(dev.rx_counters().reordered, 2);
    }

    #[test]
    fn held_frame_released_after_timeout() {
        let mut dev = injector(1);
        dev.set_rx_faults(FaultConfig {
            reorder_ppm: 1_000_000,
            reorder_timeout: Duration::from_millis(5),
            ..FaultConfig::clean()
        });
        feed(&mut dev, &frame(7));
        assert!(recv_all(&mut dev, Instant::ZERO).is_empty());
        assert_eq!(dev.poll_at(Instant::ZERO), Some(Instant::from_millis(5)));
        assert!(recv_all(&mut dev, Instant::from_micros(4_999)).is_empty());
        assert_eq!(first_bytes(&recv_all(&mut dev, Instant::from_millis(5))), [7]);
        assert_eq!(dev.rx_counters().reordered, 0);
    }

    #[test]
    fn corrupt_flips_exactly_one_bit() {
        let mut dev = injector(5);
        dev.set_rx_faults(FaultConfig { corrupt_ppm: 1_000_000, ..FaultConfig::clean() });
        for n in 0..20 {
            feed(&mut dev, &frame(n));
        }
        let got = recv_all(&mut dev, Instant::ZERO);
        assert_eq!(got.len(), 20);
        for (n, f) in got.iter().enumerate() {
            let flipped: u32 = f.iter().map(|b| (b ^ n as u8).count_ones()).sum();
            assert_eq!(flipped, 1, "frame {n}");
        }
        assert_eq!(dev.rx_counters().corrupted, 20);
        assert_eq!(dev.capabilities().checksum.tcp, Checksum::Both);
    }

    #[test]
    fn corruption_disables_checksum_offload() {
        let caps = DeviceCapabilities { checksum: ChecksumCapabilities::ignored(), ..DeviceCapabilities::ethernet() };
        let mut dev = FaultInjector::with_capacity(Loopback::with_capacity(4, caps), 4, 0);
        assert_eq!(dev.capabilities().checksum.udp, Checksum::None);
        dev.set_tx_faults(FaultConfig { corrupt_ppm: 1, ..FaultConfig::clean() });
        assert_eq!(dev.capabilities().checksum.udp, Checksum::Both);
    }

    #[test]
    fn delay_holds_until_due() {
        let mut dev = injector(1);
        dev.set_rx_faults(FaultConfig { delay: Duration::from_millis(3), ..FaultConfig::clean() });
        feed(&mut dev, &frame(1));
        assert!(recv_all(&mut dev, Instant::from_millis(1)).is_empty());
        feed(&mut dev, &frame(2));
        assert!(recv_all(&mut dev, Instant::from_millis(2)).is_empty());
        assert_eq!(dev.poll_at(Instant::from_millis(2)), Some(Instant::from_millis(4)));
        assert_eq!(first_bytes(&recv_all(&mut dev, Instant::from_millis(4))), [1]);
        assert_eq!(first_bytes(&recv_all(&mut dev, Instant::from_millis(5))), [2]);
        assert_eq!(dev.rx_counters().delayed, 2);
    }

    #[test]
    fn rate_limit_spaces_frames() {
        let mut dev = injector(1);
        dev.set_rx_faults(FaultConfig {
            rate_limit: Some(RateLimit { bytes_per_sec: 60_000, burst_bytes: 120 }),
            ..FaultConfig::clean()
        });
        for n in 0..4 {
            feed(&mut dev, &frame(n));
        }
        // The burst lets two 60-byte frames through; then one per 1 ms.
        assert_eq!(first_bytes(&recv_all(&mut dev, Instant::ZERO)), [0, 1]);
        assert_eq!(dev.poll_at(Instant::ZERO), Some(Instant::from_millis(1)));
        assert!(recv_all(&mut dev, Instant::from_micros(999)).is_empty());
        assert_eq!(first_bytes(&recv_all(&mut dev, Instant::from_millis(1))), [2]);
        assert_eq!(first_bytes(&recv_all(&mut dev, Instant::from_millis(2))), [3]);
        assert_eq!(dev.rx_counters().throttled, 2);
    }

    #[test]
    fn rate_limit_charges_frames_larger_than_the_burst() {
        let mut dev = injector(1);
        dev.set_rx_faults(FaultConfig {
            rate_limit: Some(RateLimit { bytes_per_sec: 1_000_000, burst_bytes: 10 }),
            ..FaultConfig::clean()
        });
        feed(&mut dev, &[1; 1000]);
        feed(&mut dev, &[2; 1000]);
        // The first passes on a full bucket and leaves a 990-byte debt.
        assert_eq!(first_bytes(&recv_all(&mut dev, Instant::ZERO)), [1]);
        assert_eq!(dev.poll_at(Instant::ZERO), Some(Instant::from_micros(1000)));
        assert!(recv_all(&mut dev, Instant::from_micros(999)).is_empty());
        assert_eq!(first_bytes(&recv_all(&mut dev, Instant::from_micros(1000))), [2]);
    }

    #[test]
    fn tx_faults_apply_on_the_way_out() {
        let mut dev = injector(1);
        dev.set_tx_faults(FaultConfig { duplicate_ppm: 1_000_000, ..FaultConfig::clean() });
        let tx = dev.transmit(Instant::ZERO).unwrap();
        tx.consume(60, |buf| buf.copy_from_slice(&frame(3)));
        assert_eq!(dev.tx_counters().duplicated, 1);
        assert_eq!(dev.tx_counters().delivered, 2);
        // The loopback inner device sends them back; rx is clean.
        assert_eq!(first_bytes(&recv_all(&mut dev, Instant::ZERO)), [3, 3]);
    }

    #[test]
    fn tx_delay_flushes_on_later_calls() {
        let mut dev = injector(1);
        dev.set_tx_faults(FaultConfig { delay: Duration::from_millis(1), ..FaultConfig::clean() });
        let tx = dev.transmit(Instant::ZERO).unwrap();
        tx.consume(60, |buf| buf.copy_from_slice(&frame(4)));
        assert_eq!(dev.inner().queued(), 0);
        dev.flush(Instant::from_millis(1));
        assert_eq!(dev.inner().queued(), 1);
    }

    #[test]
    fn full_tx_queue_pushes_back() {
        let inner = Loopback::with_capacity(4, DeviceCapabilities::ethernet());
        let mut dev = FaultInjector::with_capacity(inner, 2, 0);
        dev.set_tx_faults(FaultConfig { delay: Duration::from_secs(1), ..FaultConfig::clean() });
        for n in 0..2 {
            let tx = dev.transmit(Instant::ZERO).unwrap();
            tx.consume(60, |buf| buf.copy_from_slice(&frame(n)));
        }
        assert!(dev.tx_is_full());
        assert!(dev.transmit(Instant::ZERO).is_none());
        dev.flush(Instant::from_secs(1));
        assert!(!dev.tx_is_full());
        assert!(dev.transmit(Instant::ZERO).is_some());
    }

    #[test]
    fn oversized_received_frame_is_counted() {
        let mut dev = injector(0);
        // Give the receive lane slots for a 100-byte MTU while the inner
        // device carries full-size frames.
        let small = DeviceCapabilities { ip_mtu: 100, ..DeviceCapabilities::ethernet() };
        let len = Injector::storage_len(2, &small);
        dev.rx = Lane::new(std::vec![0; len], small.max_frame_len() + 4, 0);
        feed(&mut dev, &[1; 1000]);
        feed(&mut dev, &[2; 118]);
        assert_eq!(first_bytes(&recv_all(&mut dev, Instant::ZERO)), [2]);
        assert_eq!(dev.rx_counters().oversized, 1);
    }

    #[test]
    fn wraps_a_link_end_for_a_whole_simulation() {
        use crate::phy::loopback::Link;
        let link = Link::with_capacity(8, DeviceCapabilities::ethernet());
        let (a, mut b) = link.ends();
        let mut a = FaultInjector::with_capacity(a, 8, 99);
        a.set_tx_faults(FaultConfig { drop_ppm: 500_000, delay: Duration::from_millis(1), ..FaultConfig::clean() });
        let mut got = Vec::new();
        for n in 0..50u8 {
            let now = Instant::from_millis(i64::from(n));
            a.transmit(now).unwrap().consume(60, |buf| buf.copy_from_slice(&frame(n)));
            a.flush(now);
            while let Some((rx, _)) = b.receive(now) {
                got.push(rx.consume(|f| f[0]));
            }
        }
        a.flush(Instant::from_secs(1));
        while let Some((rx, _)) = b.receive(Instant::from_secs(1)) {
            got.push(rx.consume(|f| f[0]));
        }
        let c = a.tx_counters();
        assert_eq!(c.frames, 50);
        assert_eq!(got.len() as u64, c.delivered);
        assert_eq!(c.dropped + c.delivered, 50);
        assert!(c.dropped > 0 && c.delivered > 0);
        assert!(got.windows(2).all(|w| w[0] < w[1]), "in order: {got:?}");
    }

    /// Runs a fixed traffic pattern through every fault and returns what
    /// came out plus the counters.
    fn run(seed: u64) -> (Vec<Vec<u8>>, FaultCounters, FaultCounters) {
        let mut dev = injector(seed);
        let config = FaultConfig {
            drop_ppm: 100_000,
            duplicate_ppm: 100_000,
            reorder_ppm: 100_000,
            corrupt_ppm: 100_000,
            delay: Duration::from_micros(100),
            ..FaultConfig::clean()
        };
        dev.set_rx_faults(config);
        dev.set_tx_faults(config);
        let mut out = Vec::new();
        for n in 0..200u8 {
            let now = Instant::from_millis(i64::from(n));
            let tx = dev.transmit(now).unwrap();
            tx.consume(60, |buf| buf.copy_from_slice(&frame(n)));
            dev.flush(now + Duration::from_micros(100));
            out.extend(recv_all(&mut dev, now + Duration::from_micros(300)));
        }
        let end = Instant::from_secs(1);
        dev.flush(end);
        out.extend(recv_all(&mut dev, end));
        (out, *dev.rx_counters(), *dev.tx_counters())
    }

    #[test]
    fn same_seed_same_faults() {
        let (out_a, rx_a, tx_a) = run(1234);
        let (out_b, rx_b, tx_b) = run(1234);
        assert_eq!(out_a, out_b);
        assert_eq!(rx_a, rx_b);
        assert_eq!(tx_a, tx_b);
        // Every kind of fault happened in this run.
        for c in [rx_a, tx_a] {
            assert!(c.dropped > 0 && c.duplicated > 0 && c.reordered > 0 && c.corrupted > 0, "{c:?}");
        }
        let (out_c, rx_c, _) = run(4321);
        assert!(out_a != out_c || rx_a != rx_c);
    }
}
