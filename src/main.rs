use std::process::ExitCode;

fn main() -> ExitCode {
    restore_sigpipe();
    match mer::cli::run() {
        Ok(code) => code,
        Err(err) => {
            let error: &(dyn std::error::Error + 'static) = err.as_ref();
            // Errors quote labels, ids and file names from the dataset; a terminal must show
            // their control characters, not act on them.
            let chain = mer::cli::error_chain(error);
            let lines: Vec<_> = chain.lines().map(mer::text::escape_for_terminal).collect();
            eprintln!("error: {}", lines.join("\n"));
            ExitCode::from(2)
        }
    }
}

/// Rust ignores SIGPIPE, so `mer explain ... | head` would panic on the closed pipe; a command
/// line tool should just stop quietly, as `cat` does.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is always valid.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
