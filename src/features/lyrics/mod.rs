//! Lyrics features (work in progress).
