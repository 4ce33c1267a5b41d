//! Derivations of ∂C/∂w for an output activation and a loss, built as steps of expressions.
//!
//! One output unit (scalar form) for element-wise activations with binary cross-entropy or MSE,
//! the index form (K outputs, unit i) for categorical losses and row-wise activations:
//!
//! ```text
//! C = (1/n) Σₓ Cₓ                                          the cost
//! ∂C/∂wⱼ = (1/n) Σₓ ∂Cₓ/∂a · ∂a/∂z · ∂z/∂wⱼ                the chain rule
//!        = (1/n) Σₓ ∂Cₓ/∂a · σ′(z) · xⱼ                    z is linear in w
//!        = …  the loss's derivative, σ′ in closed form, then what cancels
//! ```
//!
//! Each step is data; `check.rs` verifies every consecutive pair numerically and the result
//! against finite differences of C.

use crate::activation::Activation;
use crate::head::{Head, IncompatibleHead};
use crate::loss::{LossConfig, LossInput, LossKind};

use super::advice::advice;
use super::expr::build::*;
use super::expr::{Expr, Index, Symbol, Var};
use super::loss_parts::loss_parts;
use super::question::{Question, TargetSet};
use super::region::region;
use super::simplify::{indexed_simplifications, scalar_simplifications};

/// One output unit, or K outputs with unit i differentiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// a = σ(z), one unit.
    Scalar,
    /// aₖ over K units; ∂C/∂wᵢⱼ.
    Indexed,
}

/// What a step's expression equals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The cost C.
    Cost,
    /// The gradient ∂C/∂w.
    Gradient,
    /// The gradient ∂C/∂b.
    Bias,
}

/// One line of a derivation: `side = expr`, with its justification.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// What the expression equals.
    pub side: Side,
    /// The expression.
    pub expr: Expr,
    /// Why this line follows from the previous one.
    pub why: String,
}

/// The derivation of ∂C/∂w for one activation and one loss.
#[derive(Clone, Debug, PartialEq)]
pub struct Derivation {
    /// The output activation.
    pub activation: Activation,
    /// The loss.
    pub loss: LossKind,
    /// What the loss reads the outputs as.
    pub from: LossInput,
    /// Which targets y may take.
    pub targets: TargetSet,
    /// Scalar or index form.
    pub form: Form,
    /// Whether nabla accepts the pairing (its range fits the loss's domain).
    pub compatible: bool,
    /// Definitions of the setting, as (text, LaTeX).
    pub setting: Vec<(String, String)>,
    /// The steps, cost first, gradient last.
    pub steps: Vec<Step>,
    /// ∂C/∂b: the result with the input xⱼ replaced by 1 (z depends on b with slope 1).
    pub bias: Expr,
    /// Where the derivation holds (e.g. "0 < z < 1"), or `None` for every z; `Some("")` when the
    /// cost is defined nowhere.
    pub region: Option<String>,
    /// What is undefined and where: each region of z outside the cost's domain, for each kind
    /// of target, with what the cost and ∂Cₓ/∂z are there (found by evaluating both).
    pub undefined_where: Vec<String>,
    /// What PyTorch and Keras compute where the cost is undefined (checked with nabla's
    /// PyTorch-compatible loss and its Keras-style clipped head).
    pub frameworks: Vec<String>,
    /// Why the pairing is refused (the refusal's own list), for an incompatible pairing.
    pub what_goes_wrong: Vec<String>,
    /// Nielsen's argument run backwards: which cost would give ∂Cₓ/∂z = a − y for this
    /// activation, and why cross-entropy is not it (incompatible pairings).
    pub reverse: Option<String>,
    /// Whether this is a probability model and whether nabla trains it.
    pub verdict: String,
    /// What to do.
    pub advice: String,
}

impl Derivation {
    /// The final gradient step.
    pub fn gradient(&self) -> &Step {
        self.steps.last().expect("a derivation has steps")
    }

