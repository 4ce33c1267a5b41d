//! Stratified, seeded splits: every part keeps the class proportions of the whole.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Splits row indices into parts of the given fractions (the last part takes the rest), class
/// by class, so each part has the same class mix. Each part gets round(fraction · rows) rows in
/// total (the classes' rounding remainders are handed out largest first), so a fraction of
/// 10000/60000 gives exactly 10000 rows. Each class's rows are shuffled with `seed` first; the
/// result lists each part's indices in ascending order.
///
/// `fractions` are the sizes of all parts but the last, each in [0, 1], summing to ≤ 1.
pub fn stratified_split(labels: &[usize], fractions: &[f64], seed: u64) -> Vec<Vec<usize>> {
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &label) in labels.iter().enumerate() {
        by_class[label].push(i);
    }
    for (class, rows) in by_class.iter_mut().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(class as u64);
        rows.shuffle(&mut rng);
    }
    // takes[part][class]: how many rows of the class go to the part.
    let mut remaining: Vec<usize> = by_class.iter().map(Vec::len).collect();
    let mut takes = Vec::with_capacity(fractions.len());
    for &fraction in fractions {
        let target = (labels.len() as f64 * fraction).round() as usize;
        let exact: Vec<f64> = by_class
            .iter()
            .map(|rows| rows.len() as f64 * fraction)
            .collect();
        let mut take: Vec<usize> = exact
            .iter()
            .zip(&remaining)
            .map(|(e, r)| (e.floor() as usize).min(*r))
            .collect();
        let mut order: Vec<usize> = (0..classes).collect();
        order.sort_by(|&a, &b| {
            (exact[b] - exact[b].floor())
                .total_cmp(&(exact[a] - exact[a].floor()))
                .then(a.cmp(&b))
        });
        let mut missing = target.saturating_sub(take.iter().sum());
        for &class in order.iter().cycle().take(classes * 2) {
            if missing == 0 {
                break;
            }
            if take[class] < remaining[class] {
                take[class] += 1;
                missing -= 1;
            }
        }
        for (r, t) in remaining.iter_mut().zip(&take) {
            *r -= t;
        }
        takes.push(take);
    }
    let mut parts = vec![Vec::new(); fractions.len() + 1];
    for (class, rows) in by_class.iter().enumerate() {
        let mut start = 0;
        for (part, take) in takes.iter().enumerate() {
            parts[part].extend_from_slice(&rows[start..start + take[class]]);
            start += take[class];
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

    #[test]
    fn a_count_as_a_fraction_gives_exactly_that_many_rows() {
        let labels: Vec<usize> = (0..60_000).map(|i| (i * 7 + i / 13) % 10).collect();
        let parts = stratified_split(&labels, &[10_000.0 / 60_000.0], 1);
        assert_eq!((parts[0].len(), parts[1].len()), (10_000, 50_000));
    }
}
