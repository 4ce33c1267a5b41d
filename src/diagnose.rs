//! Known mistakes in a network, found and explained: pairings that are not a probability model,
//! a softmax (or sigmoid) applied twice, initialisations that do not suit the activation, and,
//! on data, ReLU units that never fire and saturated sigmoid outputs.

use ndarray::s;

use crate::activation::Activation;
use crate::data::{Dataset, Labels};
use crate::error::Error;
use crate::head::{Head, HeadPath, Pairing, Refusal};

use crate::loss::LossKind;
use crate::network::{Network, NetworkConfig};

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Nothing wrong.
    Ok,
    /// Worth knowing.
    Info,
    /// Likely to hurt training.
    Warning,
    /// Wrong: not a probability model, or a computation that is undefined.
    Error,
}

impl Severity {
    /// "ok", "info", "warning", "error".
    pub fn label(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One result of a check.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// How serious.
    pub severity: Severity,
    /// Which check ("pairing", "double softmax", "init", "dead relu", "saturation").
    pub check: &'static str,
    /// What was found and why it matters.
    pub message: String,
}

fn finding(severity: Severity, check: &'static str, message: impl Into<String>) -> Finding {
    Finding {
        severity,
        check,
        message: message.into(),
    }
}

/// Checks the architecture and head of a config (no weights needed).
pub fn diagnose_config(config: &NetworkConfig) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Err(error) = config.check_sizes() {
        findings.push(finding(Severity::Error, "size", error.to_string()));
    }
    let output = config.output_activation;
    let loss = &config.loss;
    match Head::new(output, loss.clone(), config.outputs) {
        Ok(head) => findings.push(finding(
            Severity::Ok,
            "pairing",
            format!(
                "{} output + {}: {} ({}), its range {} fits what the loss needs, and nothing is \
                 squashed twice",
                output.display_name(),
                loss.describe(),
                if Pairing::of(output, loss.kind, loss.from).is_probability_model(loss.kind) {
                    "a probability model"
                } else {
                    "not a probability model but compatible"
                },
                head.path().description(),
                output.range(),
            ),
        )),
        Err(Error::IncompatibleHead(why)) => {
            let severity = if config.allow_unsafe {
                Severity::Warning
            } else {
                Severity::Error
            };
            let unsafe_note = match (config.allow_unsafe, why.reason) {
                (false, _) => "",
                (true, Refusal::OutOfRange) => {
                    " (allow_unsafe is set: it runs anyway, clipped like Keras)"
                }
                (true, Refusal::DoubleSquashing) => {
                    " (allow_unsafe is set: it runs anyway, squashed twice)"
                }
            };
            let check = match (why.reason, output) {
                (Refusal::OutOfRange, _) => "pairing",
                (Refusal::DoubleSquashing, Activation::Sigmoid) => "double sigmoid",
                (Refusal::DoubleSquashing, Activation::LogSoftmax) => "double log-softmax",
                (Refusal::DoubleSquashing, _) => "double softmax",
            };
            if output == Activation::Sigmoid
                && loss.kind == LossKind::CrossEntropy
                && why.reason == Refusal::OutOfRange
            {
                findings.push(finding(
                    severity,
                    "sigmoid with categorical cross-entropy",
                    format!(
                        "sigmoid outputs with categorical cross-entropy over exclusive classes{unsafe_note}: \
                         each sigmoid output is an independent probability in (0, 1) and a row need \
                         not sum to 1, so the loss −ln a_y only pushes the target class up; nothing \
                         pushes the wrong classes down (for a wrong class yᵢ = 0, ∂C/∂zᵢ = −yᵢ(1 − aᵢ) \
                         = 0). Use softmax for exclusive classes, or binary cross-entropy for \
                         independent labels."
                    ),
                ));
            } else {
                findings.push(finding(severity, check, format!("{why}{unsafe_note}")));
            }
        }
        Err(other) => findings.push(finding(Severity::Error, "loss options", other.to_string())),
    }
    if !config.hidden.is_empty() {
        let hidden = config.hidden_activation;
        let init = config.init;
        if init.suits(hidden) {
            findings.push(finding(
                Severity::Ok,
                "init",
                format!(
                    "{} initialisation suits {} hidden units",
                    init.resolve(hidden),
                    hidden.display_name()
                ),
            ));
        } else if hidden.is_rectifier() {
            findings.push(finding(
                Severity::Warning,
                "init",
                format!(
                    "{init} initialisation with {} hidden units: Glorot scaling (variance 2/(n_in + \
                     n_out)) ignores that a rectifier zeroes half its inputs, so the signal shrinks \
                     layer by layer and deep stacks start with vanishing activations and gradients. \
                     Use he-normal (nabla's auto choice) for the ReLU family.",
                    hidden.display_name()
                ),
            ));
        } else {
            findings.push(finding(
                Severity::Warning,
                "init",
                format!(
                    "{init} initialisation with {} hidden units: He scaling (variance 2/n_in) is \
                     twice what a saturating unit wants, pushing pre-activations into the flat tails \
                     where {}′ ≈ 0 and learning stalls. Use xavier-uniform (nabla's auto choice).",
                    hidden.display_name(),
                    hidden.name()
                ),
            ));
        }
    }
    if loss.kind == LossKind::Mse && matches!(output, Activation::Sigmoid | Activation::Softmax) {
        findings.push(finding(
            Severity::Info,
            "slow learning",
            format!(
                "mean squared error behind a {} output keeps the factor σ′(z) in the gradient, \
                 which is near 0 when an output saturates: confidently wrong outputs learn slowly. \
                 Cross-entropy cancels that factor (see `nabla explain --activation sigmoid --loss mse`).",
                output.display_name()
            ),
        ));
    }
    findings
}

