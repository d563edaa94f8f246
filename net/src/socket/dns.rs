//! A sans-IO DNS stub resolver (being written).
