//! The library driven as a Rust user drives it: the examples' paths, the refusals, f64 models,
//! resume, and the workflow that `nabla train` runs.

use nabla::data::{DataSpec, Synthetic, Task, generate};
use nabla::io::{load_model, save_model};
use nabla::ndarray::Array2;
use nabla::prepare::{DataSource, split_dataset};
use nabla::train::{Checkpoint, Observer};
use nabla::workflow::{Collect, RunSignature, TrainRun, run_training};
use nabla::{
    Activation, Dataset, Error, LossInput, LossKind, Model, NetworkConfig, SplitConfig,
    TrainConfig, Trainer, evaluate, train,
};

#[test]
fn a_double_softmax_is_refused_through_the_library() {
    let softmax = NetworkConfig::for_classes(4, 3)
        .output(Activation::Softmax)
        .loss(LossKind::CrossEntropy)
        .loss_input(LossInput::Logits)
        .config();
    let error = softmax.unwrap_err();
    assert!(matches!(error, Error::IncompatibleHead(_)), "{error}");
    assert!(error.to_string().contains("softmax(softmax(z))"), "{error}");
    assert!(error.to_string().contains("identity output"), "{error}");
    let sigmoid = NetworkConfig::for_classes(4, 2)
        .output(Activation::Sigmoid)
        .loss(LossKind::BinaryCrossEntropy)
        .loss_input(LossInput::Logits)
        .config()
        .unwrap_err()
        .to_string();
    assert!(sigmoid.contains("σ(σ(z))"), "{sigmoid}");
    // The same config as JSON (as PyTorch users write it) is refused when the network is built.
    let config: NetworkConfig = serde_json::from_str(
        r#"{"inputs": 4, "outputs": 3, "loss": {"kind": "cross-entropy", "from": "logits"}}"#,
    )
    .unwrap();
    assert!(nabla::Network::<f32>::new(config, 0).is_err());
}

#[test]
fn defaults_follow_the_task() {
    let features = Array2::from_shape_fn((40, 3), |(i, j)| (i + j) as f32);
    let multi = Dataset::values(
        features.clone(),
        Task::MultiLabel,
        Array2::from_shape_fn((40, 2), |(i, k)| ((i + k) % 2) as f32),
        vec!["a".into(), "b".into()],
    )
    .unwrap();
    let config = NetworkConfig::for_data(&multi).config().unwrap();
    assert_eq!(
        (config.output_activation, config.loss.kind, config.outputs),
        (Activation::Sigmoid, LossKind::BinaryCrossEntropy, 2)
    );
    let regression = Dataset::values(
        features,
        Task::Regression,
        Array2::from_shape_fn((40, 1), |(i, _)| i as f32 * 0.5),
        Vec::new(),
    )
    .unwrap();
    let config = NetworkConfig::for_data(&regression).config().unwrap();
    assert_eq!(
        (config.output_activation, config.loss.kind),
        (Activation::Identity, LossKind::Mse)
    );
}

