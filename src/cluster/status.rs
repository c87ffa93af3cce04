//! Where each member of a Slurm sweep stands, from the state files its array task writes
//! (`state/member-<i>`: `running ...` when it starts, `exited code=N ...` when it ends) and
//! from `squeue`, never from `sacct` (accounting is often off).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{SlurmSweep, SubmittedMember};

/// What a member's task wrote last.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskState {
    /// No state file: the task never started.
    None,
    /// It started and has not recorded an exit.
    Running,
    /// It ended with this exit code.
    Exited(i32),
}

/// The state member `index`'s task recorded in `folder`.
pub fn task_state(folder: &Path, index: usize) -> TaskState {
    let Ok(text) = std::fs::read_to_string(state_path(folder, index)) else {
        return TaskState::None;
    };
    let code = (text.split_whitespace())
        .find_map(|word| word.strip_prefix("code="))
        .and_then(|code| code.parse().ok());
    match (text.starts_with("exited"), code) {
        (true, Some(code)) => TaskState::Exited(code),
        _ => TaskState::Running,
    }
}

/// The state file of member `index`.
pub fn state_path(folder: &Path, index: usize) -> PathBuf {
    folder.join("state").join(format!("member-{index}"))
}

/// The log of member `index`'s task.
pub fn log_path(folder: &Path, index: usize) -> PathBuf {
    folder.join("logs").join(format!("member-{index}.log"))
}

/// Where a member stands.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberState {
    /// It had a finished report when the sweep was submitted; nothing was queued for it.
    Reused,
    /// It could not be prepared (its dataset does not load); nothing was queued.
    Unusable(String),
    /// Its task waits in the queue.
    Queued,
    /// Its task runs.
    Running,
    /// Its task ended with exit code 0.
    Finished,
    /// Its task ended with another exit code.
    Failed(i32),
    /// Its task started and left the queue without recording an exit: killed by the
    /// scheduler (time limit, preemption, `scancel`) or its node.
    Killed,
    /// Its task left the queue without ever starting (cancelled while pending).
    NeverRan,
}

impl MemberState {
    /// A word for the status table.
    pub fn label(&self) -> String {
        match self {
            MemberState::Reused => "reused".into(),
            MemberState::Unusable(_) => "unusable".into(),
            MemberState::Queued => "queued".into(),
            MemberState::Running => "running".into(),
            MemberState::Finished => "finished".into(),
            MemberState::Failed(code) => format!("failed (exit {code})"),
            MemberState::Killed => "killed".into(),
            MemberState::NeverRan => "never ran".into(),
        }
    }

    /// Whether the member's task may still change state.
    pub fn is_active(&self) -> bool {
        matches!(self, MemberState::Queued | MemberState::Running)
    }
}

/// The Slurm states of the sweep's jobs' tasks (`12_3` -> `RUNNING`), from `squeue`; `None`
/// when `squeue` cannot be run.
pub fn queue_states(sweep: &SlurmSweep) -> Option<HashMap<String, String>> {
    let jobs: Vec<&str> = (sweep.array_job.iter().chain([&sweep.summary_job]))
        .map(String::as_str)
        .filter(|job| !job.is_empty())
        .collect();
    if jobs.is_empty() {
        return Some(HashMap::new());
    }
    let output = Command::new("squeue")
        .args(["-h", "-r", "-o", "%i %T", "-j", &jobs.join(",")])
        .output()
        .ok()?;
    // squeue fails for job ids it no longer knows (all finished): an empty queue.
    let text = String::from_utf8_lossy(&output.stdout);
    Some(
        text.lines()
            .filter_map(|line| {
                let (id, state) = line.trim().split_once(' ')?;
                Some((id.to_string(), state.to_string()))
            })
            .collect(),
    )
}

/// Where `member` stands, from its state file and the queue.
pub fn member_state(
    folder: &Path,
    sweep: &SlurmSweep,
    member: &SubmittedMember,
    queue: &HashMap<String, String>,
) -> MemberState {
    if let Some(error) = &member.error {
        return MemberState::Unusable(error.clone());
    }
    if !member.queued {
        return MemberState::Reused;
    }
    let in_queue = (sweep.array_job.as_ref())
        .and_then(|job| queue.get(&format!("{job}_{}", member.index)))
        .or_else(|| {
            // A pending array's tasks are listed together until they start (`12_[3,5%2]`).
            let job = sweep.array_job.as_ref()?;
            queue
                .iter()
                .find(|(id, _)| id.starts_with(&format!("{job}_[")))
                .map(|(_, state)| state)
        });
    match (task_state(folder, member.index), in_queue) {
        (TaskState::Exited(0), _) => MemberState::Finished,
        (TaskState::Exited(code), _) => MemberState::Failed(code),
        (TaskState::Running, Some(_)) => MemberState::Running,
        (TaskState::Running, None) => MemberState::Killed,
        (TaskState::None, Some(state)) if state == "RUNNING" => MemberState::Running,
        (TaskState::None, Some(_)) => MemberState::Queued,
        (TaskState::None, None) => MemberState::NeverRan,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_files_read_back_as_written_by_the_array_script() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("state")).unwrap();
        assert_eq!(task_state(dir.path(), 0), TaskState::None);
        std::fs::write(
            state_path(dir.path(), 0),
            "running job=12_0 host=n1 started=2026-12-04T10:00:00Z\n",
        )
        .unwrap();
        assert_eq!(task_state(dir.path(), 0), TaskState::Running);
        std::fs::write(
            state_path(dir.path(), 0),
            "exited code=3 job=12_0 finished=2026-12-04T10:05:00Z\n",
        )
        .unwrap();
        assert_eq!(task_state(dir.path(), 0), TaskState::Exited(3));
    }
}
