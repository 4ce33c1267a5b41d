//! [`Features`]: a data set's table of feature values, owned or read in place from memory that
//! something else keeps (a NumPy array handed over by the Python package, a memory-mapped
//! `.npy` file), never copied for reading. A new table (a copy, a selection of rows) is made in
//! memory when it fits, else in a temporary file mapped into memory ([`super::spill`]).

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use memmap2::{Advice, MmapMut};
use ndarray::{Array2, ArrayRef2, ArrayView2, ArrayViewMut2};

use super::spill;
use crate::error::Result;

/// Rows × features values, f32: an owned array, rows read in place from memory an `owner`
/// keeps alive, or rows in a temporary file mapped into memory (when they did not fit in
/// memory). Reading goes through [`Deref`] to ndarray's array methods (`features.nrows()`,
/// `features.row(i)`, `features.view()`); writing goes through [`Features::to_mut`], which
/// copies shared rows first (copy on write, as `Cow::to_mut`).
///
/// ```
/// use nabla::data::Features;
/// use nabla::ndarray::array;
///
/// let mut features = Features::from(array![[1.0f32, 2.0], [3.0, 4.0]]);
/// assert_eq!(features.row(1).to_vec(), vec![3.0, 4.0]);
/// features.to_mut()?[[0, 0]] = 5.0;
/// assert_eq!(features, array![[5.0, 2.0], [3.0, 4.0]]);
/// # Ok::<(), nabla::Error>(())
/// ```
#[derive(Clone)]
pub struct Features(Storage);

enum Storage {
    Owned(Array2<f32>),
    Shared {
        /// Points into memory `owner` keeps alive; the lifetime is the owner's, not 'static.
        rows: ArrayView2<'static, f32>,
        /// Held only to keep the memory of `rows` alive.
        _owner: Arc<dyn Send + Sync>,
    },
    /// Rows read in place from a file mapped read-only (a `.npy` file larger than the memory
    /// budget).
    Mapped {
        /// Points into `map`, which clones share.
        rows: ArrayView2<'static, f32>,
        map: Arc<super::MappedFile>,
    },
    /// Rows in a temporary file mapped read-write, which only this value uses.
    Spilled {
        /// Points into `_map`, which does not move when this value does.
        rows: ArrayViewMut2<'static, f32>,
        /// Held only to keep the mapping of `rows` alive.
        _map: MmapMut,
    },
}

impl Clone for Storage {
    fn clone(&self) -> Self {
        match self {
            Storage::Owned(array) => Storage::Owned(array.clone()),
            Storage::Shared { rows, _owner } => Storage::Shared {
                rows: *rows,
                _owner: Arc::clone(_owner),
            },
            Storage::Mapped { rows, map } => Storage::Mapped {
                rows: *rows,
                map: Arc::clone(map),
            },
            // A copy (as an owned array's clone is) in a new file: a spilled table is too large
            // for memory.
            Storage::Spilled { rows, .. } => match Features::copy_of(rows.view()) {
                Ok(Features(storage)) => storage,
                // No room for a second file: memory is the only place left to try.
                Err(_) => Storage::Owned(rows.to_owned()),
            },
        }
    }
}

impl Features {
    /// Rows read in place from memory that `owner` keeps alive: nothing is copied, unless
    /// `rows` is not in standard (row-major, contiguous) layout, which training needs; then
    /// they are copied once into an owned array.
    ///
    /// # Safety
    /// The memory `rows` views must stay allocated, and must not be written, for as long as
    /// `owner` lives (every clone of the returned value holds it).
    pub unsafe fn shared(rows: ArrayView2<'_, f32>, owner: Arc<dyn Send + Sync>) -> Features {
        if !rows.is_standard_layout() {
            return Features::from(rows.as_standard_layout().into_owned());
        }
        // SAFETY: the caller keeps the memory alive and unchanged while `owner` lives, and
        // `owner` lives as long as this view (they are stored and dropped together).
        let rows = unsafe { ArrayView2::from_shape_ptr(rows.raw_dim(), rows.as_ptr()) };
        Features(Storage::Shared {
            rows,
            _owner: owner,
        })
    }

    /// Rows `rows` of a file mapped read-only, read in place.
    ///
    /// # Safety
    /// `rows` must lie inside `map`, aligned for f32, and the file must not change while any
    /// clone of the returned value lives.
    pub(crate) unsafe fn mapped(
        rows: ArrayView2<'_, f32>,
        map: Arc<super::MappedFile>,
    ) -> Features {
        // SAFETY: as the caller promises; `map` is stored with the view.
        let rows = unsafe { ArrayView2::from_shape_ptr(rows.raw_dim(), rows.as_ptr()) };
        Features(Storage::Mapped { rows, map })
    }

