//! NumPy `.npy` arrays (format versions 1, 2 and 3).
//!
//! ```text
//! "\x93NUMPY", major, minor, header length (u16 LE for v1, u32 LE for v2/v3),
//! a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }
//! then Π shape elements of the described type
//! ```
//!
//! Supported element types: f4, f8, u1, u2, u4, u8, i1, i2, i4, i8 and b1, either byte order.
//! The body length is checked against the file's length before it is read.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn, ShapeBuilder};

use super::{Features, byte_size};
use crate::error::{Error, Result};

/// The header of a version 1.0 `.npy` file whose elements are `descr` (e.g. "<f4") laid out
/// in `shape` (a Python tuple: "(n, d)", "(n,)"), C order unless `fortran`: the magic, the
/// version, the dict's length and the dict, padded with spaces and a newline as NumPy pads it,
/// so that the data starts at a multiple of 64 bytes.
///
/// ```
/// let header = nabla::data::npy_header("<f4", false, "(2, 3)");
/// assert_eq!(header.len() % 64, 0);
/// assert!(header.starts_with(b"\x93NUMPY\x01\x00") && header.ends_with(b" \n"));
/// ```
pub fn npy_header(descr: &str, fortran: bool, shape: &str) -> Vec<u8> {
    let mut dict = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
        if fortran { "True" } else { "False" }
    );
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((dict.len() as u16).to_le_bytes());
    bytes.extend(dict.as_bytes());
    bytes
}

/// A `.npy` array as values of type `T` (f32 for features, f64 for labels) in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray<T = f32> {
    /// The shape, outermost first.
    pub shape: Vec<usize>,
    /// The type description from the header (e.g. "<f4").
    pub descr: String,
    /// The values, row-major, converted to `T`.
    pub values: Vec<T>,
}

/// An element type a `.npy` file's values are read as.
pub trait NpyValue: Copy {
    /// The value of one element of `kind` ('f', 'u', 'i', 'b') and byte `size`, given as its
    /// little-endian bytes in the first `size` of 8.
    fn decode(kind: char, size: usize, bytes: [u8; 8]) -> Self;
}

impl NpyValue for f64 {
    fn decode(kind: char, size: usize, b: [u8; 8]) -> f64 {
        match (kind, size) {
            ('f', 4) => f64::from(f32::from_le_bytes(b[..4].try_into().expect("4 bytes"))),
            ('f', _) => f64::from_le_bytes(b),
            ('u' | 'b', 1) => f64::from(b[0]),
            ('u', 2) => f64::from(u16::from_le_bytes([b[0], b[1]])),
            ('u', 4) => f64::from(u32::from_le_bytes(b[..4].try_into().expect("4 bytes"))),
            ('u', _) => u64::from_le_bytes(b) as f64,
            ('i', 1) => f64::from(b[0] as i8),
            ('i', 2) => f64::from(i16::from_le_bytes([b[0], b[1]])),
            ('i', 4) => f64::from(i32::from_le_bytes(b[..4].try_into().expect("4 bytes"))),
            _ => i64::from_le_bytes(b) as f64,
        }
    }
}

impl NpyValue for f32 {
    fn decode(kind: char, size: usize, b: [u8; 8]) -> f32 {
        match (kind, size) {
            ('f', 4) => f32::from_le_bytes(b[..4].try_into().expect("4 bytes")),
            _ => f64::decode(kind, size, b) as f32,
        }
    }
}

/// Reads a `.npy` file as f32 values.
pub fn read_npy(path: &Path) -> Result<NpyArray> {
    read_npy_as(path)
}

