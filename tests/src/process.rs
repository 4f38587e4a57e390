//! Child processes that die with the test.

use std::process::{Child, Command, Stdio};

/// A process that had not exited by its deadline (and was killed then).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StillRunning;

/// A child process that is killed when dropped, whose output goes to a log file kept for
/// post-mortems.
#[derive(Debug)]
pub struct Spawned {
    name: String,
    child: Option<Child>,
    log: std::path::PathBuf,
}

impl Spawned {
    /// Starts `command`, sending stdout and stderr to `log`.
    pub fn start(name: &str, mut command: Command, log: std::path::PathBuf) -> Spawned {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap_or_else(|error| panic!("open {}: {error}", log.display()));
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("clone log handle"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|error| panic!("start {name}: {error}"));
        Spawned {
            name: name.to_owned(),
            child: Some(child),
            log,
        }
    }

    /// The process id, while it runs.
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Sends a signal (`KILL`, `TERM`, `STOP`, `CONT`) with the system's `kill` command.
    pub fn signal(&self, signal: &str) {
        let pid = self
            .pid()
            .unwrap_or_else(|| panic!("{} is not running", self.name));
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {pid} failed");
    }

    /// Waits for the process to exit and returns its exit code (`None` when killed by a signal).
    pub fn wait(&mut self) -> Option<i32> {
        let mut child = self
            .child
            .take()
            .unwrap_or_else(|| panic!("{} is not running", self.name));
        child.wait().expect("wait for child").code()
    }

    /// Waits at most `timeout` for the process to exit: `Ok` with its exit code (`None` when a
    /// signal ended it), or `Err` when it was still running at the deadline (it is then killed,
    /// so a test that fails here leaves nothing behind).
    pub fn wait_within(
        &mut self,
        timeout: std::time::Duration,
    ) -> Result<Option<i32>, StillRunning> {
        let deadline = std::time::Instant::now() + timeout;
        let child = self
            .child
            .as_mut()
            .unwrap_or_else(|| panic!("{} is not running", self.name));
        loop {
            if let Some(status) = child.try_wait().expect("poll the child") {
                self.child = None;
                return Ok(status.code());
            }
            if std::time::Instant::now() >= deadline {
                self.kill();
                return Err(StillRunning);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Kills the process (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// The process's output so far, for assertion messages.
    #[must_use]
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.kill();
    }
}
