//! Socket buffers (being written).

mod packet_buffer;

pub use packet_buffer::{Full, PacketBuffer, PacketMetadata};
