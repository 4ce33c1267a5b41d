//! What a playground run is, as the page sends it: [`PlaygroundSpec`], its bounds, and the
//! `nabla train` run and command line it stands for.

use serde::{Deserialize, Serialize};

use super::train_run::TrainRun;
use crate::activation::Activation;
use crate::data::{DataSpec, Synthetic};
use crate::error::{Error, Result};
use crate::loss::{LossInput, LossKind};
use crate::network::NetworkBuilder;
use crate::optim::{OptimizerConfig, OptimizerKind};
use crate::prepare::DataSource;
use crate::train::TrainConfig;

/// The most points a playground set has.
pub const MAX_POINTS: usize = 5000;
/// The most hidden layers.
pub const MAX_LAYERS: usize = 6;
/// The most units in a hidden layer.
pub const MAX_UNITS: usize = 64;
/// The most epochs a playground run trains.
pub const MAX_EPOCHS: usize = 5000;
/// The longest pause after each epoch, in milliseconds (to watch a fast run learn).
pub const MAX_DELAY_MS: u64 = 1000;

/// A playground run, as the page sends it (JSON; every field has a default). Names are read as
/// the command line reads them, so a bad one gets the command line's error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlaygroundSpec {
    /// The data set: spirals, moons, circles, xor or blobs.
    pub data: String,
    /// Points drawn (1 to [`MAX_POINTS`]).
    pub samples: usize,
    /// The generator's noise (its default when absent).
    pub noise: Option<f64>,
    /// Hidden layer sizes.
    pub hidden: Vec<usize>,
    /// The hidden activation.
    pub activation: String,
    /// The output activation (the task's default when absent).
    pub output: Option<String>,
    /// The loss (the output's default when absent).
    pub loss: Option<String>,
    /// What the loss reads: logits or probabilities (the pairing table's default when absent).
    pub from: Option<String>,
    /// The optimiser: sgd, momentum, adam, adamw.
    pub optimizer: String,
    /// Its learning rate (the optimiser's default when absent).
    pub learning_rate: Option<f64>,
    /// Rows per step.
    pub batch: usize,
    /// Epochs (1 to [`MAX_EPOCHS`]).
    pub epochs: usize,
    /// The seed of the data, the weights and the shuffles.
    pub seed: u64,
    /// Train a refused pairing anyway, clipped as Keras clips it.
    pub allow_unsafe: bool,
    /// A pause after each epoch, in milliseconds, to watch a fast run (not part of training).
    pub delay_ms: u64,
}

impl Default for PlaygroundSpec {
    /// Moons, 400 points, two hidden layers of 8 ReLU units, Adam, batch 32, 100 epochs.
    fn default() -> Self {
        PlaygroundSpec {
            data: "moons".into(),
            samples: 400,
            noise: None,
            hidden: vec![8, 8],
            activation: "relu".into(),
            output: None,
            loss: None,
            from: None,
            optimizer: "adam".into(),
            learning_rate: None,
            batch: TrainConfig::default().batch_size,
            epochs: 100,
            seed: 0,
            allow_unsafe: false,
            delay_ms: 0,
        }
    }
}