    /// Whether the rows are read in place from memory another owner keeps, or from a mapped
    /// file (not copied).
    pub fn is_shared(&self) -> bool {
        matches!(self.0, Storage::Shared { .. } | Storage::Mapped { .. })
    }

    /// Whether the rows are in memory: not in a file mapped into memory, whose pages may have
    /// to be read from the disk ([`Features::is_spilled`], or a `.npy` file read in place).
    pub fn is_in_memory(&self) -> bool {
        matches!(self.0, Storage::Owned(_) | Storage::Shared { .. })
    }

    /// Asks the operating system to start reading rows `rows` from the disk, for a table that is
    /// not in memory (nothing otherwise): the reads are sequential and happen while the caller
    /// goes on, so that gathering those rows later finds them in memory.
    pub fn prefetch(&self, rows: std::ops::Range<usize>) {
        // The rows' bytes as an offset into the mapping (from its first whole page) and a length.
        let span = |mapping: *const u8| {
            let row_bytes = self.ncols() * std::mem::size_of::<f32>();
            let offset = self.as_ptr() as usize - mapping as usize + rows.start * row_bytes;
            let page_start = offset / 4096 * 4096;
            (page_start, offset + rows.len() * row_bytes - page_start)
        };
        // A refused hint changes nothing but speed.
        let _ = match &self.0 {
            Storage::Mapped { map, .. } => {
                let (offset, len) = span(map.as_ptr());
                map.advise_range(Advice::WillNeed, offset, len)
            }
            Storage::Spilled { _map, .. } => {
                let (offset, len) = span(_map.as_ptr());
                _map.advise_range(Advice::WillNeed, offset, len)
            }
            Storage::Owned(_) | Storage::Shared { .. } => Ok(()),
        };
    }

    /// Whether the rows are in a temporary file mapped into memory, because they did not fit
    /// in the memory budget ([`spill::memory_budget`]).
    pub fn is_spilled(&self) -> bool {
        matches!(self.0, Storage::Spilled { .. })
    }

    /// A `rows` × `columns` table whose row i `fill(i, row)` writes (the row starts at 0), in
    /// memory backed by 2 MB pages when it fits the memory budget, else in a temporary file.
    ///
    /// # Errors
    /// The first error of `fill` (no later row is filled), or a temporary file that cannot be
    /// made (no room on the disk of `TMPDIR`).
    pub fn build(
        rows: usize,
        columns: usize,
        mut fill: impl FnMut(usize, &mut [f32]) -> Result<()>,
    ) -> Result<Features> {
        let len = rows * columns;
        if !spill::fits_in_memory((len * std::mem::size_of::<f32>()) as u64) {
            return Features::spilled(rows, columns, &mut fill);
        }
        let mut values = super::huge_pages::vec_with_capacity(len);
        values.resize(len, 0.0);
        for (i, row) in values.chunks_exact_mut(columns.max(1)).enumerate() {
            fill(i, row)?;
        }
        let array = Array2::from_shape_vec((rows, columns), values).expect("rows × columns");
        Ok(Features(Storage::Owned(array)))
    }

    /// [`Features::build`] in a temporary file, whatever the budget.
    fn spilled(
        rows: usize,
        columns: usize,
        fill: &mut dyn FnMut(usize, &mut [f32]) -> Result<()>,
    ) -> Result<Features> {
        let mut map = spill::spilled_rows(rows, columns, fill)?;
        let pointer = map.as_mut_ptr().cast::<f32>();
        // SAFETY: the mapping is page-aligned (so aligned for f32), holds at least rows ×
        // columns f32 values, and lives, unmoved, as long as the view (stored together).
        let view = unsafe { ArrayViewMut2::from_shape_ptr((rows, columns), pointer) };
        Ok(Features(Storage::Spilled {
            rows: view,
            _map: map,
        }))
    }

    /// A copy of `rows`, made as [`Features::build`] makes a table.
    ///
    /// # Errors
    /// As [`Features::build`].
    pub fn copy_of(rows: ArrayView2<'_, f32>) -> Result<Features> {
        Features::build(rows.nrows(), rows.ncols(), |i, out| {
            for (o, v) in out.iter_mut().zip(rows.row(i)) {
                *o = *v;
            }
            Ok(())
        })
    }

