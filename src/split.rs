//! Seeded stratified hold-out and k-fold splits.
