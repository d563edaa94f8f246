//! Socket buffers (being written).

mod packet_buffer;
mod ring_buffer;

pub use packet_buffer::{Full, PacketBuffer, PacketMetadata};
pub use ring_buffer::RingBuffer;
