//! The batch scripts a Slurm sweep submits, written into its folder so a user can read (and
//! rerun) exactly what ran: one job array whose task i runs member i, and the summary job.

use std::path::Path;

use super::SlurmSettings;

/// Shell-quotes `text` in single quotes.
fn quoted(text: &str) -> String {
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

/// Where a sweep's scripts, member specs, logs and state files are, and what runs them.
pub(super) struct Layout<'a> {
    /// The sweep folder.
    pub(super) folder: &'a Path,
    /// The `mer` binary the jobs run.
    pub(super) mer: &'a Path,
    /// The shared cache.
    pub(super) cache: &'a Path,
    /// The shared reports folder.
    pub(super) reports: &'a Path,
}

impl Layout<'_> {
    fn mer_command(&self) -> String {
        format!(
            "{} --cache {} --reports {}",
            path(self.mer),
            path(self.cache),
            path(self.reports)
        )
    }
}

/// The job array: task i writes its state file, runs `members/<i>.toml` with `mer run`
/// (which reuses every cached stage and a finished report), then records its exit code. A
/// task killed by the scheduler never records one, which is how `mer status` tells it apart.
pub(super) fn array_script(
    layout: &Layout<'_>,
    (name, indices): (&str, &[usize]),
    settings: &SlurmSettings,
) -> String {
    let list: Vec<String> = indices.iter().map(usize::to_string).collect();
    let throttle = settings
        .max_parallel
        .map_or(String::new(), |k| format!("%{k}"));
    let folder = layout.folder;
    let mut lines = vec![
        "#!/usr/bin/env bash".to_string(),
        format!("# mer sweep {name} on Slurm: array task i runs member i (members/<i>.toml)."),
        format!("#SBATCH --job-name=mer-{name}"),
        format!("#SBATCH --array={}{throttle}", list.join(",")),
        format!("#SBATCH --output={}/logs/member-%a.log", folder.display()),
        "#SBATCH --open-mode=append".to_string(),
    ];
    lines.extend(settings_lines(settings));
    lines.push(String::new());
    lines.push("set -uo pipefail".to_string());
    lines.push("i=${SLURM_ARRAY_TASK_ID}".to_string());
    lines.push(format!("state={}/state/member-$i", path(folder)));
    lines.push(
        "write_state() { printf '%s\\n' \"$*\" > \"$state.tmp.$$\" && mv -f \"$state.tmp.$$\" \"$state\"; }"
            .to_string(),
    );
    lines.push("now() { date -u +%Y-%m-%dT%H:%M:%SZ; }".to_string());
    lines.push(
        "write_state \"running job=${SLURM_ARRAY_JOB_ID}_$i host=$(hostname) started=$(now)\""
            .to_string(),
    );
    lines.push(format!(
        "{} run {}/members/$i.toml",
        layout.mer_command(),
        path(folder)
    ));
    lines.push("code=$?".to_string());
    lines.push(
        "write_state \"exited code=$code job=${SLURM_ARRAY_JOB_ID}_$i finished=$(now)\""
            .to_string(),
    );
    lines.push("exit $code".to_string());
    lines.join("\n") + "\n"
}

/// The summary job, which runs once every array task has ended (`afterany`).
pub(super) fn summary_script(layout: &Layout<'_>, name: &str, settings: &SlurmSettings) -> String {
    let mut lines = vec![
        "#!/usr/bin/env bash".to_string(),
        format!("# mer sweep {name} on Slurm: the summary, once every member's task has ended."),
        format!("#SBATCH --job-name=mer-{name}-summary"),
        format!(
            "#SBATCH --output={}/logs/summary.log",
            layout.folder.display()
        ),
    ];
    let light = SlurmSettings {
        cpus_per_task: Some(1),
        max_parallel: None,
        ..settings.clone()
    };
    lines.extend(settings_lines(&light));
    lines.push(String::new());
    lines.push(format!(
        "exec {} sweep-summary {}",
        layout.mer_command(),
        path(layout.folder)
    ));
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
        let script = array_script(&layout, ("demo", &[1, 3]), &settings);
        for line in [
            "#SBATCH --array=1,3%2",
            "#SBATCH --partition=gpu",
            "#SBATCH --time=01:00:00",
            "#SBATCH --qos=short",
            "#SBATCH --output=/r/demo/sweep-1/logs/member-%a.log",
            "'/bin/mer' --cache '/c' --reports '/r' run '/r/demo/sweep-1'/members/$i.toml",
        ] {
            assert!(
                script.lines().any(|l| l == line),
                "{line} not in:\n{script}"
            );
        }
    }
}
