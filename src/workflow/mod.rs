//! What each `nabla` command does, as library functions a Rust or Python program calls the
//! same way: the command line only turns flags into these configs and prints what they report.
//!
//! | file | holds |
//! |---|---|
//! | `train_run.rs` | [`TrainRun`], [`run_training`]: prepare, build, resume, train, save, draw, score |
//! | `run_products.rs` | what a run leaves: the model with the record of its training data, the `--plot` pictures |
//! | `reporter.rs` | [`Reporter`]: what a run tells its caller; [`Collect`], which keeps it |
//! | `compare_heads.rs` | [`CompareHeads`]: the same network with each output, measured over seeds |
//! | `model_data.rs` | [`ModelData`], [`load_model_and_rows`]: a saved model and its rows (the held-out ones by default) |
//! | `predictions.rs` | [`Predictions`]: a model's outputs per task, printed as CSV or JSON |
//! | `signature.rs` | [`RunSignature`]: what a run depends on, checked when it resumes |
//! | `estimator.rs` | [`fit_estimator`]: scikit-learn's fit and partial_fit (the Python package) |
//! | `playground.rs` | [`Playground`]: `nabla serve`'s 2-D training runs, paused, stepped, drawn per epoch |
//! | `playground_spec.rs` | [`PlaygroundSpec`]: what a playground run is, its bounds, the `nabla train` run it stands for |
//! | `runs.rs` | [`list_runs`], [`read_run`]: the `--metrics` files under a folder, read as they grow |
//! | `bench.rs` | [`bench`](mod@bench): the speed workload shared with the PyTorch peer (`nabla bench`) |

pub mod bench;
mod compare_heads;
mod estimator;
mod model_data;
mod playground;
mod playground_spec;
mod predictions;
mod reporter;
mod run_products;
mod runs;
mod signature;
mod train_run;

pub use compare_heads::{
    CompareHeads, HeadRow, HeadRun, compare_heads, conclusion, prepare_comparison, table_header,
    table_row,
};
pub use estimator::{EstimatorSpec, Fitted, fit_estimator};
pub use model_data::{Loaded, ModelData, Rows, load_model_and_rows};
pub use playground::{Boundary, GRID, Playground, Point, Progress, Status};
pub use playground_spec::{
    MAX_DELAY_MS, MAX_EPOCHS, MAX_LAYERS, MAX_POINTS, MAX_UNITS, PlaygroundSpec,
};
pub use predictions::Predictions;
pub use reporter::{Collect, Reporter};
pub use runs::{
    MAX_LINE_BYTES, MAX_REPLY_BYTES, MAX_REPLY_RECORDS, MAX_RUNS, RunFile, RunRecords, list_runs,
    read_run, run_path,
};
pub use signature::RunSignature;
pub use train_run::{RunOutcome, TrainRun, plural, run_training};
