//! Sockets (being written).