/// Checks what a trained network does on data (features already normalised): ReLU units that
/// never fire, saturated sigmoid/tanh units, saturated sigmoid outputs.
pub fn diagnose_activity(network: &Network<f32>, data: &Dataset) -> Vec<Finding> {
    let mut findings = Vec::new();
    let layers = network.layers().len();
    let widths: Vec<usize> = network.layers().iter().map(|l| l.outputs()).collect();
    let mut ever_active: Vec<Vec<bool>> = widths.iter().map(|&w| vec![false; w]).collect();
    let mut saturated = vec![0usize; layers];
    let mut wrong_and_sure = 0usize;
    let batch = 1024.min(network.max_batch()).min(data.len()).max(1);
    let mut workspace = network.workspace(batch);
    let mut start = 0;
    while start < data.len() {
        let end = (start + batch).min(data.len());
        let rows = end - start;
        network.forward(data.features.slice(s![start..end, ..]), &mut workspace);
        for l in 0..layers {
            let activation = network.activation(l);
            let a = workspace.activations(l, rows);
            for row in a.rows() {
                for (unit, &v) in row.iter().enumerate() {
                    if v > 0.0 {
                        ever_active[l][unit] = true;
                    }
                    let flat = match activation {
                        Activation::Sigmoid => !(0.01..=0.99).contains(&v),
                        Activation::Tanh => v.abs() > 0.99,
                        _ => false,
                    };
                    saturated[l] += usize::from(flat);
                }
            }
            if l + 1 == layers && network.activation(l) == Activation::Sigmoid && data.is_labelled()
            {
                for (r, row) in a.rows().into_iter().enumerate() {
                    for (unit, &v) in row.iter().enumerate() {
                        let target = match &data.labels {
                            Labels::Classes { indices, .. } if row.len() == 1 => {
                                indices[start + r] == 1
                            }
                            Labels::Classes { indices, .. } => indices[start + r] == unit,
                            Labels::Values { values, .. } => values[[start + r, unit]] >= 0.5,
                            Labels::None => continue,
                        };
                        if (target && v < 0.01) || (!target && v > 0.99) {
                            wrong_and_sure += 1;
                        }
                    }
                }
            }
        }
        start = end;
    }
    for l in 0..layers {
        let activation = network.activation(l);
        let units = widths[l];
        let total = units * data.len();
        let name = if l + 1 == layers {
            "the output layer".to_string()
        } else {
            format!("hidden layer {}", l + 1)
        };
        let relu_like = matches!(activation, Activation::Relu)
            || activation == (Activation::LeakyRelu { slope: 0.0 });
        if relu_like && l + 1 < layers {
            let dead = ever_active[l].iter().filter(|a| !**a).count();
            if dead > 0 {
                findings.push(finding(
                    Severity::Warning,
                    "dead relu",
                    format!(
                        "{name}: {dead} of {units} ReLU units ({:.1}%) are never active on the {} rows. \
                         ReLU′ = 0 wherever z ≤ 0, so these units get no gradient and cannot recover. \
                         Lower the learning rate{}, or try leaky-relu.",
                        100.0 * dead as f64 / units as f64,
                        data.len(),
                        if network.config().init.resolve(activation) == crate::init::Init::HeNormal {
                            ""
                        } else {
                            ", use he-normal init"
                        }
                    ),
                ));
            } else {
                findings.push(finding(
                    Severity::Ok,
                    "dead relu",
                    format!("{name}: every ReLU unit fires on some row"),
                ));
            }
        }
        if matches!(activation, Activation::Sigmoid | Activation::Tanh) && total > 0 {
            let share = saturated[l] as f64 / total as f64;
            let output = l + 1 == layers;
            // Saturated outputs only hurt learning under MSE (the fused cross-entropy gradient is
            // a − y); saturated hidden units always damp the gradient through them.
            let hurts = !output || network.head().loss().kind == LossKind::Mse;
            let severity = if hurts && share > 0.5 {
                Severity::Warning
            } else {
                Severity::Info
            };
            let mut message = format!(
                "{name}: {:.1}% of the {} activations are saturated (σ′ ≈ 0 there)",
                100.0 * share,
                activation.display_name()
            );
            if output {
                let sure = wrong_and_sure as f64 / total as f64;
                message.push_str(&format!(
                    "; {:.2}% are confidently wrong (a < 0.01 for the target, or > 0.99 for another class). \
                     {}",
                    100.0 * sure,
                    if network.head().loss().kind == LossKind::Mse {
                        "With mean squared error those learn slowly: the gradient keeps σ′(z) ≈ 0."
                    } else {
                        "With cross-entropy that is harmless for learning: the fused gradient is a − y."
                    }
                ));
            } else {
                message.push_str(
                    ": their gradient is damped, and deep sigmoid/tanh stacks learn slowly",
                );
            }
            findings.push(finding(severity, "saturation", message));
        }
    }
    if let Some(share) = clipped_rows(network, data) {
        let mut message = format!(
            "the pairing runs clipped (allow_unsafe): {:.1}% of the {} rows have every output the \
             loss reads clipped to [1e-7, 1 − 1e-7] or undefined, so they get no gradient",
            100.0 * share.share(),
            share.rows
        );
        if network.config().outputs == 1 {
            message.push_str(&format!(
                " ({:.1}% at a ≤ 1e-7, {:.1}% at a ≥ 1 − 1e-7)",
                100.0 * share.low as f64 / share.rows.max(1) as f64,
                100.0 * share.high as f64 / share.rows.max(1) as f64
            ));
        }
        if share.undefined > 0 {
            message.push_str(&format!(
                "; {} rows are NaN or sum to 0 (0/0)",
                share.undefined
            ));
        }
        message.push_str(". Its outputs are not probabilities: use a sound output.");
        findings.push(finding(Severity::Warning, "clipped rows", message));
    }
    findings
}

