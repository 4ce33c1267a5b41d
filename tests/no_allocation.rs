//! A training step allocates nothing: workspaces, batch buffers, optimiser state and packing
//! buffers are sized before the first step. Counted with a counting global allocator.

#[path = "../src/cli/allocations.rs"]
mod counting;

use counting::{CountingAllocator, allocations};
use nabla::data::{Dataset, Synthetic, Task, generate};
use nabla::train::Stepper;
use nabla::{
    Activation, Init, LossConfig, LossInput, LossKind, Network, NetworkConfig, OptimizerConfig,
    OptimizerKind,
};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// One 2-thread pool for every case: a pool dropped between cases would let its exiting
/// threads free and allocate (thread-local destructors) while the next case counts.
fn pool() -> &'static rayon::ThreadPool {
    static POOL: std::sync::OnceLock<rayon::ThreadPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap()
    })
}

fn steps_allocate(
    hidden: Vec<usize>,
    output: Activation,
    loss: LossKind,
    optimizer: OptimizerKind,
    batch: usize,
) -> u64 {
    steps_allocate_on(
        hidden,
        output,
        loss,
        optimizer,
        batch,
        None,
        nabla::Precision::F32,
    )
}

/// As [`steps_allocate`], with dense targets of `task` (one-hot rows for multi-label, the
/// class index as a value for regression) instead of class indices.
fn steps_allocate_on(
    hidden: Vec<usize>,
    output: Activation,
    loss: LossKind,
    optimizer: OptimizerKind,
    batch: usize,
    task: Option<Task>,
    precision: nabla::Precision,
) -> u64 {
    let mut data = generate(Synthetic::Blobs, 2000, 0.0, 1).unwrap();
    // Widen the 2 features to 300 so the products are large enough to be split over threads.
    data.features = ndarray::Array2::from_shape_fn((2000, 300), |(i, j)| {
        data.features[[i, j % 2]] * (1.0 + j as f32 / 300.0)
    })
    .into();
    let classes = data.class_indices().unwrap().to_vec();
    let outputs = match task {
        Some(Task::Regression) => 1,
        _ => 3,
    };
    if let Some(task) = task {
        let values = ndarray::Array2::from_shape_fn((2000, outputs), |(i, k)| match task {
            Task::Regression => classes[i] as f32,
            _ => f32::from(u8::from(classes[i] == k)),
        });
        data = Dataset::values(data.features.clone(), task, values, Vec::new()).unwrap();
    }
    let config = NetworkConfig {
        inputs: 300,
        hidden,
        hidden_activation: Activation::Relu,
        outputs,
        output_activation: output,
        loss: LossConfig::new(
            loss,
            if output == Activation::Identity {
                LossInput::Logits
            } else {
                LossInput::Probabilities
            },
        ),
        init: Init::Auto,
        allow_unsafe: false,
    };
    pool().install(|| {
        let mut network = Network::<f32>::new(config, 1).unwrap();
        network.set_threads(2);
        network.set_precision(precision);
        let settings = OptimizerConfig {
            momentum: 0.9,
            ..OptimizerConfig::new(optimizer, 0.01)
        };
        let mut stepper = Stepper::new(&network, &data, settings, batch).unwrap();
        let rows: Vec<usize> = (0..2000).collect();
        for chunk in rows.chunks(batch).take(4) {
            stepper.step(&mut network, chunk).unwrap();
        }
        let before = allocations();
        for _ in 0..3 {
            for chunk in rows.chunks(batch).skip(4) {
                stepper.step(&mut network, chunk).unwrap();
            }
        }
        allocations() - before
    })
}

/// Dense targets (multi-label, distributions, regression); called by the one test below, so
/// that no other test allocates while the process-wide counter counts.
fn dense_target_steps_allocate_nothing() {
    for (output, loss, task) in [
        (
            Activation::Sigmoid,
            LossKind::BinaryCrossEntropy,
            Task::MultiLabel,
        ),
        (
            Activation::Softmax,
            LossKind::CrossEntropy,
            Task::Distribution,
        ),
        (Activation::Identity, LossKind::Mse, Task::Regression),
    ] {
        let allocated = steps_allocate_on(
            vec![64],
            output,
            loss,
            OptimizerKind::Adam,
            32,
            Some(task),
            nabla::Precision::F32,
        );
        assert_eq!(allocated, 0, "{task}");
    }
    // bf16 products: the packing into pairs reuses its buffers too.
    for batch in [32, 256] {
        let allocated = steps_allocate_on(
            vec![512, 256],
            Activation::Identity,
            LossKind::CrossEntropy,
            OptimizerKind::Sgd,
            batch,
            None,
            nabla::Precision::Bf16,
        );
        assert_eq!(allocated, 0, "bf16 at batch {batch}");
    }
}

#[test]
fn training_steps_allocate_nothing() {
    dense_target_steps_allocate_nothing();
    assert_eq!(
        steps_allocate(
            vec![512, 256],
            Activation::Identity,
            LossKind::CrossEntropy,
            OptimizerKind::Sgd,
            256
        ),
        0
    );
    assert_eq!(
        steps_allocate(
            vec![64],
            Activation::Softmax,
            LossKind::CrossEntropy,
            OptimizerKind::Adam,
            32
        ),
        0
    );
    assert_eq!(
        steps_allocate(
            vec![128],
            Activation::Sigmoid,
            LossKind::BinaryCrossEntropy,
            OptimizerKind::AdamW,
            100
        ),
        0
    );
}
