//! Prometheus (in progress).