/// A model config or a bare network config, read without validating it (finding what is
/// invalid is the point of diagnosing it).
///
/// # Errors
/// The file cannot be read, or is neither kind of config.
pub fn read_config(path: &std::path::Path) -> crate::Result<NetworkConfig> {
    let text = crate::io::bounded::read_text(path, crate::io::bounded::MAX_FILE_BYTES)?;
    if let Ok(model) = serde_json::from_str::<crate::model::ModelConfig>(&text) {
        return Ok(model.network);
    }
    serde_json::from_str::<NetworkConfig>(&text).map_err(|e| {
        Error::data(
            path,
            Some(format!("line {}", e.line())),
            format!("not a model or network config: {e}"),
        )
    })
}

/// What the clip of a refused pairing run anyway ([`HeadPath::Clipped`], like Keras) does to
/// a network's rows: where the outputs the loss reads are clipped to [ε, 1 − ε], the gradient
/// is 0, so those rows teach the network nothing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClipShare {
    /// Rows looked at.
    pub rows: usize,
    /// Rows with no gradient at all: every output they read clipped, or undefined.
    pub no_gradient: usize,
    /// Single-output rows clipped at the bottom (a ≤ ε: a ReLU output at 0).
    pub low: usize,
    /// Single-output rows clipped at the top (a ≥ 1 − ε).
    pub high: usize,
    /// Rows whose outputs are NaN, or sum to 0 (categorical: 0/0).
    pub undefined: usize,
}

impl ClipShare {
    /// The share of rows with no gradient.
    pub fn share(&self) -> f64 {
        self.no_gradient as f64 / self.rows.max(1) as f64
    }
}

