//! Named, fixed random streams derived from the spec's seed.