/// Reads a `.npy` file as values of type `T` (f64 keeps every f8 and integer label exact).
pub fn read_npy_as<T: NpyValue>(path: &Path) -> Result<NpyArray<T>> {
    let (mut file, header) = open(path)?;
    let bytes = header.body_bytes();
    super::check_data_size(path, header.shape.iter().product())?;
    let mut body = vec![0u8; bytes];
    file.read_exact(&mut body).map_err(|e| Error::io(path, e))?;
    let values: Vec<T> = header.decode(&body).collect();
    let values = if header.fortran && header.shape.len() > 1 {
        let array =
            ArrayD::from_shape_vec(IxDyn(&header.shape).f(), values).expect("length checked");
        array.as_standard_layout().iter().copied().collect()
    } else {
        values
    };
    Ok(NpyArray {
        shape: header.shape,
        descr: header.descr,
        values,
    })
}

/// A `.npy` file's features as rows × (the product of the other dimensions): its shape, its
/// type description and the table. The file is mapped into memory, never read whole: little-
/// endian f4 rows that do not fit the memory budget ([`super::spill`]) are read in place from
/// the mapping; anything else is converted row by row into a table in memory, or in a temporary
/// file when it does not fit ([`Features::build`]).
///
/// # Errors
/// What [`read_npy`] refuses, a 0-dimensional array, or no room for the table.
pub fn read_npy_features(path: &Path) -> Result<(Vec<usize>, String, Features)> {
    let (file, header) = open(path)?;
    let Some((&rows, rest)) = header.shape.split_first() else {
        return Err(Error::data(
            path,
            None,
            "a 0-dimensional array holds no examples",
        ));
    };
    let width = rest
        .iter()
        .product::<usize>()
        .max(usize::from(rest.is_empty()));
    if header.fortran && header.shape.len() > 1 {
        // Column-major rows are scattered over the file: read and reorder it whole.
        let array = read_npy_as::<f32>(path)?;
        let table = ndarray::Array2::from_shape_vec((rows, width), array.values)
            .expect("length = product of the shape");
        return Ok((array.shape, array.descr, Features::from(table)));
    }
    // SAFETY: the file is mapped read-only; nabla never writes it. (Another program truncating
    // it meanwhile faults the process, as for any reader of a mapped file: the mapping is
    // named, so the `nabla` command says which file changed and exits with status 2.)
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
    let map = super::MappedFile::new(path, map);
    let start = header.body_start as usize;
    let body = &map[start..start + header.body_bytes()];
    let in_place = header.little
        && header.kind == 'f'
        && header.size == 4
        && start.is_multiple_of(std::mem::align_of::<f32>())
        && !super::spill::fits_in_memory(body.len() as u64);
    if in_place {
        // SAFETY: the body lies inside the mapping, is aligned for f32 (a page-aligned mapping,
        // a multiple-of-4 offset) and holds rows × width little-endian f32 values on this
        // little-endian machine, read as they are; the mapping moves into the table with it.
        let features = unsafe {
            let rows_view = ndarray::ArrayView2::from_shape_ptr(
                (rows, width),
                map.as_ptr().add(start).cast::<f32>(),
            );
            Features::mapped(rows_view, Arc::new(map))
        };
        return Ok((header.shape, header.descr, features));
    }
    let row_bytes = width * header.size;
    let features = Features::build(rows, width, |i, row| {
        let bytes = &body[i * row_bytes..(i + 1) * row_bytes];
        for (out, value) in row.iter_mut().zip(header.decode::<f32>(bytes)) {
            *out = value;
        }
        Ok(())
    })?;
    Ok((header.shape, header.descr, features))
}

/// What a `.npy` header says about the body that follows it.
struct Header {
    shape: Vec<usize>,
    descr: String,
    fortran: bool,
    little: bool,
    kind: char,
    size: usize,
    /// The offset of the body in the file.
    body_start: u64,
}

impl Header {
    /// The body's length in bytes (checked against the file when the header was read).
    fn body_bytes(&self) -> usize {
        byte_size(&self.shape, self.size).expect("checked when the header was read")
    }

