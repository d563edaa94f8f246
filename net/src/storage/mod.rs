//! Socket buffers (being written).

mod ring_buffer;
pub use ring_buffer::RingBuffer;