    /// The values, writable: shared rows are copied first (into memory, or a temporary file
    /// when they do not fit).
    ///
    /// # Errors
    /// As [`Features::build`], for the copy.
    pub fn to_mut(&mut self) -> Result<&mut ArrayRef2<f32>> {
        if let Storage::Shared { rows, .. } | Storage::Mapped { rows, .. } = &self.0 {
            *self = Features::copy_of(rows.view())?;
        }
        Ok(match &mut self.0 {
            Storage::Owned(array) => array,
            Storage::Spilled { rows, .. } => rows,
            Storage::Shared { .. } | Storage::Mapped { .. } => unreachable!("copied above"),
        })
    }

    /// The values as an owned array in memory (a copy when they are shared or spilled).
    pub fn into_owned(self) -> Array2<f32> {
        match self.0 {
            Storage::Owned(array) => array,
            Storage::Shared { rows, .. } | Storage::Mapped { rows, .. } => rows.to_owned(),
            Storage::Spilled { rows, .. } => rows.to_owned(),
        }
    }
}

// SAFETY: a spilled table's view points into the mapping it is stored with, which no other
// value reaches; sending or sharing it is sending or sharing that mapping (MmapMut is Send and
// Sync) with the view, as for an owned array.
unsafe impl Send for Storage {}
unsafe impl Sync for Storage {}

impl From<Array2<f32>> for Features {
    fn from(array: Array2<f32>) -> Features {
        Features(Storage::Owned(array))
    }
}

impl Deref for Features {
    type Target = ArrayRef2<f32>;

    fn deref(&self) -> &ArrayRef2<f32> {
        match &self.0 {
            Storage::Owned(array) => array,
            Storage::Shared { rows, .. } | Storage::Mapped { rows, .. } => rows,
            Storage::Spilled { rows, .. } => rows,
        }
    }
}

impl PartialEq for Features {
    fn eq(&self, other: &Features) -> bool {
        **self == **other
    }
}

impl PartialEq<Array2<f32>> for Features {
    fn eq(&self, other: &Array2<f32>) -> bool {
        **self == **other
    }
}

impl fmt::Debug for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_shared() {
            write!(f, "shared ")?;
        }
        if self.is_spilled() {
            write!(f, "spilled ")?;
        }
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_rows_are_read_in_place_and_copied_only_on_write() {
        let owner = Arc::new(Array2::from_shape_fn((3, 2), |(i, j)| (i * 2 + j) as f32));
        // SAFETY: `owner` holds the memory, and nothing writes it.
        let mut features = unsafe { Features::shared(owner.view(), owner.clone()) };
        assert!(features.is_shared());
        assert_eq!(features.as_ptr(), owner.as_ptr(), "no copy");
        assert_eq!(
            features.clone().as_ptr(),
            owner.as_ptr(),
            "clones share too"
        );
        assert_eq!(Arc::strong_count(&owner), 2);
        features.to_mut().unwrap()[[0, 0]] = 9.0;
        assert!(!features.is_shared());
        assert_eq!((features[[0, 0]], owner[[0, 0]]), (9.0, 0.0));
        assert_eq!(Arc::strong_count(&owner), 1, "the owner is let go");
    }

    #[test]
    fn spilled_rows_read_write_and_copy_as_owned_ones() {
        let expected = Array2::from_shape_fn((300, 7), |(i, j)| (i * 7 + j) as f32);
        let mut spilled = Features::spilled(300, 7, &mut |i, row| {
            row.copy_from_slice(&expected.row(i).to_vec());
            Ok(())
        })
        .unwrap();
        assert!(spilled.is_spilled() && !spilled.is_in_memory() && !spilled.is_shared());
        assert_eq!(spilled, expected);
        spilled.prefetch(10..200);
        let copy = spilled.clone();
        spilled.to_mut().unwrap()[[299, 6]] = -1.0;
        assert!(spilled.is_spilled(), "written in place, not copied");
        assert_eq!(
            (spilled[[299, 6]], copy[[299, 6]]),
            (-1.0, 2099.0),
            "a clone is a copy"
        );
        assert_eq!(spilled.clone().into_owned()[[299, 6]], -1.0);
        let empty = Features::spilled(0, 3, &mut |_, _| Ok(())).unwrap();
        assert_eq!(empty.dim(), (0, 3));
    }

    #[test]
    fn rows_not_in_standard_layout_are_copied() {
        let owner = Arc::new(Array2::from_shape_fn((3, 2), |(i, j)| (i * 2 + j) as f32));
        // SAFETY: as above.
        let features = unsafe { Features::shared(owner.t(), owner.clone()) };
        assert!(!features.is_shared() && features.is_standard_layout());
        assert_eq!(features, owner.t().to_owned());
    }
}
