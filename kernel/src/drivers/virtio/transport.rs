//! The virtio-net transport as the driver sees it: EVENT_IDX never
//! offered, and the offload features the driver wants accepted.
//!
//! EVENT_IDX: virtio-drivers 0.13 decides whether to notify the device with
//! `avail_idx >= avail_event + 1`, which is wrong once the 16-bit available
//! index wraps (after 65,536 buffers): from then on the device is often not
//! told about new receive buffers or frames to send, and traffic only moves
//! when something else kicks the queue. Measured on the appliance: after a
//! few tens of thousands of frames, HTTP throughput fell by half with the
//! guest idle 97% of the time. Without EVENT_IDX the driver uses the ring
//! flags instead, which have no such arithmetic.
//!
//! Offloads: `VirtIONetRaw` only negotiates the features its own driver
//! uses, but it moves buffers with the header the caller wrote in them, so
//! checksum and segmentation offload work through it once negotiated; the
//! feature write adds them here (`kernel::virtio_net_offload` picks them).
use kernel::virtio_net_offload::offloads_for;
use virtio_drivers::transport::{DeviceStatus, DeviceType, InterruptStatus, SomeTransport, Transport};
use virtio_drivers::{PhysAddr, Result};
use zerocopy::{FromBytes, Immutable, IntoBytes};

/// VIRTIO_F_EVENT_IDX (virtio 1.2, 6 Reserved Feature Bits).
const EVENT_IDX: u64 = 1 << 29;

pub struct NetTransport {
    inner: SomeTransport<'static>,
    /// Offload features added to what the driver accepts.
    offloads: u64,
}

impl NetTransport {
    /// Wraps `inner`, choosing offloads from what the device offers
    /// (`with_offloads` false: none).
    pub fn new(mut inner: SomeTransport<'static>, with_offloads: bool) -> NetTransport {
        let offloads = if with_offloads { offloads_for(inner.read_device_features()) } else { 0 };
        NetTransport { inner, offloads }
    }

    /// The offload features accepted (`kernel::virtio_net_offload::feature`).
    pub fn offloads(&self) -> u64 {
        self.offloads
    }
}

impl Transport for NetTransport {
    fn device_type(&self) -> DeviceType {
        self.inner.device_type()
    }
    fn read_device_features(&mut self) -> u64 {
        self.inner.read_device_features() & !EVENT_IDX
    }
    fn write_driver_features(&mut self, driver_features: u64) {
        self.inner.write_driver_features((driver_features | self.offloads) & !EVENT_IDX)
    }
    fn max_queue_size(&mut self, queue: u16) -> u32 {
        self.inner.max_queue_size(queue)
    }
    fn notify(&mut self, queue: u16) {
        self.inner.notify(queue)
    }
    fn get_status(&self) -> DeviceStatus {
        self.inner.get_status()
    }
    fn set_status(&mut self, status: DeviceStatus) {
        self.inner.set_status(status)
    }
    fn set_guest_page_size(&mut self, guest_page_size: u32) {
        self.inner.set_guest_page_size(guest_page_size)
    }
    fn requires_legacy_layout(&self) -> bool {
        self.inner.requires_legacy_layout()
    }
    fn queue_set(
        &mut self,
        queue: u16,
        size: u32,
        descriptors: PhysAddr,
        driver_area: PhysAddr,
        device_area: PhysAddr,
    ) {
        self.inner.queue_set(queue, size, descriptors, driver_area, device_area)
    }
    fn queue_unset(&mut self, queue: u16) {
        self.inner.queue_unset(queue)
    }
    fn queue_used(&mut self, queue: u16) -> bool {
        self.inner.queue_used(queue)
    }
    fn ack_interrupt(&mut self) -> InterruptStatus {
        self.inner.ack_interrupt()
    }
    fn read_config_generation(&self) -> u32 {
        self.inner.read_config_generation()
    }
    fn read_config_space<T: FromBytes + IntoBytes>(&self, offset: usize) -> Result<T> {
        self.inner.read_config_space(offset)
    }
    fn write_config_space<T: IntoBytes + Immutable>(&mut self, offset: usize, value: T) -> Result<()> {
        self.inner.write_config_space(offset, value)
    }
}
