//! CPU seconds spent by the processes of a run (the service, MariaDB, and the bench itself,
//! which hosts the mock Kafka cluster), from `/proc/<pid>/stat`: on a 2-core machine, who used
//! the cores says what bounds the throughput.

use std::time::Instant;

/// Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// User + system CPU seconds of process `pid` so far.
#[must_use]
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / TICKS_PER_SECOND)
}

/// The id of the first process whose command name is `name`.
#[must_use]
pub fn find_process(name: &str) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == name)
        })
}

/// CPU seconds used between two moments by the service, MariaDB and the bench.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUse {
    /// Wall-clock seconds of the interval.
    pub wall: f64,
    /// The `wallet` process.
    pub service: f64,
    /// `mariadbd`.
    pub database: f64,
    /// This process: the mock Kafka cluster, the offset poll, the producer.
    pub bench: f64,
}

/// A starting point of a [`CpuUse`] measurement.
#[derive(Debug, Clone, Copy)]
pub struct CpuMark {
    at: Instant,
    service_pid: u32,
    database_pid: Option<u32>,
    service: f64,
    database: f64,
    bench: f64,
}

impl CpuMark {
    /// The CPU times of the service `service_pid`, MariaDB and this process now.
    #[must_use]
    pub fn now(service_pid: u32) -> CpuMark {
        let database_pid = find_process("mariadbd");
        CpuMark {
            at: Instant::now(),
            service_pid,
            database_pid,
            service: cpu_seconds(service_pid).unwrap_or_default(),
            database: database_pid.and_then(cpu_seconds).unwrap_or_default(),
            bench: cpu_seconds(std::process::id()).unwrap_or_default(),
        }
    }

    /// What each used since this mark.
    #[must_use]
    pub fn since(&self) -> CpuUse {
        CpuUse {
            wall: self.at.elapsed().as_secs_f64(),
            service: cpu_seconds(self.service_pid).unwrap_or_default() - self.service,
            database: self.database_pid.and_then(cpu_seconds).unwrap_or_default() - self.database,
            bench: cpu_seconds(std::process::id()).unwrap_or_default() - self.bench,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This process's own CPU time is readable and grows with work.
    #[test]
    fn own_cpu_time_is_read() {
        let before = cpu_seconds(std::process::id()).unwrap();
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(cpu_seconds(std::process::id()).unwrap() >= before);
    }
}