#[test]
fn f64_models_save_and_load_with_f64_weights() {
    let data = generate(Synthetic::Blobs, 200, 0.0, 3).unwrap();
    let mut network = NetworkConfig::for_data(&data).hidden([8]).build(1).unwrap();
    train(
        &mut network,
        &data,
        &TrainConfig::default().epochs(2).threads(1),
    )
    .unwrap();
    let exact: Model<f64> = Model::new(
        network.cast::<f64>(),
        nabla::preprocess::Normalization::None,
        &data,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blobs64.safetensors");
    save_model(&exact, &path).unwrap();
    let back: Model<f64> = load_model(&path, None).unwrap();
    assert_eq!(back.network.layers(), exact.network.layers());
    // The same file loads in f32 too, rounded once.
    let single: Model = load_model(&path, None).unwrap();
    assert_eq!(single.network.layers(), network.layers());
    assert_eq!(single.task, Task::Classes);
}

/// Stops the run after `after` epochs, keeping the checkpoint it is handed.
struct StopAfter {
    after: usize,
    seen: usize,
    checkpoint: Option<Checkpoint>,
}

impl Observer for StopAfter {
    fn epoch_finished(&mut self, _report: &nabla::train::EpochReport) {
        self.seen += 1;
    }
    fn stop_requested(&mut self) -> bool {
        self.seen >= self.after
    }
    fn checkpoint(&mut self, checkpoint: &Checkpoint) -> nabla::Result<()> {
        self.checkpoint = Some(checkpoint.clone());
        Ok(())
    }
}

#[test]
fn an_interrupted_run_resumes_to_the_same_weights() {
    let data = generate(Synthetic::Spirals, 300, 0.1, 2).unwrap();
    let prepared = split_dataset(data, None, &SplitConfig::default(), 0).unwrap();
    let builder = NetworkConfig::for_data(&prepared.train).hidden([16]);
    let config = TrainConfig::default().epochs(6).threads(1).seed(3);

    let mut whole = builder.build(5).unwrap();
    Trainer::new(&config)
        .validation_if_any(prepared.validation.as_ref())
        .run(&mut whole, &prepared.train)
        .unwrap();

    let mut first = builder.build(5).unwrap();
    let mut stop = StopAfter {
        after: 2,
        seen: 0,
        checkpoint: None,
    };
    let outcome = Trainer::new(&config)
        .validation_if_any(prepared.validation.as_ref())
        .observer(&mut stop)
        .run(&mut first, &prepared.train)
        .unwrap();
    assert!(outcome.interrupted);
    assert_eq!(outcome.history.len(), 2);
    let mut resumed = builder.build(99).unwrap();
    let outcome = Trainer::new(&config)
        .validation_if_any(prepared.validation.as_ref())
        .resume(stop.checkpoint)
        .run(&mut resumed, &prepared.train)
        .unwrap();
    assert_eq!(outcome.history.len(), 6);
    assert_eq!(
        resumed.layers(),
        whole.layers(),
        "bit-identical to the uninterrupted run"
    );
}

#[test]
fn a_checkpoint_that_does_not_fit_is_refused_before_anything_changes() {
    let data = generate(Synthetic::Xor, 100, 0.1, 0).unwrap();
    let mut small = NetworkConfig::for_data(&data).hidden([4]).build(0).unwrap();
    let mut stop = StopAfter {
        after: 1,
        seen: 0,
        checkpoint: None,
    };
    let config = TrainConfig::default().epochs(3).threads(1);
    Trainer::new(&config)
        .observer(&mut stop)
        .run(&mut small, &data)
        .unwrap();
    let mut checkpoint = stop.checkpoint.unwrap();
    let mut other = NetworkConfig::for_data(&data).hidden([5]).build(0).unwrap();
    let before = other.layers().to_vec();
    let error = Trainer::new(&config)
        .resume(Some(checkpoint.clone()))
        .run(&mut other, &data)
        .unwrap_err();
    assert!(error.to_string().contains("layer 0"), "{error}");
    assert_eq!(other.layers(), &before[..]);
    // An early-stopping copy of the wrong shape is refused too (it used to panic).
    checkpoint.best_layers = Some(other.layers().to_vec());
    let error = Trainer::new(&config)
        .resume(Some(checkpoint))
        .run(&mut small, &data)
        .unwrap_err();
    assert!(error.to_string().contains("best-epoch"), "{error}");
}

#[test]
fn the_train_workflow_runs_resumes_and_checks_its_signature() {
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("moons.safetensors");
    let mut run = TrainRun::new(DataSource::new(DataSpec::parse("moons")));
    run.train = run.train.epochs(4).threads(1).checkpoint_every(10);
    run.save = Some(save.clone());
    let mut report = Collect::default();
    let outcome = run_training(&run, &mut report).unwrap();
    assert!(report.lines.iter().any(|l| l.starts_with("saved ")));
    assert!(outcome.test.accuracy().unwrap() > 0.8);
    let checkpoint = run.checkpoint_path().unwrap();
    assert!(checkpoint.is_file());

    // The model remembers its data: its held-out rows can be found again.
    let model: Model = load_model(&save, None).unwrap();
    let training = model.training.as_ref().unwrap();
    assert_eq!(training.data, "moons");

    // Resuming with another network is refused, naming what differs.
    let (_, context) = nabla::io::load_checkpoint(&checkpoint).unwrap();
    let saved: RunSignature = serde_json::from_value(context["run"].clone()).unwrap();
    let mut other = saved.clone();
    other.network.hidden = vec![3];
    let error = other.check_resume(&saved).unwrap_err().to_string();
    assert!(error.contains("network"), "{error}");
    let mut longer = saved.clone();
    longer.epochs = 10;
    assert_eq!(longer.check_resume(&saved).unwrap(), vec!["epochs"]);
    let mut changed = saved.clone();
    changed.fingerprint.sha256 = "0".repeat(64);
    assert!(
        changed
            .check_resume(&saved)
            .unwrap_err()
            .to_string()
            .contains("the data changed")
    );
}

#[test]
fn evaluate_has_a_default_batch_and_scores_every_task() {
    let data = generate(Synthetic::Circles, 300, 0.05, 1).unwrap();
    let mut network = NetworkConfig::for_data(&data)
        .hidden([16])
        .build(0)
        .unwrap();
    train(
        &mut network,
        &data,
        &TrainConfig::default()
            .learning_rate(0.02)
            .epochs(30)
            .threads(1),
    )
    .unwrap();
    let scores = evaluate(&network, &data).unwrap();
    assert!(
        scores.accuracy().unwrap() > 0.9,
        "{}",
        scores.summary("train")
    );
    assert!(scores.summary("test").starts_with("test accuracy: "));
}

/// Stops after `steps` batches (mid-epoch), keeping the checkpoint.
struct StopAfterSteps {
    steps: usize,
    taken: usize,
    checkpoint: Option<Checkpoint>,
}

impl Observer for StopAfterSteps {
    fn batch_finished(&mut self, _loss: f64, _rows: usize) {
        self.taken += 1;
    }
    fn stop_requested(&mut self) -> bool {
        self.taken >= self.steps
    }
    fn checkpoint(&mut self, checkpoint: &Checkpoint) -> nabla::Result<()> {
        self.checkpoint = Some(checkpoint.clone());
        Ok(())
    }
}

/// Collects the epoch reports.
#[derive(Default)]
struct Reports(Vec<nabla::train::EpochReport>);

impl Observer for Reports {
    fn epoch_finished(&mut self, report: &nabla::train::EpochReport) {
        self.0.push(report.clone());
    }
}

/// The first epoch after resuming mid-epoch runs only the remaining rows, and its throughput
/// counts only those (it used to divide the whole epoch's rows by the remaining steps' time).
#[test]
fn a_resumed_epochs_throughput_counts_the_rows_it_ran() {
    let data = generate(Synthetic::Moons, 300, 0.1, 0).unwrap();
    let builder = NetworkConfig::for_data(&data).hidden([8]);
    let config = TrainConfig::default().epochs(2).batch_size(32).threads(1);
    let mut network = builder.build(0).unwrap();
    let mut stop = StopAfterSteps {
        steps: 3,
        taken: 0,
        checkpoint: None,
    };
    Trainer::new(&config)
        .observer(&mut stop)
        .run(&mut network, &data)
        .unwrap();
    let mut reports = Reports::default();
    Trainer::new(&config)
        .observer(&mut reports)
        .resume(stop.checkpoint)
        .run(&mut network, &data)
        .unwrap();
    let first = &reports.0[0];
    let rows_run = first.samples_per_second * first.seconds;
    assert!(
        (rows_run - (300.0 - 3.0 * 32.0)).abs() < 1e-6,
        "{rows_run} rows counted for the rest of the epoch"
    );
    let second = &reports.0[1];
    assert!((second.samples_per_second * second.seconds - 300.0).abs() < 1e-6);
}

/// A rank of a data-parallel run whose ranks are threads of this process, each receiving
/// from the one before it over a channel.
struct ThreadRank {
    rank: usize,
    outboxes: Vec<std::sync::mpsc::Sender<Vec<f32>>>,
    inbox: std::sync::Mutex<std::sync::mpsc::Receiver<Vec<f32>>>,
}

impl nabla::train::Ranks for ThreadRank {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.outboxes.len()
    }
    fn send_receive(&self, send: &[f32], to: usize, receive: &mut [f32], _from: usize) {
        self.outboxes[to].send(send.to_vec()).unwrap();
        receive.copy_from_slice(&self.inbox.lock().unwrap().recv().unwrap());
    }
}