    /// The left-hand side of a step in text and LaTeX.
    pub fn side(&self, side: Side) -> (&'static str, &'static str) {
        match (side, self.form) {
            (Side::Cost, _) => ("C", "C"),
            (Side::Gradient, Form::Scalar) => ("∂C/∂wⱼ", "\\frac{\\partial C}{\\partial w_{j}}"),
            (Side::Gradient, Form::Indexed) => ("∂C/∂wᵢⱼ", "\\frac{\\partial C}{\\partial w_{ij}}"),
            (Side::Bias, Form::Scalar) => ("∂C/∂b", "\\frac{\\partial C}{\\partial b}"),
            (Side::Bias, Form::Indexed) => ("∂C/∂bᵢ", "\\frac{\\partial C}{\\partial b_{i}}"),
        }
    }

    /// Whether the cost is defined nowhere (so nothing can be checked numerically).
    pub fn defined_nowhere(&self) -> bool {
        self.region.as_deref() == Some("")
    }

    /// The loss as nabla configures it behind this activation (probabilities; log-probabilities
    /// for NLL).
    pub fn loss_config(&self) -> LossConfig {
        LossConfig::new(self.loss, self.from)
    }

    /// The question this derivation answers.
    pub fn question(&self) -> Question {
        Question {
            activation: self.activation,
            loss: self.loss,
            from: self.from,
            targets: self.targets,
        }
    }

    /// Whether the loss applies sigmoid or softmax itself (it reads logits).
    pub fn reads_logits(&self) -> bool {
        self.question().reads_logits()
    }
}

/// The symbols of a form: (a, y, z) for the unit in sums (k) and the differentiated unit (i).
pub(super) struct Symbols {
    pub a_k: Expr,
    pub y_k: Expr,
    pub z_k: Expr,
    pub a_i: Expr,
    pub z_i: Expr,
}

pub(super) fn symbols(form: Form) -> Symbols {
    match form {
        Form::Scalar => Symbols {
            a_k: var(Symbol::A),
            y_k: var(Symbol::Y),
            z_k: var(Symbol::Z),
            a_i: var(Symbol::A),
            z_i: var(Symbol::Z),
        },
        Form::Indexed => Symbols {
            a_k: at(Symbol::A, Index::K),
            y_k: at(Symbol::Y, Index::K),
            z_k: at(Symbol::Z, Index::K),
            a_i: at(Symbol::A, Index::I),
            z_i: at(Symbol::Z, Index::I),
        },
    }
}

/// (1/n) Σₓ of `e`, with a leading minus sign moved in front: −(1/n) Σₓ …
pub(super) fn averaged(e: Expr) -> Expr {
    match e {
        Expr::Neg(inner) => neg(mean(*inner)),
        other => mean(other),
    }
}

/// The product of `factors`, with a minus sign of the first factor moved in front.
pub(super) fn scaled(mut factors: Vec<Expr>) -> Expr {
    match factors.first().cloned() {
        Some(Expr::Neg(inner)) => {
            factors[0] = *inner;
            neg(mul(factors))
        }
        _ => mul(factors),
    }
}

pub(super) fn one_minus(e: Expr) -> Expr {
    sub(num(1.0), e)
}

/// σ′ in closed form (in terms of z and a = σ(z)), with the reason.
pub(super) fn slope_closed(activation: Activation, z: &Expr, a: &Expr) -> (Expr, String) {
    match activation {
        Activation::Identity => (num(1.0), "the identity's slope is 1".into()),
        Activation::Relu => (
            step(z.clone()),
            "relu′(z) = 1 for z > 0 and 0 for z < 0 (at z = 0, as in PyTorch, nabla takes 0)"
                .into(),
        ),
        Activation::LeakyRelu { slope } => (
            add(vec![
                num(slope),
                mul(vec![num(1.0 - slope), step(z.clone())]),
            ]),
            format!("lrelu′(z) = 1 for z > 0 and α = {slope} otherwise"),
        ),
        Activation::Sigmoid => (
            mul(vec![a.clone(), one_minus(a.clone())]),
            "σ′(z) = σ(z)(1 − σ(z)) = a(1 − a)".into(),
        ),
        Activation::Tanh => (
            one_minus(pow(a.clone(), 2)),
            "tanh′(z) = 1 − tanh²(z) = 1 − a²".into(),
        ),
        Activation::Softplus => (
            act(Activation::Sigmoid, z.clone()),
            "softplus′(z) = eᶻ/(1 + eᶻ) = σ(z)".into(),
        ),
        Activation::Gelu => (
            add(vec![
                Expr::NormalCdf(Box::new(z.clone())),
                mul(vec![z.clone(), Expr::NormalPdf(Box::new(z.clone()))]),
            ]),
            "gelu(z) = z·Φ(z), so gelu′(z) = Φ(z) + z·φ(z)".into(),
        ),
        Activation::Softmax | Activation::LogSoftmax => (num(f64::NAN), String::new()),
    }
}

