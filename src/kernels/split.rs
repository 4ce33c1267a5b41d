//! How a product's C is cut for its threads: one strip of whole tiles per thread along its
//! longer side, and the tiles left over when they do not divide evenly cut the other way into a
//! tail, one piece per thread, claimed by whichever thread is free.

/// How C is cut for the threads: `threads` strips of `per` whole tiles along the split side
/// (`length`, tiles of `unit`), then the leftover tiles along it, cut across into strips of
/// whole tiles of the other side (`other`, tiles of `other_unit`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Split {
    length: usize,
    unit: usize,
    other: usize,
    /// Tiles per strip along the split side.
    per: usize,
    /// Strips along the split side.
    strips: usize,
    /// Width of a tail piece across (whole tiles), and how many there are.
    tail_width: usize,
    tail_pieces: usize,
}

impl Split {
    pub(super) fn new(
        length: usize,
        unit: usize,
        other: usize,
        other_unit: usize,
        threads: usize,
    ) -> Split {
        let units = length.div_ceil(unit);
        let other_units = other.div_ceil(other_unit);
        if units.is_multiple_of(threads) || other_units < threads {
            // Even strips, or a tail too narrow to share: strips of ⌈units/threads⌉ tiles (a
            // tail piece would cost a thread a second packing of B and balance nothing).
            let per = units.div_ceil(threads);
            return Split {
                length,
                unit,
                other,
                per,
                strips: units.div_ceil(per),
                tail_width: other,
                tail_pieces: 0,
            };
        }
        let per = units / threads;
        let strips = if per > 0 { threads } else { 0 };
        let width = other_units.div_ceil(threads) * other_unit;
        let (tail_width, tail_pieces) = (width, other.div_ceil(width));
        Split {
            length,
            unit,
            other,
            per,
            strips,
            tail_width,
            tail_pieces,
        }
    }

    pub(super) fn pieces(&self) -> usize {
        self.strips + self.tail_pieces
    }

    /// Piece `i`: its range along the split side and across it.
    pub(super) fn piece(&self, i: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let strip = self.per * self.unit;
        if i < self.strips {
            (i * strip..((i + 1) * strip).min(self.length), 0..self.other)
        } else {
            let start = (i - self.strips) * self.tail_width;
            (
                self.strips * strip..self.length,
                start..(start + self.tail_width).min(self.other),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Split;

    /// Every element of C lies in exactly one piece, pieces start on whole tiles, and the
    /// threads' shares of tiles differ by at most one tail piece.
    #[test]
    fn splits_cover_c_once_in_whole_tiles() {
        for (length, unit, other, other_unit, threads) in [
            (784, 32, 512, 12, 2),
            (512, 32, 512, 12, 2),
            (784, 32, 128, 12, 2),
            (512, 12, 40, 32, 2),
            (100, 32, 30, 12, 3),
            (70, 32, 13, 12, 8),
            (33, 32, 5, 12, 2),
        ] {
            let split = Split::new(length, unit, other, other_unit, threads);
            let mut owner = vec![0u32; length * other];
            for i in 0..split.pieces() {
                let (along, across) = split.piece(i);
                assert!(
                    !along.is_empty() && !across.is_empty(),
                    "{split:?} piece {i}"
                );
                assert_eq!(along.start % unit, 0, "{split:?} piece {i}");
                assert_eq!(across.start % other_unit, 0, "{split:?} piece {i}");
                for x in along {
                    for y in across.clone() {
                        owner[x * other + y] += 1;
                    }
                }
            }
            assert!(owner.iter().all(|&count| count == 1), "{split:?}");
            assert!(split.pieces() <= 2 * threads, "{split:?}");
            if split.pieces() > threads {
                // A tail only where it splits across the threads.
                assert!(split.pieces() >= threads + 2, "{split:?}");
            }
        }
        // 784 columns of 32 on 2 threads: 12 panels each, the half panel cut across the rows.
        let split = Split::new(784, 32, 512, 12, 2);
        assert_eq!(split.piece(0), (0..384, 0..512));
        assert_eq!(split.piece(1), (384..768, 0..512));
        assert_eq!(split.piece(2), (768..784, 0..264));
        assert_eq!(split.piece(3), (768..784, 264..512));
        // 128 rows of 12 beside one panel: no tail to share, strips of 6 and 5 row tiles.
        let split = Split::new(128, 12, 32, 32, 2);
        assert_eq!(split.pieces(), 2);
        assert_eq!(split.piece(0), (0..72, 0..32));
        assert_eq!(split.piece(1), (72..128, 0..32));
    }
}
