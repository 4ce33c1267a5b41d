//! [`MpiRanks`]: the ranks of an `mpirun` job, over MPI (rsmpi, cargo feature `mpi`).

use mpi::topology::{Communicator, SimpleCommunicator};

use super::Ranks;

/// The ranks of the MPI job this process belongs to (MPI initialised with one thread calling
/// it: training calls it from the thread that created this).
pub struct MpiRanks {
    world: SimpleCommunicator,
    // Finalises MPI when dropped, after the communicator.
    _universe: mpi::environment::Universe,
}

// SAFETY: MPI is called only by the thread that runs training, which is the thread that
// initialised it (the command line's main thread); the value is shared, never used concurrently.
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
        let universe = mpi::initialize()?;
        Some(MpiRanks {
            world: universe.world(),
            _universe: universe,
        })
    }
}

impl Ranks for MpiRanks {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    fn size(&self) -> usize {
        self.world.size() as usize
    }

    fn send_receive(&self, send: &[f32], to: usize, receive: &mut [f32], from: usize) {
        let to = self.world.process_at_rank(to as i32);
        let from = self.world.process_at_rank(from as i32);
        mpi::point_to_point::send_receive_into(send, &to, receive, &from);
    }
}