#[test]
fn in_a_data_parallel_run_only_rank_0_reports_and_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (outboxes, inboxes): (Vec<_>, Vec<_>) = (0..2).map(|_| std::sync::mpsc::channel()).unzip();
    let reports: Vec<(TrainRun, Collect)> = std::thread::scope(|scope| {
        let runs: Vec<_> = inboxes
            .into_iter()
            .enumerate()
            .map(|(rank, inbox)| {
                let mut run = TrainRun::new(DataSource::new(DataSpec::parse("moons")));
                run.train = run.train.epochs(2).threads(1);
                run.save = Some(dir.path().join(format!("rank{rank}.safetensors")));
                run.metrics = Some(dir.path().join(format!("rank{rank}.jsonl")));
                run.ranks = Some(std::sync::Arc::new(ThreadRank {
                    rank,
                    outboxes: outboxes.clone(),
                    inbox: std::sync::Mutex::new(inbox),
                }));
                scope.spawn(move || {
                    let mut report = Collect::default();
                    run_training(&run, &mut report).unwrap();
                    (run, report)
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for (rank, (run, report)) in reports.iter().enumerate() {
        let written = run.save.as_ref().unwrap().exists() || run.metrics.as_ref().unwrap().exists();
        assert_eq!(written, rank == 0, "rank {rank}");
        assert_eq!(
            report.lines.is_empty(),
            rank > 0,
            "rank {rank}: {:?}",
            report.lines
        );
    }
    assert!(
        reports[0]
            .1
            .lines
            .iter()
            .any(|l| l.starts_with("data parallel: 2 ranks"))
    );
}
