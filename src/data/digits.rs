//! The 8×8 handwritten digits set (scikit-learn's copy of the UCI optdigits test set: 1797
//! images, pixels 0–16, labels 0–9), compiled into the binary so the main job needs no files.
//! Source and license: `data/digits/SOURCE.md`.

use std::path::Path;

use super::{Dataset, LoadOptions, read_csv};

const DIGITS_CSV: &str = include_str!("../../data/digits/digits.csv");

/// The embedded digits set: 1797 rows × 64 pixel features, 10 classes.
pub fn digits() -> Dataset {
    read_csv(
        DIGITS_CSV.as_bytes(),
        Path::new("<embedded digits.csv>"),
        &LoadOptions::default(),
    )
    .expect("the embedded digits CSV is well-formed (checked by a unit test)")
    .0
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_digits_have_the_documented_shape_and_counts() {
        let d = super::digits();
        assert_eq!(
            (d.len(), d.feature_count(), d.target_width()),
            (1797, 64, 10)
        );
        assert_eq!(
            d.class_counts(),
            vec![178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
        );
        assert!(d.features.iter().all(|&p| (0.0..=16.0).contains(&p)));
    }
}
