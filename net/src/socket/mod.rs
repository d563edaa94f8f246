//! Sockets (being written).

pub mod tcp;
