//! [`MpiRanks`]: the ranks of an `mpirun` job, over MPI (rsmpi, cargo feature `mpi`).

use mpi::Threading;
use mpi::topology::{Communicator, SimpleCommunicator};

use super::Ranks;

/// The ranks of the MPI job this process belongs to (MPI initialised for one thread calling it
/// at a time: the training thread, or the communication thread of an overlapped all-reduce
/// while the training thread computes).
pub struct MpiRanks {
    world: SimpleCommunicator,
    /// This process's rank and the job's size, asked once (so that asking never calls MPI).
    rank: usize,
    size: usize,
    /// Whether MPI allows calls from any thread, one at a time (`MPI_THREAD_SERIALIZED`).
    serialized: bool,
    // Finalises MPI when dropped, after the communicator.
    _universe: mpi::environment::Universe,
}

// SAFETY: MPI is initialised at MPI_THREAD_SERIALIZED (or, where the library offers less,
// `concurrent` is false and only the training thread calls it), and never called by two
// threads at once: the communication thread runs only while the training thread waits or
// computes without MPI.
unsafe impl Send for MpiRanks {}
// SAFETY: as above.
unsafe impl Sync for MpiRanks {}

/// The environment variables a launcher sets to the job's number of ranks (Open MPI, PMI, PMIx).
const SIZE_VARIABLES: [&str; 3] = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"];

impl MpiRanks {
    /// The job's ranks when a launcher (`mpirun`, `srun`) started this process as one of
    /// several; `None` otherwise, without initialising MPI, so that the program behaves as a
    /// single process.
    pub fn from_launcher() -> Option<MpiRanks> {
        let size = SIZE_VARIABLES
            .iter()
            .find_map(|name| std::env::var(name).ok()?.parse::<usize>().ok())?;
        if size < 2 {
            return None;
        }
        // A communication thread sums each layer while the backward pass goes on; it and the
        // training thread never call MPI at the same time.
        let (universe, threading) = mpi::initialize_with_threading(Threading::Serialized)?;
        let world = universe.world();
        Some(MpiRanks {
            rank: world.rank() as usize,
            size: world.size() as usize,
            serialized: threading >= Threading::Serialized,
            world,
            _universe: universe,
        })
    }
}

impl Ranks for MpiRanks {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn concurrent(&self) -> bool {
        self.serialized
    }

    fn send_receive(&self, send: &[f32], to: usize, receive: &mut [f32], from: usize) {
        let to = self.world.process_at_rank(to as i32);
        let from = self.world.process_at_rank(from as i32);
        mpi::point_to_point::send_receive_into(send, &to, receive, &from);
    }
}
