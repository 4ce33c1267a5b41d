//! The playground's trainings: each a [`Playground`] under a number, at most [`MAX_TRAININGS`]
//! training at once and [`MAX_KEPT`] kept (a new one forgets the finished one asked about
//! least recently), and each stopped and forgotten once no page has asked about it for
//! [`IDLE_AFTER`] (a page watching one asks continuously through its event stream). A
//! training's memory is bounded by the spec's limits (points, epochs, units), so the
//! playground's is bounded by `MAX_KEPT` times that (about 250 KB each at the limits).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::App;
use crate::error::Result;
use crate::workflow::{Playground, PlaygroundSpec};

/// The most trainings running (not finished) at once.
pub const MAX_TRAININGS: usize = 4;
/// The most trainings kept, finished ones included.
pub const MAX_KEPT: usize = 16;
/// How long a training nobody asks about is kept.
pub const IDLE_AFTER: Duration = Duration::from_secs(60);

struct Entry {
    run: Arc<Playground>,
    seen: Instant,
}

/// The trainings by number.
#[derive(Default)]
pub struct Sessions {
    entries: Mutex<HashMap<u64, Entry>>,
}

/// Why a training did not start.
pub enum NotStarted {
    /// [`MAX_TRAININGS`] are running.
    TooMany,
    /// The library refused the spec.
    Refused(crate::error::Error),
}

impl Sessions {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a training; returns its number.
    pub fn start(
        &self,
        spec: &PlaygroundSpec,
        paused: bool,
    ) -> std::result::Result<(u64, Arc<Playground>), NotStarted> {
        let mut entries = self.entries();
        let running = entries.values().filter(|e| !e.run.is_over()).count();
        if running >= MAX_TRAININGS {
            return Err(NotStarted::TooMany);
        }
        forget_finished(&mut entries, MAX_KEPT - 1);
        let run: Result<Playground> = Playground::start(spec, paused);
        let run = Arc::new(run.map_err(NotStarted::Refused)?);
        // An unguessable number (a foreign page cannot name another page's training), below
        // 2⁵³ so that JavaScript's numbers hold it exactly.
        let id = loop {
            let id = rand::random::<u64>() >> 11;
            if id != 0 && !entries.contains_key(&id) {
                break id;
            }
        };
        entries.insert(
            id,
            Entry {
                run: Arc::clone(&run),
                seen: Instant::now(),
            },
        );
        Ok((id, run))
    }

    /// Training `id`, marked as seen now.
    pub fn get(&self, id: u64) -> Option<Arc<Playground>> {
        let mut entries = self.entries();
        let entry = entries.get_mut(&id)?;
        entry.seen = Instant::now();
        Some(Arc::clone(&entry.run))
    }

    /// Stops and forgets training `id`; whether there was one.
    pub fn remove(&self, id: u64) -> bool {
        let removed = self.entries().remove(&id);
        if let Some(entry) = &removed {
            entry.run.stop();
        }
        removed.is_some()
    }

    /// Stops and forgets the trainings idle for longer than `idle`.
    fn reap(&self, idle: Duration) -> Vec<Arc<Playground>> {
        let mut entries = self.entries();
        let old: Vec<u64> = entries
            .iter()
            .filter(|(_, e)| e.seen.elapsed() > idle)
            .map(|(&id, _)| id)
            .collect();
        old.iter()
            .filter_map(|id| entries.remove(id))
            .map(|e| {
                e.run.stop();
                e.run
            })
            .collect()
    }
}

/// Forgets finished trainings, those asked about least recently first, until at most `keep`
/// remain (trainings still running are never forgotten here).
fn forget_finished(entries: &mut HashMap<u64, Entry>, keep: usize) {
    while entries.len() > keep {
        let oldest = entries
            .iter()
            .filter(|(_, e)| e.run.is_over())
            .min_by_key(|(_, e)| e.seen)
            .map(|(&id, _)| id);
        match oldest {
            Some(id) => drop(entries.remove(&id)),
            None => return,
        }
    }
}

/// Every few seconds, stops the trainings nobody has asked about for [`IDLE_AFTER`].
pub(super) fn reap_idle(app: Arc<App>) {
    let app: Weak<App> = Arc::downgrade(&app);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let Some(app) = app.upgrade() else { return };
            let stopped = app.sessions.reap(IDLE_AFTER);
            // Their threads are joined off the async workers.
            tokio::task::spawn_blocking(move || drop(stopped));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_a_few_train_at_once_and_idle_ones_are_stopped() {
        let sessions = Sessions::default();
        let spec = PlaygroundSpec {
            epochs: 1000,
            ..PlaygroundSpec::default()
        };
        for _ in 0..MAX_TRAININGS {
            assert!(sessions.start(&spec, true).is_ok());
        }
        assert!(matches!(
            sessions.start(&spec, true),
            Err(NotStarted::TooMany)
        ));
        let stopped = sessions.reap(Duration::ZERO);
        assert_eq!(stopped.len(), MAX_TRAININGS);
        assert!(sessions.start(&spec, true).is_ok());
    }

    #[test]
    fn finished_trainings_make_room_oldest_first() {
        let sessions = Sessions::default();
        let spec = PlaygroundSpec {
            epochs: 1,
            samples: 20,
            ..PlaygroundSpec::default()
        };
        let mut ids = Vec::new();
        for _ in 0..MAX_KEPT + 5 {
            let (id, run) = sessions.start(&spec, false).ok().unwrap();
            while !run.is_over() {
                std::thread::sleep(Duration::from_millis(2));
            }
            ids.push(id);
        }
        assert_eq!(sessions.entries().len(), MAX_KEPT);
        assert!(
            sessions.get(ids[0]).is_none(),
            "the oldest finished one is forgotten"
        );
        assert!(sessions.get(ids[MAX_KEPT + 4]).is_some());
    }
}
