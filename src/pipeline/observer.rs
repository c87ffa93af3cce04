//! What a caller (the command line's progress bars) hears while a run executes.

use crate::results::StageRecord;

/// Called from worker threads, hence `Sync`.
pub trait RunObserver: Sync {
    /// The run will decide `stages` stages (fewer than the graph has when shards of a cached
    /// extraction, or stages `--only` leaves out, are not needed).
    fn stages_planned(&self, _stages: usize) {}
    /// A stage was taken from the cache or computed.
    fn stage_decided(&self, _record: &StageRecord) {}
    /// An extraction stage starts on `songs` songs.
    fn songs_started(&self, _stage: &str, _songs: usize) {}
    /// An extraction stage finished one song.
    fn song_done(&self, _stage: &str) {}
}