impl PlaygroundSpec {
    /// A spec from a request body: a JSON object of named fields (serde alone would also take
    /// an array, its values by position). Checked as a whole later, by [`Self::train_run`].
    ///
    /// # Errors
    /// Not JSON, not an object, or a field of the wrong type or name, all under the field name
    /// `request body`.
    pub fn from_json(body: &[u8]) -> Result<PlaygroundSpec> {
        let invalid = |why: String| Error::invalid("request body", why);
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(value @ serde_json::Value::Object(_)) => {
                serde_json::from_value(value).map_err(|e| invalid(e.to_string()))
            }
            Ok(other) => {
                let kind = match other {
                    serde_json::Value::Array(_) => "an array",
                    serde_json::Value::String(_) => "a string",
                    serde_json::Value::Number(_) => "a number",
                    serde_json::Value::Bool(_) => "a boolean",
                    _ => "null",
                };
                Err(invalid(format!(
                    "the spec is a JSON object of named fields, got {kind}"
                )))
            }
            Err(e) => Err(invalid(e.to_string())),
        }
    }

    /// The `nabla train` run this is: the same data, network, optimiser, batch, epochs and
    /// seed, one thread, nothing written.
    ///
    /// # Errors
    /// A name the command line would refuse, a data set that is not one of the 2-D generators
    /// (the playground reads no files), or a size beyond the playground's bounds.
    pub fn train_run(&self) -> Result<TrainRun> {
        let kind: Synthetic = self.data.parse()?;
        let bounded = |field: &'static str, value: usize, max: usize| {
            if value == 0 || value > max {
                Err(Error::invalid(
                    field,
                    format!("{value} is outside the playground's 1 to {max}"),
                ))
            } else {
                Ok(())
            }
        };
        bounded("samples", self.samples, MAX_POINTS)?;
        bounded("epochs", self.epochs, MAX_EPOCHS)?;
        bounded("batch", self.batch, MAX_POINTS)?;
        if self.hidden.len() > MAX_LAYERS {
            return Err(Error::invalid(
                "hidden",
                format!(
                    "{} layers; the playground takes at most {MAX_LAYERS}",
                    self.hidden.len()
                ),
            ));
        }
        for &units in &self.hidden {
            bounded("hidden", units, MAX_UNITS)?;
        }
        if let Some(noise) = self.noise {
            // Checked before the run starts, not when its data is drawn.
            crate::data::check_noise(noise)?;
        }
        if self.delay_ms > MAX_DELAY_MS {
            return Err(Error::invalid(
                "delay_ms",
                format!("{} ms is longer than {MAX_DELAY_MS} ms", self.delay_ms),
            ));
        }
        let mut source = DataSource::new(DataSpec::Synthetic(kind));
        source.options.samples = self.samples;
        source.options.noise = self.noise;
        source.options.seed = self.seed;
        let mut network = NetworkBuilder::default()
            .hidden(self.hidden.iter().copied())
            .hidden_activation(self.activation.parse::<Activation>()?)
            .allow_unsafe(self.allow_unsafe);
        if let Some(output) = &self.output {
            network = network.output(output.parse::<Activation>()?);
        }
        if let Some(loss) = &self.loss {
            network = network.loss(loss.parse::<LossKind>()?);
        }
        if let Some(from) = &self.from {
            network = network.loss_input(from.parse::<LossInput>()?);
        }
        let base = OptimizerConfig::default_for(self.optimizer.parse::<OptimizerKind>()?);
        let optimizer = OptimizerConfig {
            learning_rate: self.learning_rate.unwrap_or(base.learning_rate),
            ..base
        };
        optimizer.validate()?;
        let mut run = TrainRun::new(source);
        run.network = network;
        run.train = TrainConfig::default()
            .optimizer(optimizer)
            .batch_size(self.batch)
            .epochs(self.epochs)
            .seed(self.seed)
            .threads(1)
            // A refused pairing trained anyway goes on through NaN (as `compare-heads` does),
            // so the page shows what happens; `nabla train` stops at the first fault.
            .stop_on_faults(!self.allow_unsafe);
        Ok(run)
    }

    /// The same run as a command line.
    pub fn command_line(&self) -> String {
        let mut words = vec![
            format!("nabla train --data {}", self.data),
            format!("--samples {}", self.samples),
        ];
        if let Some(noise) = self.noise {
            words.push(format!("--noise {noise}"));
        }
        let hidden: Vec<String> = self.hidden.iter().map(ToString::to_string).collect();
        words.push(format!("--hidden {}", none_if_empty(&hidden.join(","))));
        words.push(format!("--activation {}", self.activation));
        for (flag, value) in [
            ("--output", &self.output),
            ("--loss", &self.loss),
            ("--from", &self.from),
        ] {
            if let Some(value) = value {
                words.push(format!("{flag} {value}"));
            }
        }
        words.push(format!("--optimizer {}", self.optimizer));
        if let Some(rate) = self.learning_rate {
            words.push(format!("--lr {rate}"));
        }
        words.push(format!(
            "--batch {} --epochs {} --seed {} --threads 1",
            self.batch, self.epochs, self.seed
        ));
        if self.allow_unsafe {
            words.push("--allow-unsafe".into());
        }
        words.join(" ")
    }
}

fn none_if_empty(text: &str) -> &str {
    if text.is_empty() { "none" } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_is_the_command_lines() {
        let spec = PlaygroundSpec {
            data: "spirals".into(),
            hidden: vec![16],
            learning_rate: Some(0.01),
            ..PlaygroundSpec::default()
        };
        let run = spec.train_run().unwrap();
        assert_eq!(run.train.threads, 1);
        assert_eq!(run.train.optimizer.learning_rate, 0.01);
        assert_eq!(run.source.options.samples, 400);
        assert_eq!(
            spec.command_line(),
            "nabla train --data spirals --samples 400 --hidden 16 --activation relu \
             --optimizer adam --lr 0.01 --batch 32 --epochs 100 --seed 0 --threads 1"
        );
    }

    #[test]
    fn files_and_sizes_beyond_the_bounds_are_refused() {
        let refused = |spec: PlaygroundSpec, field: &str| {
            let message = spec.train_run().unwrap_err().to_string();
            assert!(message.contains(field), "{message}");
        };
        refused(
            PlaygroundSpec {
                data: "/etc/passwd".into(),
                ..PlaygroundSpec::default()
            },
            "synthetic data set",
        );
        refused(
            PlaygroundSpec {
                samples: MAX_POINTS + 1,
                ..PlaygroundSpec::default()
            },
            "samples",
        );
        refused(
            PlaygroundSpec {
                hidden: vec![MAX_UNITS + 1],
                ..PlaygroundSpec::default()
            },
            "hidden",
        );
        refused(
            PlaygroundSpec {
                activation: "relu6".into(),
                ..PlaygroundSpec::default()
            },
            "relu6",
        );
    }
}
