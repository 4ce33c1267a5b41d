//! `explain --check`: a table of learner-style claims, each with the verdict a tutor would give.

use nabla::explain::claim::{Correction, Quantity, Verdict, diagnose, parse_claim};
use nabla::explain::{Question, derive, derive_for};
use nabla::{Activation, LossKind};

/// The verdict, in a few words.
fn summary(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Equal => "equal".into(),
        Verdict::OnlyWhere(w) => format!("only where {w}"),
        Verdict::Different { .. } => "different".into(),
        Verdict::Corrected {
            corrections,
            only_where,
            ..
        } => {
            let mut parts: Vec<String> = corrections
                .iter()
                .map(|c| match c {
                    Correction::Constant(k) if *k == -1.0 => "sign".to_string(),
                    Correction::Constant(k) => format!("factor {k}"),
                    Correction::Missing(m) => format!("missing {m}"),
                })
                .collect();
            if let Some(w) = only_where {
                parts.push(format!("only where {w}"));
            }
            parts.join(" + ")
        }
    }
}

#[test]
fn every_claim_gets_its_verdict() {
    use Activation::*;
    use LossKind::*;
    let w = Quantity::W;
    let cases: &[(Activation, LossKind, Quantity, &str, &str)] = &[
        // The seed: a ReLU output with binary cross-entropy.
        (
            Relu,
            BinaryCrossEntropy,
            w,
            "(y - z)/(z*(1 - z))",
            "sign + missing xⱼ",
        ),
        (
            Relu,
            BinaryCrossEntropy,
            w,
            "(z - y)*x_j/(z*(1-z))",
            "equal",
        ),
        (Relu, BinaryCrossEntropy, w, "(y - z)*x_j/(z*(1-z))", "sign"),
        (
            Relu,
            BinaryCrossEntropy,
            w,
            "(z - y)/(z(1 - z))",
            "missing xⱼ",
        ),
        (
            Relu,
            BinaryCrossEntropy,
            w,
            "sum((z-y)*x_j/(z*(1-z)))/n",
            "equal",
        ),
        (
            Relu,
            BinaryCrossEntropy,
            w,
            "Σₓ (z − y)·xⱼ/(z(1 − z))",
            "factor 0.25",
        ),
        (
            Relu,
            BinaryCrossEntropy,
            w,
            "(a - y)*x_j/(a*(1-a))",
            "equal",
        ),
        (Relu, BinaryCrossEntropy, w, "z - y", "different"),
        (
            Relu,
            BinaryCrossEntropy,
            w,
            "(y - z)*x_j/(y*(1 - y))",
            "different",
        ),
        (
            Relu,
            BinaryCrossEntropy,
            Quantity::B,
            "(z - y)/(z*(1-z))",
            "equal",
        ),
        (
            Relu,
            BinaryCrossEntropy,
            Quantity::Z,
            "(y - z)/(z*(1-z))",
            "sign",
        ),
        // Sigmoid with binary cross-entropy.
        (Sigmoid, BinaryCrossEntropy, w, "(a - y)*x_j", "equal"),
        (Sigmoid, BinaryCrossEntropy, w, "(y - a)*x_j", "sign"),
        (Sigmoid, BinaryCrossEntropy, w, "a - y", "missing xⱼ"),
        (Sigmoid, BinaryCrossEntropy, w, "(σ(z) - y)xⱼ", "equal"),
        (
            Sigmoid,
            BinaryCrossEntropy,
            w,
            "(a-y)*a*(1-a)*x_j",
            "different",
        ),
        (
            Sigmoid,
            BinaryCrossEntropy,
            Quantity::A,
            "(a - y)/(a*(1-a))",
            "equal",
        ),
        (
            Sigmoid,
            BinaryCrossEntropy,
            Quantity::A,
            "-(y/a - (1-y)/(1-a))",
            "equal",
        ),
        // Mean squared error: the slope stays.
        (Sigmoid, Mse, w, "2*(a - y)*a*(1-a)*x_j", "equal"),
        (Sigmoid, Mse, w, "2*(a - y)*x_j", "missing σ′(z)"),
        (Sigmoid, Mse, w, "(a - y)*a*(1-a)*x_j", "factor 2"),
        (Sigmoid, Mse, w, "2(a-y)σ'(z)x_j", "equal"),
        (Relu, Mse, w, "2*(a - y)*x_j", "missing relu′(z)"),
        (Relu, Mse, w, "2*(a-y)*relu'(z)*x_j", "equal"),
        (Identity, Mse, w, "2*(z - y)*x_j", "equal"),
        (Identity, Mse, w, "(z - y)*x_j", "factor 2"),
        // Softmax with cross-entropy: unit i.
        (Softmax, CrossEntropy, w, "(a_i - y_i)*x_j", "equal"),
        (Softmax, CrossEntropy, w, "(y_i - a_i)*x_j", "sign"),
        (Softmax, CrossEntropy, w, "a_i - y_i", "missing xⱼ"),
        // Only the diagonal of the softmax Jacobian: the other classes' terms are missing.
        (
            Softmax,
            CrossEntropy,
            w,
            "-y_i/a_i * a_i*(1-a_i)*x_j",
            "only where yᵢ = 1 (the true class)",
        ),
        (
            Softmax,
            CrossEntropy,
            w,
            "(a_i - 1)*x_j",
            "only where yᵢ = 1 (the true class)",
        ),
        // Nonsense.
        (Sigmoid, BinaryCrossEntropy, w, "x_j", "different"),
        (Sigmoid, BinaryCrossEntropy, w, "exp(z)", "different"),
        (Sigmoid, BinaryCrossEntropy, w, "0", "different"),
    ];
    let mut wrong = Vec::new();
    for (activation, loss, quantity, claim, expected) in cases {
        let derivation = derive(*activation, *loss);
        let parsed = parse_claim(claim).unwrap_or_else(|e| panic!("{claim}: {e:?}"));
        let diagnosis = diagnose(&derivation, &parsed, *quantity).unwrap();
        let got = summary(&diagnosis.verdict);
        if got != *expected {
            wrong.push(format!(
                "{activation} + {loss}, {claim}: expected {expected}, got {got}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(cases.len() >= 30);
}

#[test]
fn pytorchs_linear_with_cross_entropy_is_checked_from_logits() {
    let derivation = derive_for(&Question::new(Activation::Identity, LossKind::CrossEntropy));
    let claim = parse_claim("(exp(z_i)/Σₖ exp(z_k) - y_i)*x_j").unwrap();
    let diagnosis = diagnose(&derivation, &claim, Quantity::W).unwrap();
    assert_eq!(diagnosis.verdict, Verdict::Equal);
}
