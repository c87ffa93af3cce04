//! Where each task of a Slurm submission stands (a sweep's members, a run's shards, seeds
//! and report), from the state files its job writes (`state/<task>`: `running ...` when it
//! starts, `exited code=N ...` when it ends) and from `squeue`, never from `sacct`
//! (accounting is often off).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{SlurmSweep, SubmittedMember};

/// What a task's job wrote last.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// No state file: the task never started.
    None,
    /// It started and has not recorded an exit.
    Running,
    /// It ended with this exit code.
    Exited(i32),
}

/// The state `task` (`member-3`, `seed-0`, `report`) recorded in `folder`.
pub fn recorded(folder: &Path, task: &str) -> Recorded {
    let Ok(text) = std::fs::read_to_string(state_path(folder, task)) else {
        return Recorded::None;
    };
    let code = (text.split_whitespace())
        .find_map(|word| word.strip_prefix("code="))
        .and_then(|code| code.parse().ok());
    match (text.starts_with("exited"), code) {
        (true, Some(code)) => Recorded::Exited(code),
        _ => Recorded::Running,
    }
}

/// The state file of `task`.
pub fn state_path(folder: &Path, task: &str) -> PathBuf {
    folder.join("state").join(task)
}

/// The log of `task`.
pub fn log_path(folder: &Path, task: &str) -> PathBuf {
    folder.join("logs").join(format!("{task}.log"))
}

/// The task name of sweep member `index`.
pub fn member_task(index: usize) -> String {
    format!("member-{index}")
}

/// Where a task stands.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskStatus {
    /// Its result was there when submitted (a member's finished report, a cached stage);
    /// nothing was queued for it.
    Reused,
    /// It could not be prepared (a member whose dataset does not load); nothing was queued.
    Unusable(String),
    /// It waits in the queue.
    Queued,
    /// It runs.
    Running,
    /// It ended with exit code 0.
    Finished,
    /// It ended with another exit code.
    Failed(i32),
    /// It started and left the queue without recording an exit: killed by the scheduler
    /// (time limit, preemption, `scancel`) or its node.
    Killed,
    /// It left the queue without ever starting (cancelled while pending).
    NeverRan,
}

impl TaskStatus {
    /// A word for the status table.
    pub fn label(&self) -> String {
        match self {
            TaskStatus::Reused => "reused".into(),
            TaskStatus::Unusable(_) => "unusable".into(),
            TaskStatus::Queued => "queued".into(),
            TaskStatus::Running => "running".into(),
            TaskStatus::Finished => "finished".into(),
            TaskStatus::Failed(code) => format!("failed (exit {code})"),
            TaskStatus::Killed => "killed".into(),
            TaskStatus::NeverRan => "never ran".into(),
        }
    }

    /// Whether the task may still change state.
    pub fn is_active(&self) -> bool {
        matches!(self, TaskStatus::Queued | TaskStatus::Running)
    }

    /// Whether it ended badly (failed or killed).
    pub fn is_bad(&self) -> bool {
        matches!(self, TaskStatus::Failed(_) | TaskStatus::Killed)
    }
}

/// The Slurm states of `jobs`' tasks (`12_3` -> `RUNNING`, `13` -> `PENDING`), from
/// `squeue`; `None` when `squeue` cannot be run.
pub fn queue_states(jobs: &[&str]) -> Option<HashMap<String, String>> {
    let jobs: Vec<&str> = jobs.iter().copied().filter(|j| !j.is_empty()).collect();
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

/// A queued task: its job, its array index (none for a single job) and its task name.
#[derive(Debug, Clone, Copy)]
pub struct QueuedTask<'a> {
    /// The job id.
    pub job: &'a str,
    /// Its index in the job's array.
    pub index: Option<usize>,
    /// Its state file's and log's name.
    pub task: &'a str,
}

/// Where a queued task stands, from its state file and the queue.
pub fn task_status(
    folder: &Path,
    task: QueuedTask<'_>,
    queue: &HashMap<String, String>,
) -> TaskStatus {
    let in_queue = match task.index {
        None => queue.get(task.job),
        Some(index) => queue.get(&format!("{}_{index}", task.job)).or_else(|| {
            // A pending array's tasks are listed together until they start (`12_[3,5%2]`).
            (queue.iter())
                .find(|(id, _)| id.starts_with(&format!("{}_[", task.job)))
                .map(|(_, state)| state)
        }),
    };
    match (recorded(folder, task.task), in_queue) {
        (Recorded::Exited(0), _) => TaskStatus::Finished,
        (Recorded::Exited(code), _) => TaskStatus::Failed(code),
        (Recorded::Running, Some(_)) => TaskStatus::Running,
        (Recorded::Running, None) => TaskStatus::Killed,
        (Recorded::None, Some(state)) if state == "RUNNING" => TaskStatus::Running,
        (Recorded::None, Some(_)) => TaskStatus::Queued,
        (Recorded::None, None) => TaskStatus::NeverRan,
    }
}

/// Where sweep `member` stands, from its state file and the queue.
pub fn member_status(
    folder: &Path,
    sweep: &SlurmSweep,
    member: &SubmittedMember,
    queue: &HashMap<String, String>,
) -> TaskStatus {
    if let Some(error) = &member.error {
        return TaskStatus::Unusable(error.clone());
    }
    match (member.queued, &sweep.array_job) {
        (true, Some(job)) => {
            let task = member_task(member.index);
            let queued = QueuedTask {
                job,
                index: Some(member.index),
                task: &task,
            };
            task_status(folder, queued, queue)
        }
        _ => TaskStatus::Reused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_files_read_back_as_written_by_the_array_script() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("state")).unwrap();
        assert_eq!(recorded(dir.path(), "member-0"), Recorded::None);
        std::fs::write(
            state_path(dir.path(), "member-0"),
            "running job=12_0 host=n1 started=2026-12-04T10:00:00Z\n",
        )
        .unwrap();
        assert_eq!(recorded(dir.path(), "member-0"), Recorded::Running);
        std::fs::write(
            state_path(dir.path(), "member-0"),
            "exited code=3 job=12_0 finished=2026-12-04T10:05:00Z\n",
        )
        .unwrap();
        assert_eq!(recorded(dir.path(), "member-0"), Recorded::Exited(3));
    }
}