/// a as a function of z, for ∂a/∂z.
fn activation_of_z(activation: Activation, form: Form) -> Expr {
    let z_k = symbols(form).z_k;
    match activation {
        Activation::Softmax => div(exp(z_k), sum(Index::M, exp(at(Symbol::Z, Index::M)))),
        Activation::LogSoftmax => sub(z_k, ln(sum(Index::M, exp(at(Symbol::Z, Index::M))))),
        element_wise => act(element_wise, z_k),
    }
}

/// Builds the derivation of ∂C/∂w for `activation` feeding `loss`, read as `nabla train` reads
/// it by default, with hard targets (see [`Question::new`] and [`derive_for`]).
///
/// ```
/// use nabla::explain::{check, derive};
/// use nabla::{Activation, LossKind};
///
/// let sigmoid = derive(Activation::Sigmoid, LossKind::BinaryCrossEntropy);
/// assert_eq!(sigmoid.gradient().expr.text(), "(1/n) Σₓ (a − y)·xⱼ");
/// assert!(check(&sigmoid, 200, 1).is_ok()); // every step checked numerically
/// let relu = derive(Activation::Relu, LossKind::BinaryCrossEntropy);
/// assert!(!relu.compatible);
/// ```
pub fn derive(activation: Activation, loss: LossKind) -> Derivation {
    derive_for(&Question::new(activation, loss))
}