    /// The values of `body` (whole elements) as `T`, in file order.
    fn decode<'b, T: NpyValue>(&self, body: &'b [u8]) -> impl Iterator<Item = T> + 'b {
        let (kind, size, little) = (self.kind, self.size, self.little);
        body.chunks_exact(size).map(move |chunk| {
            let mut b = [0u8; 8];
            b[..size].copy_from_slice(chunk);
            if !little {
                b[..size].reverse();
            }
            T::decode(kind, size, b)
        })
    }
}

/// Opens a `.npy` file and reads its header, checking that the body has the declared length;
/// the file is left at the body's start.
fn open(path: &Path) -> Result<(File, Header)> {
    // Before opening: opening a FIFO for reading waits for a writer.
    let metadata = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !metadata.is_file() {
        return Err(Error::data(
            path,
            None,
            "not a regular file (a pipe or a device): a .npy file is read by its declared size",
        ));
    }
    let length = metadata.len();
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let fail =
        |offset: u64, message: String| Error::data(path, Some(format!("byte {offset}")), message);
    let mut preamble = [0u8; 8];
    file.read_exact(&mut preamble).map_err(|_| {
        fail(
            0,
            "the file is shorter than the 8-byte .npy preamble".into(),
        )
    })?;
    if &preamble[..6] != b"\x93NUMPY" {
        return Err(fail(
            0,
            "wrong magic: a .npy file starts with \\x93NUMPY".into(),
        ));
    }
    let (header_length, prefix) = match preamble[6] {
        1 => {
            let mut size = [0u8; 2];
            file.read_exact(&mut size)
                .map_err(|_| fail(8, "truncated header length".into()))?;
            (u64::from(u16::from_le_bytes(size)), 10u64)
        }
        2 | 3 => {
            let mut size = [0u8; 4];
            file.read_exact(&mut size)
                .map_err(|_| fail(8, "truncated header length".into()))?;
            (u64::from(u32::from_le_bytes(size)), 12u64)
        }
        v => {
            return Err(fail(
                6,
                format!("unsupported .npy format version {v} (expected 1, 2 or 3)"),
            ));
        }
    };
    if prefix + header_length > length {
        return Err(fail(
            prefix,
            format!(
                "the header claims {header_length} bytes but the file has only {} after the preamble",
                length - prefix
            ),
        ));
    }
    let mut header = vec![0u8; header_length as usize];
    file.read_exact(&mut header)
        .map_err(|e| Error::io(path, e))?;
    let header =
        String::from_utf8(header).map_err(|_| fail(prefix, "the header is not text".into()))?;
    let field = |key: &str| -> Result<&str> {
        dict_value(&header, key).ok_or_else(|| {
            fail(
                prefix,
                format!("the header has no '{key}' entry: {}", header.trim()),
            )
        })
    };
    let descr = field("descr")?
        .trim_matches(|c| c == '\'' || c == '"')
        .to_string();
    let fortran = match field("fortran_order")? {
        "True" => true,
        "False" => false,
        other => {
            return Err(fail(
                prefix,
                format!("fortran_order is '{other}', expected True or False"),
            ));
        }
    };
    let shape_text = field("shape")?;
    let shape = shape_text
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| {
            fail(
                prefix,
                format!("shape {shape_text} is not a tuple of whole numbers"),
            )
        })?;
    let (little, kind, size) = parse_descr(&descr).ok_or_else(|| {
        fail(
            prefix,
            format!(
                "element type '{descr}' is not supported (expected f4, f8, u1…u8, i1…i8 or b1)"
            ),
        )
    })?;
    let bytes = byte_size(&shape, size)
        .ok_or_else(|| fail(prefix, format!("shape {shape:?} overflows")))?;
    let body_start = prefix + header_length;
    let present = length - body_start;
    if present != bytes as u64 {
        let what = if present < bytes as u64 {
            "truncated"
        } else {
            "too long"
        };
        return Err(fail(
            body_start,
            format!(
                "{what}: shape {shape:?} of {descr} needs {bytes} bytes but {present} follow the header"
            ),
        ));
    }
    Ok((
        file,
        Header {
            shape,
            descr,
            fortran,
            little,
            kind,
            size,
            body_start,
        },
    ))
}