/// The clipped rows of `data` (normalised) under `network`'s head; `None` unless the head
/// runs clipped.
pub fn clipped_rows(network: &Network<f32>, data: &Dataset) -> Option<ClipShare> {
    if network.head().path() != HeadPath::Clipped || data.is_empty() {
        return None;
    }
    let categorical = network.head().loss().kind == LossKind::CrossEntropy;
    let log = network.head().loss().from == crate::loss::LossInput::LogProbabilities;
    let epsilon = crate::head::UNSAFE_EPSILON;
    let outputs = network.predict(data.features.view());
    let mut share = ClipShare {
        rows: outputs.nrows(),
        no_gradient: 0,
        low: 0,
        high: 0,
        undefined: 0,
    };
    for row in outputs.rows() {
        let row: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
        let sum: f64 = if categorical { row.iter().sum() } else { 1.0 };
        let p: Vec<f64> = row.iter().map(|v| v / sum).collect();
        if p.iter().any(|v| !v.is_finite()) {
            share.undefined += 1;
            share.no_gradient += 1;
            continue;
        }
        let clipped = |v: f64| {
            if log {
                v >= 0.0
            } else {
                v <= epsilon || v >= 1.0 - epsilon
            }
        };
        if p.iter().all(|&v| clipped(v)) {
            share.no_gradient += 1;
        }
        if let [only] = p[..] {
            let low = !log && only <= epsilon;
            share.low += usize::from(low);
            share.high += usize::from(clipped(only) && !low);
        }
    }
    Some(share)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::Init;
    use crate::loss::{LossConfig, LossInput};
    use ndarray::Array2;

    fn config(output: Activation, loss: LossKind, from: LossInput) -> NetworkConfig {
        NetworkConfig {
            inputs: 4,
            hidden: vec![8],
            hidden_activation: Activation::Relu,
            outputs: 3,
            output_activation: output,
            loss: LossConfig::new(loss, from),
            init: Init::Auto,
            allow_unsafe: false,
        }
    }

    fn has(findings: &[Finding], check: &str, severity: Severity) -> bool {
        findings
            .iter()
            .any(|f| f.check == check && f.severity == severity)
    }

    #[test]
    fn finds_each_configuration_mistake() {
        let relu = diagnose_config(&config(
            Activation::Relu,
            LossKind::CrossEntropy,
            LossInput::Probabilities,
        ));
        assert!(has(&relu, "pairing", Severity::Error));
        let sigmoid = diagnose_config(&config(
            Activation::Sigmoid,
            LossKind::CrossEntropy,
            LossInput::Probabilities,
        ));
        assert!(has(
            &sigmoid,
            "sigmoid with categorical cross-entropy",
            Severity::Error
        ));
        let double = diagnose_config(&config(
            Activation::Softmax,
            LossKind::CrossEntropy,
            LossInput::Logits,
        ));
        assert!(has(&double, "double softmax", Severity::Error));
        assert!(
            !double
                .iter()
                .any(|f| f.severity == Severity::Ok && f.check == "pairing"),
            "never ok and error for the same pairing: {double:?}"
        );
        let double_sigmoid = diagnose_config(&config(
            Activation::Sigmoid,
            LossKind::BinaryCrossEntropy,
            LossInput::Logits,
        ));
        assert!(has(&double_sigmoid, "double sigmoid", Severity::Error));
        let mut xavier = config(
            Activation::Softmax,
            LossKind::CrossEntropy,
            LossInput::Probabilities,
        );
        xavier.init = Init::XavierUniform;
        let found = diagnose_config(&xavier);
        assert!(has(&found, "init", Severity::Warning));
        assert!(found.iter().all(|f| f.severity != Severity::Error));
        let mut he_tanh = xavier.clone();
        he_tanh.init = Init::HeNormal;
        he_tanh.hidden_activation = Activation::Tanh;
        assert!(has(&diagnose_config(&he_tanh), "init", Severity::Warning));
        let good = diagnose_config(&config(
            Activation::Softmax,
            LossKind::CrossEntropy,
            LossInput::Probabilities,
        ));
        assert!(good.iter().all(|f| f.severity == Severity::Ok), "{good:?}");
    }

    #[test]
    fn finds_dead_relu_units_and_saturated_outputs() {
        let mut cfg = config(
            Activation::Sigmoid,
            LossKind::BinaryCrossEntropy,
            LossInput::Probabilities,
        );
        cfg.outputs = 3;
        let mut network = Network::<f32>::new(cfg, 1).unwrap();
        // Kill hidden units 0 and 1: a bias of −100 keeps z < 0 for these inputs.
        network.layers_mut()[0].bias[0] = -100.0;
        network.layers_mut()[0].bias[1] = -100.0;
        // Saturate the outputs.
        network.layers_mut()[1].bias.fill(50.0);
        let data = Dataset::classes(
            Array2::from_shape_fn((20, 4), |(i, j)| ((i * 7 + j * 3) % 5) as f32 / 5.0 - 0.4),
            (0..20).map(|i| i % 3).collect(),
            vec!["a".into(), "b".into(), "c".into()],
        )
        .unwrap();
        let findings = diagnose_activity(&network, &data);
        let dead = findings.iter().find(|f| f.check == "dead relu").unwrap();
        assert!(
            dead.message.contains("2 of 8 ReLU units"),
            "{}",
            dead.message
        );
        let saturation = findings.iter().find(|f| f.check == "saturation").unwrap();
        assert!(
            saturation
                .message
                .contains("100.0% of the sigmoid activations are saturated"),
            "{}",
            saturation.message
        );
        assert!(
            saturation.message.contains("66.67% are confidently wrong"),
            "{}",
            saturation.message
        );
    }
}
