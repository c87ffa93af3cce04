//! The batch scripts a Slurm submission writes into its folder, so a user can read (and
//! rerun) exactly what ran: job arrays (a sweep's members, a run's shards and seeds) and
//! single jobs (a sweep's summary, a run's report), each recording its state as it starts
//! and ends.

use std::path::Path;

use super::SlurmSettings;

/// Shell-quotes `text` in single quotes.
pub(super) fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn path(p: &Path) -> String {
    quoted(&p.display().to_string())
}

/// The `#SBATCH` lines of `settings`.
fn settings_lines(settings: &SlurmSettings) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            lines.push(format!("#SBATCH --{key}={value}"));
        }
    };
    line("partition", settings.partition.clone());
    line("time", settings.time.clone());
    line(
        "cpus-per-task",
        settings.cpus_per_task.map(|c| c.to_string()),
    );
    line("mem", settings.mem.clone());
    line("account", settings.account.clone());
    lines.extend(
        settings
            .sbatch
            .iter()
            .map(|extra| match extra.starts_with("#SBATCH") {
                true => extra.clone(),
                false => format!("#SBATCH {extra}"),
            }),
    );
    lines
}

/// Where a submission's scripts, specs, logs and state files are, and what runs them.
pub(super) struct Layout<'a> {
    /// The sweep (or run) folder.
    pub(super) folder: &'a Path,
    /// The `mer` binary the jobs run.
    pub(super) mer: &'a Path,
    /// The shared cache.
    pub(super) cache: &'a Path,
    /// The shared reports folder.
    pub(super) reports: &'a Path,
}

impl Layout<'_> {
    /// `mer` with the shared folders, for a job's command line.
    pub(super) fn mer_command(&self) -> String {
        format!(
            "{} --cache {} --reports {}",
            path(self.mer),
            path(self.cache),
            path(self.reports)
        )
    }

    /// `path` inside the folder, quoted for the shell.
    pub(super) fn inside(&self, relative: &str) -> String {
        path(&self.folder.join(relative))
    }
}

/// One job: an array whose task i runs `command` with `$i` set to its index, or, without
/// `indices`, a single job. Either writes its state file (`state/<task>-<i>`, or
/// `state/<task>`) before and after the command and logs to `logs/<task>[-<i>].log`.
pub(super) struct Job<'a> {
    /// The experiment (a sweep's or a run's), for the job's name and the script's comment.
    pub(super) experiment: &'a str,
    /// What one task is: `member`, `seed`, `shard`, `summary`, `report`.
    pub(super) task: &'a str,
    /// The array's task indices; `None` for a single job.
    pub(super) indices: Option<&'a [usize]>,
    /// Shell lines before the command (e.g. a table from `$i` to a seed).
    pub(super) prelude: Vec<String>,
    /// The command line, which reads `$i` in an array.
    pub(super) command: String,
    /// A light job (one CPU, whatever the settings ask for each task).
    pub(super) light: bool,
}

/// The batch script of `job`. A task killed by the scheduler never records an exit, which
/// is how `mer status` tells it apart from one that failed.
pub(super) fn job_script(layout: &Layout<'_>, job: &Job<'_>, settings: &SlurmSettings) -> String {
    let folder = layout.folder.display();
    let (task, suffix) = match job.indices {
        Some(_) => (format!("{}-$i", job.task), format!("{}-%a", job.task)),
        None => (job.task.to_string(), job.task.to_string()),
    };
    let comment = match job.indices {
        Some(_) => format!("one array task per {}, `$i` its index", job.task),
        None => format!("the {} job", job.task),
    };
    let mut lines = vec![
        "#!/usr/bin/env bash".to_string(),
        format!("# mer on Slurm, {}: {comment}.", job.experiment),
        format!("#SBATCH --job-name=mer-{}-{}", job.experiment, job.task),
    ];
    if let Some(indices) = job.indices {
        let list: Vec<String> = indices.iter().map(usize::to_string).collect();
        let throttle = settings
            .max_parallel
            .map_or(String::new(), |k| format!("%{k}"));
        lines.push(format!("#SBATCH --array={}{throttle}", list.join(",")));
    }
    lines.push(format!("#SBATCH --output={folder}/logs/{suffix}.log"));
    lines.push("#SBATCH --open-mode=append".to_string());
    let settings = match job.light {
        true => SlurmSettings {
            cpus_per_task: Some(1),
            ..settings.clone()
        },
        false => settings.clone(),
    };
    lines.extend(settings_lines(&settings));
    lines.push(String::new());
    lines.push("set -uo pipefail".to_string());
    if job.indices.is_some() {
        lines.push("i=${SLURM_ARRAY_TASK_ID}".to_string());
    }
    let job_id = match job.indices {
        Some(_) => "${SLURM_ARRAY_JOB_ID}_$i",
        None => "${SLURM_JOB_ID}",
    };
    lines.push(format!("state={}/state/{task}", path(layout.folder)));
    lines.push(
        "write_state() { printf '%s\\n' \"$*\" > \"$state.tmp.$$\" && mv -f \"$state.tmp.$$\" \"$state\"; }"
            .to_string(),
    );
    lines.push("now() { date -u +%Y-%m-%dT%H:%M:%SZ; }".to_string());
    lines.push(format!(
        "write_state \"running job={job_id} host=$(hostname) started=$(now)\""
    ));
    lines.extend(job.prelude.iter().cloned());
    lines.push(job.command.clone());
    lines.push("code=$?".to_string());
    lines.push(format!(
        "write_state \"exited code=$code job={job_id} finished=$(now)\""
    ));
    lines.push("exit $code".to_string());
    lines.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_spaces_and_quotes() {
        assert_eq!(quoted("a b"), "'a b'");
        assert_eq!(quoted("it's"), r"'it'\''s'");
    }

    #[test]
    fn the_array_lists_the_pending_members_with_the_throttle_and_settings() {
        let folder = Path::new("/r/demo/sweep-1");
        let layout = Layout {
            folder,
            mer: Path::new("/bin/mer"),
            cache: Path::new("/c"),
            reports: Path::new("/r"),
        };
        let settings = SlurmSettings {
            partition: Some("gpu".into()),
            time: Some("01:00:00".into()),
            max_parallel: Some(2),
            sbatch: vec!["--qos=short".into()],
            ..SlurmSettings::default()
        };
        let job = Job {
            experiment: "demo",
            task: "member",
            indices: Some(&[1, 3]),
            prelude: Vec::new(),
            command: format!(
                "{} run {}/$i.toml",
                layout.mer_command(),
                layout.inside("members")
            ),
            light: false,
        };
        let script = job_script(&layout, &job, &settings);
        for line in [
            "#SBATCH --array=1,3%2",
            "#SBATCH --partition=gpu",
            "#SBATCH --time=01:00:00",
            "#SBATCH --qos=short",
            "#SBATCH --output=/r/demo/sweep-1/logs/member-%a.log",
            "'/bin/mer' --cache '/c' --reports '/r' run '/r/demo/sweep-1/members'/$i.toml",
            "state='/r/demo/sweep-1'/state/member-$i",
        ] {
            assert!(
                script.lines().any(|l| l == line),
                "{line} not in:\n{script}"
            );
        }
    }
}
