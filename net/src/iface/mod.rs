//! The network interface (being written).
