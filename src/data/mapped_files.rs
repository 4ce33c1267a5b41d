//! Files read through a memory mapping, and what the process says when one shrinks under it.
//!
//! A `.npy` file is mapped and read in place ([`super::npy`]). If another program truncates it
//! meanwhile, touching a page past its new end raises SIGBUS, which would kill the process
//! without a word. [`MappedFile`] records where each mapping lies and a message naming its file;
//! [`report_truncated_files`] installs a SIGBUS handler that, for a fault inside one of them,
//! prints that message and exits with status 2 (as for any bad input). Nothing is written or
//! lost: nabla never writes a file it reads in place, and models and checkpoints are written
//! atomically. A SIGBUS anywhere else keeps its default action.
//!
//! The handler only reads atomics and calls `write(2)` and `_exit(2)`, which are safe in a
//! signal handler; each message is written into its slot before the slot is published.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use memmap2::Mmap;

/// At most this many mappings are named at once (more are read, just without a name).
const SLOTS: usize = 32;
/// The longest message kept (longer paths are cut).
const MESSAGE: usize = 480;

/// Where mapping `i` lies (start 0: a free slot) and its message's length.
static STARTS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
static ENDS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
static LENGTHS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
/// The messages, written only while their slot is unpublished (start 0), under `CLAIM`
/// (atomic bytes: the same layout as bytes, shared without `static mut`).
static MESSAGES: [[AtomicU8; MESSAGE]; SLOTS] =
    [const { [const { AtomicU8::new(0) }; MESSAGE] }; SLOTS];
/// Serialises claiming and freeing slots (never taken by the handler).
static CLAIM: Mutex<()> = Mutex::new(());

/// A file mapped read-only, named to the SIGBUS handler while it lives.
pub struct MappedFile {
    map: Mmap,
    slot: Option<usize>,
}

impl MappedFile {
    /// `map`, the mapping of `path`, named until this is dropped.
    pub fn new(path: &Path, map: Mmap) -> MappedFile {
        let slot = claim(path, map.as_ptr() as usize, map.len());
        MappedFile { map, slot }
    }
}

impl std::ops::Deref for MappedFile {
    type Target = Mmap;

    fn deref(&self) -> &Mmap {
        &self.map
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            let _claim = CLAIM.lock().unwrap_or_else(|p| p.into_inner());
            STARTS[slot].store(0, Ordering::Release);
        }
    }
}

/// Publishes a slot for the mapping at `start`, `len` bytes long (none when all are taken or
/// the mapping is empty).
fn claim(path: &Path, start: usize, len: usize) -> Option<usize> {
    if len == 0 {
        return None;
    }
    let text = format!(
        "error: {} changed while nabla read it in place (it was truncated or replaced, and a \
         row past its new end was read); nothing was written. Keep the file unchanged while \
         nabla runs, or copy it first.\n",
        path.display()
    );
    let _claim = CLAIM.lock().unwrap_or_else(|p| p.into_inner());
    let slot = (0..SLOTS).find(|&i| STARTS[i].load(Ordering::Acquire) == 0)?;
    let bytes = &text.as_bytes()[..text.len().min(MESSAGE)];
    // The slot is unpublished (start 0) and claimed under `CLAIM`: no one else writes it, and
    // the handler reads it only once published (the Release store below).
    for (to, &byte) in MESSAGES[slot].iter().zip(bytes) {
        to.store(byte, Ordering::Relaxed);
    }
    LENGTHS[slot].store(bytes.len(), Ordering::Relaxed);
    ENDS[slot].store(start + len, Ordering::Relaxed);
    STARTS[slot].store(start, Ordering::Release);
    Some(slot)
}

/// Installs the SIGBUS handler described in the module: a fault inside a file read in place
/// prints which file changed and exits with status 2. For programs (the `nabla` command calls
/// it first thing); a library embedding nabla decides for itself. Installing it twice is
/// harmless.
pub fn report_truncated_files() {
    #[cfg(unix)]
    // SAFETY: the handler is async-signal-safe (see the module), and the action is complete.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigbus as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
    }
}

/// The SIGBUS handler: a named message and exit 2 for a fault in a named mapping; otherwise
/// the default action is restored and the faulting access, repeated on return, takes it.
#[cfg(unix)]
extern "C" fn on_sigbus(
    _signal: libc::c_int,
    info: *mut libc::siginfo_t,
    _context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let address = unsafe { (*info).si_addr() } as usize;
    for slot in 0..SLOTS {
        let start = STARTS[slot].load(Ordering::Acquire);
        if start != 0 && start <= address && address < ENDS[slot].load(Ordering::Relaxed) {
            let length = LENGTHS[slot].load(Ordering::Relaxed);
            // SAFETY: a published slot's message is complete and no longer written (AtomicU8
            // has u8's layout); write(2) and _exit(2) are async-signal-safe.
            unsafe {
                libc::write(2, MESSAGES[slot].as_ptr().cast(), length);
                libc::_exit(2);
            }
        }
    }
    // SAFETY: restoring the default action and raising are async-signal-safe; `info` is valid.
    unsafe {
        libc::signal(libc::SIGBUS, libc::SIG_DFL);
        if (*info).si_code <= 0 {
            // Sent (kill, raise), not a fault: no access repeats on return, so send it again.
            libc::raise(libc::SIGBUS);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_are_named_while_they_live() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.npy");
        std::fs::write(&path, vec![1u8; 8192]).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: the file is this test's own and not changed while mapped.
        let map = unsafe { Mmap::map(&file) }.unwrap();
        let start = map.as_ptr() as usize;
        let mapped = MappedFile::new(&path, map);
        let slot = mapped.slot.expect("a free slot");
        assert_eq!(STARTS[slot].load(Ordering::Acquire), start);
        assert_eq!(ENDS[slot].load(Ordering::Relaxed), start + 8192);
        let length = LENGTHS[slot].load(Ordering::Relaxed);
        let message: Vec<u8> = MESSAGES[slot][..length]
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let message = String::from_utf8_lossy(&message);
        assert!(
            message.contains("rows.npy changed while nabla read it"),
            "{message}"
        );
        assert_eq!(mapped[0], 1);
        drop(mapped);
        assert_eq!(
            STARTS[slot].load(Ordering::Acquire),
            0,
            "freed with the mapping"
        );
    }
}
