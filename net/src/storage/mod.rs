//! Socket buffers (being written).
