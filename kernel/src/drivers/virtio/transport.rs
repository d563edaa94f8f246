//! A transport wrapper that never offers VIRTIO_F_EVENT_IDX to the driver.
//!
//! virtio-drivers 0.13 decides whether to notify the device with
//! `avail_idx >= avail_event + 1`, which is wrong once the 16-bit available
//! index wraps (after 65,536 buffers): from then on the device is often not
//! told about new receive buffers or frames to send, and traffic only moves
//! when something else kicks the queue. Measured on the appliance: after a
//! few tens of thousands of frames, HTTP throughput fell by half with the
//! guest idle 97% of the time. Without EVENT_IDX the driver uses the ring
//! flags instead, which have no such arithmetic.
use virtio_drivers::transport::{DeviceStatus, DeviceType, InterruptStatus, SomeTransport, Transport};
use virtio_drivers::{PhysAddr, Result};
use zerocopy::{FromBytes, Immutable, IntoBytes};

/// VIRTIO_F_EVENT_IDX (virtio 1.2, 6 Reserved Feature Bits).
const EVENT_IDX: u64 = 1 << 29;

pub struct NoEventIdx(pub SomeTransport<'static>);

impl Transport for NoEventIdx {
    fn device_type(&self) -> DeviceType {
        self.0.device_type()
    }
    fn read_device_features(&mut self) -> u64 {
        self.0.read_device_features() & !EVENT_IDX
    }
    fn write_driver_features(&mut self, driver_features: u64) {
        self.0.write_driver_features(driver_features & !EVENT_IDX)
    }
    fn max_queue_size(&mut self, queue: u16) -> u32 {
        self.0.max_queue_size(queue)
    }
    fn notify(&mut self, queue: u16) {
        self.0.notify(queue)
    }
    fn get_status(&self) -> DeviceStatus {
        self.0.get_status()
    }
    fn set_status(&mut self, status: DeviceStatus) {
        self.0.set_status(status)
    }
    fn set_guest_page_size(&mut self, guest_page_size: u32) {
        self.0.set_guest_page_size(guest_page_size)
    }
    fn requires_legacy_layout(&self) -> bool {
        self.0.requires_legacy_layout()
    }
    fn queue_set(
        &mut self,
        queue: u16,
        size: u32,
        descriptors: PhysAddr,
        driver_area: PhysAddr,
        device_area: PhysAddr,
    ) {
        self.0.queue_set(queue, size, descriptors, driver_area, device_area)
    }
    fn queue_unset(&mut self, queue: u16) {
        self.0.queue_unset(queue)
    }
    fn queue_used(&mut self, queue: u16) -> bool {
        self.0.queue_used(queue)
    }
    fn ack_interrupt(&mut self) -> InterruptStatus {
        self.0.ack_interrupt()
    }
    fn read_config_generation(&self) -> u32 {
        self.0.read_config_generation()
    }
    fn read_config_space<T: FromBytes + IntoBytes>(&self, offset: usize) -> Result<T> {
        self.0.read_config_space(offset)
    }
    fn write_config_space<T: IntoBytes + Immutable>(&mut self, offset: usize, value: T) -> Result<()> {
        self.0.write_config_space(offset, value)
    }
}
