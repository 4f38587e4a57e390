//! Calling blocking client functions (synchronous commit, metadata) from async code.

/// Runs a blocking client call without stalling other tasks on a multi-threaded runtime; on a
/// current-thread runtime (or none) it just runs it, since there is no other worker to protect.
pub(crate) fn run_blocking<T>(call: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(call)
        }
        _ => call(),
    }
}
