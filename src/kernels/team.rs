//! A team of helper threads that spin between jobs, for the fork–join splits inside a training
//! step (the halves of a matrix product, the pieces of an element-wise loop).
//!
//! A step at batch 32 runs a dozen splits of 5–50 µs each. Rayon's idle workers go to sleep
//! within microseconds, and waking a sleeping virtual CPU costs tens of microseconds, as much
//! as the work itself: measured here, the same product took 43 µs or 95 µs depending on it.
//! The team's helpers instead spin for [`SPIN`] after each job (as OpenMP's threads do, which
//! is what PyTorch runs on), then park until the next one.
//!
//! `split(pieces, f)` runs `f(0)` on the caller; the other pieces go to whoever claims them
//! first, a helper or the caller once its own piece is done, so a helper the operating system
//! has not scheduled (a busy machine) costs nothing but its share of the speed-up. It returns
//! when all are done. One caller at a time owns the team; a second concurrent caller
//! (tests run in parallel) falls back to rayon. The pieces and what each computes depend only
//! on `pieces`, never on which thread runs them, so results are the same either way.

use std::cell::UnsafeCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::subnormals;

/// How long an idle helper spins before it parks.
pub const SPIN: Duration = Duration::from_millis(5);

/// The job being run: `f(piece)`, its lifetime erased (the owner waits for every helper
/// before the borrow ends).
type Job = *const (dyn Fn(usize) + Sync + 'static);

/// What the owner and the helpers share.
struct Shared {
    /// The current job; written by the owner before `epoch` is bumped, read by helpers after
    /// they see the new epoch.
    job: UnsafeCell<Option<Job>>,
    /// Pieces of the current job.
    pieces: AtomicUsize,
    /// Bumped once per job.
    epoch: AtomicUsize,
    /// The job's epoch (high 32 bits) and its next unclaimed piece (low 32 bits): whoever
    /// claims a piece (helper or owner) runs it, so a helper that the operating system has
    /// not scheduled yet delays nothing; the owner runs the piece itself.
    next: AtomicU64,
    /// Pieces finished.
    done: AtomicUsize,
    /// A piece panicked.
    panicked: AtomicBool,
    /// The team is being dropped.
    stop: AtomicBool,
    /// The epoch of the latest broadcast job (every helper runs it once, nobody claims pieces).
    broadcast_epoch: AtomicUsize,
    /// The owner's floating-point mode ([`subnormals::mode`]), which helpers take before they
    /// run its pieces; written before `epoch` is bumped.
    mode: AtomicU32,
}

// SAFETY: `job` is written only by the owner while no helper reads it (between jobs, every
// helper has finished), and read by helpers only after the epoch's release/acquire pair.
unsafe impl Sync for Shared {}
unsafe impl Send for Shared {}

/// A helper: its thread and whether it is parked (or about to be).
struct Helper {
    thread: Thread,
    parked: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// The helpers and their shared state.
struct Team {
    shared: Arc<Shared>,
    helpers: Vec<Helper>,
}

static TEAM: Mutex<Option<Team>> = Mutex::new(None);

/// Runs `f(piece)` for every piece in `0..pieces`, in parallel, and returns when all are done
/// (a panic in a piece is raised here). `pieces` ≤ 1 runs on the caller alone.
pub fn split(pieces: usize, f: &(dyn Fn(usize) + Sync)) {
    split_over(pieces, pieces, f);
}

/// [`split`] on at most `threads` threads (the caller and `threads − 1` helpers), which claim
/// the pieces as they finish: more pieces than threads balance uneven ones.
pub fn split_over(threads: usize, pieces: usize, f: &(dyn Fn(usize) + Sync)) {
    if pieces <= 1 || threads <= 1 {
        (0..pieces).for_each(f);
        return;
    }
    let ran = with_team(threads.min(pieces), |team| team.run(pieces, f));
    if !ran {
        let mode = subnormals::mode();
        (0..pieces)
            .into_par_iter()
            .for_each(|piece| subnormals::in_mode(mode, || f(piece)));
    }
}

/// Runs `f` once on the caller and once on each of the helpers that splits into `pieces` use
/// (starting them if needed), and returns when all have: for per-thread set-up, such as
/// reserving buffers so that no later step allocates. With the team busy (another caller), on
/// every thread of the current rayon pool instead.
pub fn on_every_thread(pieces: usize, f: &(dyn Fn() + Sync)) {
    let ran = with_team(pieces, |team| team.broadcast(f));
    if !ran {
        let mode = subnormals::mode();
        rayon::broadcast(|_| subnormals::in_mode(mode, f));
        f();
    }
}

/// Runs `main` on the caller while a helper runs `side`, then `side` on the caller too, and
/// returns `main`'s result when all are done: for work the helper would otherwise wait through,
/// such as gathering the next batch while the caller runs the small last layer. `side` may so
/// run on two threads at once and must share its work between them (by claiming it piece by
/// piece). Each runs on one thread (element-wise loops and products inside do not split). With
/// no helper to be had (the team held by another caller), `side` runs first, then `main`, on
/// the caller.
pub fn alongside<R: Send>(side: &(dyn Fn() + Sync), main: impl FnOnce() -> R + Send) -> R {
    let main = Mutex::new(Some(main));
    let result = Mutex::new(None);
    let ran = with_team(2, |team| {
        team.run(2, &|piece| {
            if piece == 0 {
                let main = main.lock().map(|mut m| m.take()).ok().flatten();
                let main = main.expect("piece 0 runs once");
                let value = super::with_threads(1, main);
                *result.lock().unwrap_or_else(|p| p.into_inner()) = Some(value);
                super::with_threads(1, side);
            } else {
                super::with_threads(1, side);
            }
        });
    });
    if !ran {
        side();
        let main = main.into_inner().ok().flatten().expect("main has not run");
        return main();
    }
    let value = result.into_inner().unwrap_or_else(|p| p.into_inner());
    value.expect("piece 0 ran on the caller")
}

/// Runs `work` with the team, grown to the helpers that `pieces` use, unless another caller
/// holds it; returns whether it ran.
fn with_team(pieces: usize, work: impl FnOnce(&mut Team)) -> bool {
    let mut guard = match TEAM.try_lock() {
        Ok(guard) => guard,
        // A piece panicked while this team ran it; the team itself was left consistent.
        Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => return false,
    };
    let team = guard.get_or_insert_with(Team::new);
    team.grow(pieces.saturating_sub(1));
    work(team);
    true
}

impl Team {
    fn new() -> Team {
        Team {
            shared: Arc::new(Shared {
                job: UnsafeCell::new(None),
                pieces: AtomicUsize::new(0),
                epoch: AtomicUsize::new(0),
                next: AtomicU64::new(0),
                done: AtomicUsize::new(0),
                panicked: AtomicBool::new(false),
                stop: AtomicBool::new(false),
                broadcast_epoch: AtomicUsize::new(usize::MAX),
                mode: AtomicU32::new(subnormals::mode()),
            }),
            helpers: Vec::new(),
        }
    }

    /// Adds helpers until there are `count`.
    fn grow(&mut self, count: usize) {
        while self.helpers.len() < count {
            let index = self.helpers.len();
            let shared = Arc::clone(&self.shared);
            let parked = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&parked);
            // Helpers start at the current epoch: they wait for the next job.
            let seen = self.shared.epoch.load(Ordering::SeqCst);
            let handle = thread::Builder::new()
                .name(format!("nabla-helper-{index}"))
                .spawn(move || helper(&shared, &flag, seen))
                .expect("the operating system refused a helper thread");
            self.helpers.push(Helper {
                thread: handle.thread().clone(),
                parked,
                handle: Some(handle),
            });
        }
    }

    /// Runs `f` on the caller and on every helper, once each.
    fn broadcast(&mut self, f: &(dyn Fn() + Sync)) {
        let next_epoch = self.shared.epoch.load(Ordering::Relaxed).wrapping_add(1);
        self.shared
            .broadcast_epoch
            .store(next_epoch, Ordering::Relaxed);
        let helpers = self.helpers.len();
        // Piece 0 is the caller's; the helpers' runs count as the remaining pieces.
        self.run(helpers + 1, &|_| f());
    }

    fn run(&mut self, pieces: usize, f: &(dyn Fn(usize) + Sync)) {
        let shared = &*self.shared;
        // SAFETY: the lifetime is erased only for the helpers, and every helper has finished
        // with the job (every piece done) before this function returns.
        let job: Job = unsafe {
            std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), Job>(f as *const _)
        };
        // SAFETY: no helper reads `job` now: every piece of the previous job is done, and a
        // helper reads it only after claiming a piece of the current one.
        unsafe { *shared.job.get() = Some(job) };
        let epoch = shared.epoch.load(Ordering::Relaxed).wrapping_add(1);
        shared.pieces.store(pieces, Ordering::Relaxed);
        shared.done.store(0, Ordering::Relaxed);
        shared.mode.store(subnormals::mode(), Ordering::Relaxed);
        shared.next.store(tag(epoch) << 32 | 1, Ordering::SeqCst);
        shared.epoch.store(epoch, Ordering::SeqCst);
        for helper in &self.helpers {
            if helper.parked.load(Ordering::SeqCst) {
                helper.thread.unpark();
            }
        }
        let mut own = catch_unwind(AssertUnwindSafe(|| f(0)));
        let mut finished = 1;
        // Then every piece no helper has claimed yet (in a broadcast, the helpers run theirs).
        let broadcast = shared.broadcast_epoch.load(Ordering::Relaxed) == epoch;
        while let Some(piece) = (!broadcast).then(|| claim(shared, epoch, pieces)).flatten() {
            let result = catch_unwind(AssertUnwindSafe(|| f(piece)));
            if own.is_ok() {
                own = result;
            }
            finished += 1;
        }
        // Wait for the pieces helpers are running (yielding now and then, in case the helper
        // waits for this very CPU).
        let mut spins = 0u32;
        while shared.done.load(Ordering::Acquire) + finished < pieces {
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(4096) {
                thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        // SAFETY: every helper has finished; the job's borrow ends here.
        unsafe { *shared.job.get() = None };
        let helper_panicked = shared.panicked.swap(false, Ordering::Relaxed);
        if let Err(payload) = own {
            resume_unwind(payload);
        }
        if helper_panicked {
            panic!("a piece of a parallel kernel panicked on a helper thread");
        }
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for helper in &mut self.helpers {
            helper.thread.unpark();
            if let Some(handle) = helper.handle.take() {
                let _ = handle.join();
            }
        }
    }
}

/// A helper's life: wait for a new epoch (spinning for [`SPIN`], then parked), claim and run
/// pieces of that job while any are left, repeat.
fn helper(shared: &Shared, parked: &AtomicBool, mut seen: usize) {
    let mut mode = subnormals::mode();
    loop {
        let mut idle_since = Instant::now();
        let mut spins = 0u32;
        loop {
            let epoch = shared.epoch.load(Ordering::Acquire);
            if epoch != seen {
                seen = epoch;
                break;
            }
            if shared.stop.load(Ordering::Relaxed) {
                return;
            }
            spins = spins.wrapping_add(1);
            if !spins.is_multiple_of(1024) || idle_since.elapsed() < SPIN {
                std::hint::spin_loop();
                continue;
            }
            // Park; the owner unparks helpers it sees parked after bumping the epoch. The
            // flag is raised before the epoch is read again, so a job published in between is
            // either seen here or followed by an unpark (SeqCst on both sides).
            parked.store(true, Ordering::SeqCst);
            if shared.epoch.load(Ordering::SeqCst) == seen && !shared.stop.load(Ordering::SeqCst) {
                thread::park();
            }
            parked.store(false, Ordering::SeqCst);
            idle_since = Instant::now();
        }
        let pieces = shared.pieces.load(Ordering::Acquire);
        let owners = shared.mode.load(Ordering::Relaxed);
        if owners != mode {
            subnormals::set_mode(owners);
            mode = owners;
        }
        if shared.broadcast_epoch.load(Ordering::Acquire) == seen {
            // SAFETY: a broadcast's job lives until every helper has run it (the owner waits
            // for all of them).
            let job = unsafe { (*shared.job.get()).expect("a job is published with its epoch") };
            // SAFETY: as above.
            if catch_unwind(AssertUnwindSafe(|| unsafe { (*job)(0) })).is_err() {
                shared.panicked.store(true, Ordering::Relaxed);
            }
            shared.done.fetch_add(1, Ordering::Release);
            continue;
        }
        while let Some(piece) = claim(shared, seen, pieces) {
            // SAFETY: the job was published before its epoch (release / acquire) and lives
            // until every piece is done; this piece is not.
            let job = unsafe { (*shared.job.get()).expect("a job is published with its epoch") };
            // SAFETY: as above.
            let result = catch_unwind(AssertUnwindSafe(|| unsafe { (*job)(piece) }));
            if result.is_err() {
                shared.panicked.store(true, Ordering::Relaxed);
            }
            shared.done.fetch_add(1, Ordering::Release);
        }
    }
}

/// The low 32 bits of an epoch, as kept in `Shared::next`.
fn tag(epoch: usize) -> u64 {
    epoch as u64 & 0xFFFF_FFFF
}

/// Claims the next unclaimed piece of the job of `epoch` (of `pieces`), if that job is still
/// the current one and has one left.
fn claim(shared: &Shared, epoch: usize, pieces: usize) -> Option<usize> {
    let mut current = shared.next.load(Ordering::Acquire);
    loop {
        let (job, piece) = (current >> 32, (current & 0xFFFF_FFFF) as usize);
        if job != tag(epoch) || piece >= pieces {
            return None;
        }
        match shared.next.compare_exchange_weak(
            current,
            current + 1,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => return Some(piece),
            Err(actual) => current = actual,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn every_piece_runs_once_whatever_the_count() {
        for pieces in [0, 1, 2, 3, 5, 2] {
            let counts: Vec<AtomicU64> = (0..pieces).map(|_| AtomicU64::new(0)).collect();
            for threads in [1, 2, 3] {
                for _ in 0..100 {
                    split_over(threads, pieces, &|i| {
                        counts[i].fetch_add(1, Ordering::Relaxed);
                    });
                }
            }
            for _ in 0..100 {
                split(pieces, &|i| {
                    counts[i].fetch_add(1, Ordering::Relaxed);
                });
            }
            assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 400));
        }
    }

    #[test]
    fn concurrent_callers_and_parked_helpers_still_finish() {
        let total = AtomicU64::new(0);
        std::thread::scope(|scope| {
            for _ in 0..3 {
                scope.spawn(|| {
                    for round in 0..50 {
                        split(2, &|i| {
                            total.fetch_add(i as u64 + 1, Ordering::Relaxed);
                        });
                        if round % 25 == 0 {
                            // Long enough for idle helpers to park.
                            std::thread::sleep(SPIN * 2);
                        }
                    }
                });
            }
        });
        assert_eq!(total.load(Ordering::Relaxed), 3 * 50 * 3);
    }

    #[test]
    fn on_every_thread_reaches_the_caller_and_every_helper() {
        let threads = std::sync::Mutex::new(std::collections::HashSet::new());
        on_every_thread(3, &|| {
            threads.lock().unwrap().insert(std::thread::current().id());
        });
        // Three distinct threads, unless another test held the team (then rayon's pool ran it).
        let count = threads.lock().unwrap().len();
        assert!(count >= 2, "{count}");
    }

    #[test]
    fn alongside_runs_both_and_returns_the_callers_result() {
        let side = AtomicU64::new(0);
        let caller = std::thread::current().id();
        for round in 0..200 {
            let value = alongside(
                &|| {
                    side.fetch_add(1, Ordering::Relaxed);
                },
                || {
                    assert_eq!(
                        std::thread::current().id(),
                        caller,
                        "main runs on the caller"
                    );
                    assert_eq!(crate::kernels::threads(), 1);
                    round * 2
                },
            );
            assert_eq!(value, round * 2);
        }
        // Once on the helper (or on the caller in its place) and once on the caller; once
        // only in a round where another test held the team (then `side` runs, then `main`).
        let runs = side.load(Ordering::Relaxed);
        assert!((200..=400).contains(&runs), "{runs}");
    }

    #[test]
    fn a_panicking_piece_panics_the_caller_and_the_team_survives() {
        let result = std::panic::catch_unwind(|| {
            split(2, &|i| {
                if i == 1 {
                    panic!("piece 1 fails");
                }
            })
        });
        assert!(result.is_err());
        let done = AtomicU64::new(0);
        split(2, &|_| {
            done.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(done.load(Ordering::Relaxed), 2);
    }
}
