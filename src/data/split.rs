//! Stratified, seeded splits: every part keeps the class proportions of the whole.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Splits row indices into parts of the given fractions (the last part takes the rest), class
/// by class, so each part has the same class mix. Each class's rows are shuffled with `seed`
/// first; the result lists each part's indices in ascending order.
///
/// `fractions` are the sizes of all parts but the last, each in [0, 1], summing to ≤ 1.
pub fn stratified_split(labels: &[usize], fractions: &[f64], seed: u64) -> Vec<Vec<usize>> {
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &label) in labels.iter().enumerate() {
        by_class[label].push(i);
    }
    let mut parts = vec![Vec::new(); fractions.len() + 1];
    for (class, mut rows) in by_class.into_iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(class as u64);
        rows.shuffle(&mut rng);
        let mut start = 0;
        for (part, fraction) in fractions.iter().enumerate() {
            let take = ((rows.len() as f64) * fraction).round() as usize;
            let end = (start + take).min(rows.len());
            parts[part].extend_from_slice(&rows[start..end]);
            start = end;
        }
        parts[fractions.len()].extend_from_slice(&rows[start..]);
    }
    for part in &mut parts {
        part.sort_unstable();
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_disjoint_complete_stratified_and_seeded() {
        let labels: Vec<usize> = (0..1000).map(|i| if i % 4 == 0 { 1 } else { 0 }).collect();
        let parts = stratified_split(&labels, &[0.2, 0.1], 7);
        let mut all: Vec<usize> = parts.concat();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert_eq!(parts[0].len(), 200);
        assert_eq!(parts[1].len(), 100);
        assert_eq!(parts[0].iter().filter(|&&i| labels[i] == 1).count(), 50);
        assert_eq!(parts, stratified_split(&labels, &[0.2, 0.1], 7));
        assert_ne!(parts, stratified_split(&labels, &[0.2, 0.1], 8));
    }
}