/// (little-endian, kind, size) of a descr such as "<f4", "|u1", ">i8".
fn parse_descr(descr: &str) -> Option<(bool, char, usize)> {
    // Character by character: a header may hold any text, and slicing bytes would split a
    // multi-byte character.
    let mut chars = descr.chars();
    let first = chars.next()?;
    let (order, kind) = match first {
        '<' | '>' | '|' | '=' => (first, chars.next()?),
        kind => ('=', kind),
    };
    let size: usize = chars.as_str().parse().ok()?;
    let supported = matches!(
        (kind, size),
        ('f', 4 | 8) | ('u' | 'i', 1 | 2 | 4 | 8) | ('b', 1)
    );
    supported.then_some((order != '>', kind, size))
}

/// The text of `'key': value` in a Python dict literal (value up to the next top-level comma).
fn dict_value<'h>(header: &'h str, key: &str) -> Option<&'h str> {
    let start = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?;
    let after = &header[start + key.len() + 2..];
    let after = after.trim_start().strip_prefix(':')?.trim_start();
    let mut depth = 0;
    for (i, c) in after.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(after[..i].trim()),
            _ => {}
        }
        if depth == 0 && c == ')' {
            return Some(after[..=i].trim());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, fortran: bool, shape: &str, body: &[u8]) -> Vec<u8> {
        let mut bytes = npy_header(descr, fortran, shape);
        bytes.extend(body);
        bytes
    }

    fn read(bytes: &[u8]) -> Result<NpyArray> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npy");
        std::fs::write(&path, bytes).unwrap();
        read_npy(&path)
    }

    #[test]
    fn reads_types_byte_orders_and_fortran_order() {
        let f4: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = read(&npy("<f4", false, "(2, 3)", &f4)).unwrap();
        assert_eq!(
            (a.shape.clone(), a.values.clone()),
            (vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        );
        let f = read(&npy("<f4", true, "(2, 3)", &f4)).unwrap();
        assert_eq!(f.values, vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
        let be: Vec<u8> = [-3i64, 9].iter().flat_map(|v| v.to_be_bytes()).collect();
        assert_eq!(
            read(&npy(">i8", false, "(2,)", &be)).unwrap().values,
            vec![-3.0, 9.0]
        );
        let f8: Vec<u8> = [0.5f64].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(
            read(&npy("<f8", false, "(1,)", &f8)).unwrap().values,
            vec![0.5]
        );
        assert_eq!(
            read(&npy("|u1", false, "(3,)", &[0, 7, 255]))
                .unwrap()
                .values,
            vec![0.0, 7.0, 255.0]
        );
    }

    #[test]
    fn malformed_files_are_refused_with_the_reason() {
        let f4: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"\x93NUMPX\x01\x00\x00\x00".to_vec(), "wrong magic"),
            (
                npy("<c8", false, "(1,)", &[0; 8]),
                "element type '<c8' is not supported",
            ),
            (
                npy("<f4", false, "(3,)", &f4),
                "truncated: shape [3] of <f4 needs 12 bytes but 8 follow",
            ),
            (npy("<f4", false, "(1,)", &f4), "too long"),
            (npy("<f4", false, "(a, b)", &f4), "is not a tuple"),
            (
                b"\x93NUMPY\x01\x00\xff\xff{".to_vec(),
                "the header claims 65535 bytes",
            ),
            (
                npy("<f4", false, "(4294967296, 4294967296, 4294967296)", &f4),
                "overflows",
            ),
            (b"\x93NU".to_vec(), "shorter than the 8-byte"),
        ];
        for (bytes, expected) in cases {
            let error = read(&bytes).unwrap_err().to_string();
            assert!(
                error.contains(expected) && error.contains("a.npy"),
                "{error}"
            );
        }
    }
}