/// Builds the derivation that answers `question`.
pub fn derive_for(question: &Question) -> Derivation {
    let Question {
        activation, loss, ..
    } = *question;
    let form = if activation.is_row_wise() || matches!(loss, LossKind::CrossEntropy | LossKind::Nll)
    {
        Form::Indexed
    } else {
        Form::Scalar
    };
    let config = LossConfig::new(loss, question.from);
    let compatible = Head::new(
        activation,
        config.clone(),
        if form == Form::Scalar { 1 } else { 3 },
    )
    .is_ok();
    let s = symbols(form);
    let x_j = at(Symbol::X, Index::J);
    let (cost, g_k, loss_why) = loss_parts(question, form);
    let g_i = g_k.reindex(Index::K, Index::I);
    let name = activation.symbol().0;

    let mut setting = Vec::new();
    let mut steps = vec![Step {
        side: Side::Cost,
        expr: averaged(cost.clone()),
        why: format!(
            "the {} Cₓ of each example x, averaged over the n examples",
            loss.display_name()
        ),
    }];
    let gradient = |expr: Expr, why: String| Step {
        side: Side::Gradient,
        expr,
        why,
    };

    match form {
        Form::Scalar => {
            setting.push((
                "z = Σⱼ wⱼxⱼ + b".to_string(),
                "z = \\sum_{j} w_{j} x_{j} + b".to_string(),
            ));
            setting.push((
                format!("a = {name}(z)"),
                format!("a = {}(z)", activation.symbol().1),
            ));
            let z_of_w = add(vec![
                sum(
                    Index::L,
                    mul(vec![at(Symbol::W, Index::L), at(Symbol::X, Index::L)]),
                ),
                var(Symbol::B),
            ]);
            let d_cost = partial(
                cost.clone(),
                Var::plain(Symbol::A),
                "∂Cₓ/∂a",
                "\\frac{\\partial C_x}{\\partial a}",
            );
            let d_act = partial(
                activation_of_z(activation, form),
                Var::plain(Symbol::Z),
                "∂a/∂z",
                "\\frac{\\partial a}{\\partial z}",
            );
            let d_z = partial(
                z_of_w,
                Var::at(Symbol::W, Index::J),
                "∂z/∂wⱼ",
                "\\frac{\\partial z}{\\partial w_{j}}",
            );
            steps.push(gradient(
                averaged(mul(vec![d_cost.clone(), d_act, d_z])),
                "chain rule: wⱼ reaches C only through z, and z only through a".into(),
            ));
            let sigma_prime = slope(activation, s.z_i.clone());
            steps.push(gradient(
                averaged(mul(vec![d_cost, sigma_prime.clone(), x_j.clone()])),
                format!("z = Σⱼ wⱼxⱼ + b is linear in wⱼ, so ∂z/∂wⱼ = xⱼ; and ∂a/∂z = {name}′(z)"),
            ));
            steps.push(gradient(
                averaged(scaled(vec![g_i.clone(), sigma_prime, x_j.clone()])),
                loss_why.into(),
            ));
            let (closed, slope_why) = slope_closed(activation, &s.z_i, &s.a_i);
            steps.push(gradient(
                averaged(scaled(vec![g_i.clone(), closed.clone(), x_j.clone()])),
                slope_why,
            ));
            scalar_simplifications(question, &closed, &mut steps);
        }
        Form::Indexed => {
            setting.push((
                "zᵢ = Σⱼ wᵢⱼxⱼ + bᵢ".to_string(),
                "z_{i} = \\sum_{j} w_{ij} x_{j} + b_{i}".to_string(),
            ));
            setting.push(match activation {
                Activation::Softmax => (
                    "aₖ = e^zₖ / Σₘ e^zₘ".to_string(),
                    "a_{k} = \\frac{e^{z_{k}}}{\\sum_{m} e^{z_{m}}}".to_string(),
                ),
                Activation::LogSoftmax => (
                    "aₖ = zₖ − ln Σₘ e^zₘ".to_string(),
                    "a_{k} = z_{k} - \\ln \\sum_{m} e^{z_{m}}".to_string(),
                ),
                _ => (
                    format!("aₖ = {name}(zₖ)"),
                    format!("a_{{k}} = {}(z_{{k}})", activation.symbol().1),
                ),
            });
            let z_of_w = add(vec![
                sum(
                    Index::L,
                    mul(vec![
                        Expr::Var(Var::at2(Symbol::W, Index::I, Index::L)),
                        at(Symbol::X, Index::L),
                    ]),
                ),
                at(Symbol::B, Index::I),
            ]);
            let d_cost = partial(
                cost.clone(),
                Var::at(Symbol::A, Index::K),
                "∂Cₓ/∂aₖ",
                "\\frac{\\partial C_x}{\\partial a_{k}}",
            );
            let d_act = partial(
                activation_of_z(activation, form),
                Var::at(Symbol::Z, Index::I),
                "∂aₖ/∂zᵢ",
                "\\frac{\\partial a_{k}}{\\partial z_{i}}",
            );
            let d_z = partial(
                z_of_w,
                Var::at2(Symbol::W, Index::I, Index::J),
                "∂zᵢ/∂wᵢⱼ",
                "\\frac{\\partial z_{i}}{\\partial w_{ij}}",
            );
            steps.push(gradient(
                averaged(mul(vec![sum(Index::K, mul(vec![d_cost.clone(), d_act.clone()])), d_z])),
                "chain rule: wᵢⱼ reaches C only through zᵢ, and zᵢ reaches the loss through every aₖ".into(),
            ));
            steps.push(gradient(
                averaged(mul(vec![
                    sum(Index::K, mul(vec![d_cost, d_act.clone()])),
                    x_j.clone(),
                ])),
                "zᵢ = Σⱼ wᵢⱼxⱼ + bᵢ is linear in wᵢⱼ, so ∂zᵢ/∂wᵢⱼ = xⱼ".into(),
            ));
            steps.push(gradient(
                averaged(mul(vec![
                    sum(Index::K, scaled(vec![g_k.clone(), d_act])),
                    x_j.clone(),
                ])),
                loss_why.into(),
            ));
            let delta = Expr::Delta(Index::K, Index::I);
            let (jacobian, jacobian_why) = match activation {
                Activation::Softmax => (
                    mul(vec![s.a_k.clone(), sub(delta, s.a_i.clone())]),
                    "the softmax Jacobian: ∂aₖ/∂zᵢ = aₖ(δₖᵢ − aᵢ), where δₖᵢ is 1 for k = i and 0 otherwise".to_string(),
                ),
                Activation::LogSoftmax => (
                    sub(delta, exp(s.a_i.clone())),
                    "∂aₖ/∂zᵢ = δₖᵢ − softmax(z)ᵢ = δₖᵢ − e^aᵢ".to_string(),
                ),
                element_wise => {
                    let (closed, why) = slope_closed(element_wise, &s.z_i, &s.a_i);
                    (mul(vec![delta, closed]), format!("aₖ depends on zᵢ only for k = i: ∂aₖ/∂zᵢ = δₖᵢ·{name}′(zᵢ), and {why}"))
                }
            };
            steps.push(gradient(
                averaged(mul(vec![
                    sum(Index::K, scaled(vec![g_k.clone(), jacobian])),
                    x_j.clone(),
                ])),
                jacobian_why,
            ));
            indexed_simplifications(question, &g_k, &g_i, &mut steps);
        }
    }

    let (targets_text, targets_latex) = question.targets.describe(loss);
    setting.push((targets_text.to_string(), targets_latex.to_string()));
    if question.reads_logits() {
        setting.push(if loss == LossKind::BinaryCrossEntropy {
            (
                "the loss reads a as a logit and applies σ itself".to_string(),
                "\\text{the loss applies } \\sigma \\text{ to } a".to_string(),
            )
        } else {
            (
                "the loss reads the aₖ as logits and applies softmax itself".to_string(),
                "\\text{the loss applies softmax to the } a_{k}".to_string(),
            )
        });
    }
    let region = region(activation, loss, question.from, form);
    let bias = steps
        .last()
        .expect("a derivation has steps")
        .expr
        .without_input();
    let mut undefined_where = Vec::new();
    let mut frameworks = Vec::new();
    match region.as_deref() {
        Some("") => undefined_where.push(format!(
            "the cost is undefined for every input: {} never gives values {} can take the \
             logarithm of",
            activation.display_name(),
            loss.display_name()
        )),
        Some(_) => {
            let found = super::cases::undefined_cases(question, form);
            undefined_where = found.cases;
            frameworks = found.frameworks;
        }
        None => {}
    }
    let what_goes_wrong = if compatible {
        Vec::new()
    } else {
        IncompatibleHead::new(activation, &config).undefined
    };
    let reverse = if compatible {
        None
    } else {
        super::reverse::reverse_argument(activation, loss, question.from)
    };
    let advice = advice(question, compatible, &config, &steps);
    let verdict = verdict(question, compatible);
    Derivation {
        activation,
        loss,
        from: question.from,
        targets: question.targets,
        form,
        compatible,
        setting,
        steps,
        bias,
        region,
        undefined_where,
        frameworks,
        what_goes_wrong,
        reverse,
        verdict,
        advice,
    }
}

/// "yes", or why not: the line under a derivation that says whether the pairing is a
/// probability model and whether nabla trains it.
fn verdict(question: &Question, compatible: bool) -> String {
    match (question.loss, compatible) {
        (LossKind::Mse, _) => "not a probability model (mean squared error compares numbers, not \
                               distributions); compatible: yes, nabla trains it"
            .to_string(),
        (_, true) => "yes".to_string(),
        (_, false) => "no: nabla refuses this pairing (--allow-unsafe trains it anyway, clipped \
                       the way Keras clips it)"
            .to_string(),
    }
}
