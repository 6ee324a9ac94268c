//! Locks that outlive a panic.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Takes `m`, poisoned or not: the crate catches panics (at the C boundary
/// and around handlers) and goes on with the state under the lock as the
/// panic left it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
