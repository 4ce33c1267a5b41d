//! [`Features`]: a data set's table of feature values, owned or read in place from memory that
//! something else keeps (a NumPy array handed over by the Python package), never copied for
//! reading.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use ndarray::{Array2, ArrayRef2, ArrayView2};

/// Rows × features values, f32: either an owned array, or rows read in place from memory an
/// `owner` keeps alive. Reading goes through [`Deref`] to ndarray's array methods
/// (`features.nrows()`, `features.row(i)`, `features.view()`); writing goes through
/// [`Features::to_mut`], which copies shared rows first (copy on write, as `Cow::to_mut`).
///
/// ```
/// use nabla::data::Features;
/// use nabla::ndarray::array;
///
/// let mut features = Features::from(array![[1.0f32, 2.0], [3.0, 4.0]]);
/// assert_eq!(features.row(1).to_vec(), vec![3.0, 4.0]);
/// features.to_mut()[[0, 0]] = 5.0;
/// assert_eq!(features, array![[5.0, 2.0], [3.0, 4.0]]);
/// ```
#[derive(Clone)]
pub struct Features(Storage);

#[derive(Clone)]
enum Storage {
    Owned(Array2<f32>),
    Shared {
        /// Points into memory `owner` keeps alive; the lifetime is the owner's, not 'static.
        rows: ArrayView2<'static, f32>,
        /// Held only to keep the memory of `rows` alive.
        _owner: Arc<dyn Send + Sync>,
    },
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

    /// Whether the rows are read in place from memory another owner keeps (not copied).
    pub fn is_shared(&self) -> bool {
        matches!(self.0, Storage::Shared { .. })
    }

    /// The values, writable: shared rows are copied into an owned array first.
    pub fn to_mut(&mut self) -> &mut Array2<f32> {
        if let Storage::Shared { rows, .. } = &self.0 {
            self.0 = Storage::Owned(rows.to_owned());
        }
        match &mut self.0 {
            Storage::Owned(array) => array,
            Storage::Shared { .. } => unreachable!("made owned above"),
        }
    }

    /// The values as an owned array (a copy when they are shared).
    pub fn into_owned(self) -> Array2<f32> {
        match self.0 {
            Storage::Owned(array) => array,
            Storage::Shared { rows, .. } => rows.to_owned(),
        }
    }
}

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
            Storage::Shared { rows, .. } => rows,
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
        features.to_mut()[[0, 0]] = 9.0;
        assert!(!features.is_shared());
        assert_eq!((features[[0, 0]], owner[[0, 0]]), (9.0, 0.0));
        assert_eq!(Arc::strong_count(&owner), 1, "the owner is let go");
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
