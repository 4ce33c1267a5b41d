//! IDX files (the MNIST format), plain or gzip-compressed.
//!
//! ```text
//! bytes 0–1   0x00 0x00
//! byte  2     element type: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64
//! byte  3     rank r (number of dimensions)
//! then        r dimension sizes, u32 big-endian
//! then        the elements, big-endian, row-major: exactly Π dims of them
//! ```
//!
//! The declared size is checked against the bytes actually present before anything of that
//! size is allocated; a gzip stream grows its buffer only as data arrives.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::{Features, byte_size};
use crate::error::{Error, Result};

/// The elements of an IDX file, in the file's own type.
#[derive(Clone, Debug, PartialEq)]
pub enum IdxData {
    /// 0x08.
    U8(Vec<u8>),
    /// 0x09.
    I8(Vec<i8>),
    /// 0x0B.
    I16(Vec<i16>),
    /// 0x0C.
    I32(Vec<i32>),
    /// 0x0D.
    F32(Vec<f32>),
    /// 0x0E.
    F64(Vec<f64>),
}

/// An IDX array: its dimensions and elements.
#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    /// The dimension sizes, outermost first.
    pub dims: Vec<usize>,
    /// The elements, row-major.
    pub data: IdxData,
}

impl IdxArray {
    /// The elements as f32.
    pub fn to_f32(&self) -> Vec<f32> {
        match &self.data {
            // Images become the training set, whose random rows each batch gathers.
            IdxData::U8(v) => {
                let mut values = super::huge_pages::vec_with_capacity(v.len());
                values.extend(v.iter().map(|&x| f32::from(x)));
                values
            }
            IdxData::I8(v) => v.iter().map(|&x| f32::from(x)).collect(),
            IdxData::I16(v) => v.iter().map(|&x| f32::from(x)).collect(),
            IdxData::I32(v) => v.iter().map(|&x| x as f32).collect(),
            IdxData::F32(v) => v.clone(),
            IdxData::F64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }

    /// The elements as f64 (exact for every IDX type).
    pub fn to_f64(&self) -> Vec<f64> {
        match &self.data {
            IdxData::U8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            IdxData::I8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            IdxData::I16(v) => v.iter().map(|&x| f64::from(x)).collect(),
            IdxData::I32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            IdxData::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            IdxData::F64(v) => v.clone(),
        }
    }
}

/// Reads an IDX file, decompressing it when it starts with the gzip magic bytes.
pub fn read_idx(path: &Path) -> Result<IdxArray> {
    let (reader, file_length) = open(path)?;
    parse(reader, path, file_length)
}

/// An IDX file's features as rows × (the product of the other dimensions): its dimensions and
/// the table. A table that fits the memory budget ([`super::spill`]) is read as [`read_idx`]
/// reads it; a larger one streams, row by row, into a temporary file ([`Features::build`]), so
/// the file is never held whole in memory.
///
/// # Errors
/// What [`read_idx`] refuses, or no room for the table.
pub fn read_idx_features(path: &Path) -> Result<(Vec<usize>, Features)> {
    let (mut reader, file_length) = open(path)?;
    let header = parse_header(&mut reader, path, file_length)?;
    let rows = header.dims[0];
    let width = header.dims[1..].iter().product::<usize>();
    if super::spill::fits_in_memory((rows * width * std::mem::size_of::<f32>()) as u64) {
        let array = parse_body(reader, path, file_length, header)?;
        let values = array.to_f32();
        let table = ndarray::Array2::from_shape_vec((rows, width), values)
            .expect("length = product of the dimensions");
        return Ok((array.dims, Features::from(table)));
    }
    let read_error = read_error(path, file_length);
    let size = header.element_size;
    let mut bytes = vec![0u8; width * size];
    let features = Features::build(rows, width, |i, row| {
        if !read_fully(&mut reader, &mut bytes).map_err(&read_error)? {
            return Err(truncated(path, &header, i * width * size));
        }
        for (out, chunk) in row.iter_mut().zip(bytes.chunks_exact(size)) {
            *out = decode(header.code, chunk);
        }
        Ok(())
    })?;
    if read_fully(&mut reader, &mut [0u8]).map_err(&read_error)? {
        return Err(Error::data(
            path,
            Some(format!("byte {}", header.length)),
            format!(
                "too long: the header declares {} but more data follows",
                header.declared
            ),
        ));
    }
    Ok((header.dims, features))
}

/// The file at `path` as a stream (decompressed when it starts with the gzip magic bytes), and
/// its length when the stream is the file itself.
fn open(path: &Path) -> Result<(Box<dyn Read>, Option<u64>)> {
    // Before opening: opening a FIFO for reading waits for a writer.
    let metadata = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !metadata.is_file() {
        return Err(Error::data(
            path,
            None,
            "not a regular file (a pipe or a device): an IDX file is read by its declared size",
        ));
    }
    let file_length = metadata.len();
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(file);
    let mut magic = [0u8; 2];
    let gzip = {
        let buffer = std::io::BufRead::fill_buf(&mut reader).map_err(|e| Error::io(path, e))?;
        if buffer.len() >= 2 {
            magic.copy_from_slice(&buffer[..2]);
        }
        magic == [0x1f, 0x8b]
    };
    Ok(if gzip {
        (Box::new(MultiGzDecoder::new(reader)), None)
    } else {
        (Box::new(reader), Some(file_length))
    })
}

/// What an IDX header declares.
struct Header {
    dims: Vec<usize>,
    /// The element type's code (0x08 …).
    code: u8,
    element_size: usize,
    /// The header's length in bytes.
    length: u64,
    /// The body's length in bytes.
    bytes: usize,
    /// "dims of type (bytes)", for messages.
    declared: String,
}

/// A read error of the IDX stream of `path` as nabla reports it.
fn read_error(path: &Path, file_length: Option<u64>) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput => {
            Error::data(path, None, format!("the gzip stream is corrupt: {e}"))
        }
        std::io::ErrorKind::UnexpectedEof if file_length.is_none() => Error::data(
            path,
            None,
            format!("the gzip stream is truncated ({e}): the file was cut short"),
        ),
        _ => Error::io(path, e),
    }
}

/// The error of a body that ends after `present` bytes.
fn truncated(path: &Path, header: &Header, present: usize) -> Error {
    Error::data(
        path,
        Some(format!("byte {}", header.length)),
        format!(
            "truncated: the header declares {} but the data has {present} bytes",
            header.declared
        ),
    )
}

/// One big-endian element of type `code` as f32.
fn decode(code: u8, bytes: &[u8]) -> f32 {
    match code {
        0x08 => f32::from(bytes[0]),
        0x09 => f32::from(bytes[0] as i8),
        0x0B => f32::from(i16::from_be_bytes([bytes[0], bytes[1]])),
        0x0C => i32::from_be_bytes(bytes.try_into().expect("4 bytes")) as f32,
        0x0D => f32::from_be_bytes(bytes.try_into().expect("4 bytes")),
        _ => f64::from_be_bytes(bytes.try_into().expect("8 bytes")) as f32,
    }
}

fn parse<R: Read>(mut reader: R, path: &Path, file_length: Option<u64>) -> Result<IdxArray> {
    let header = parse_header(&mut reader, path, file_length)?;
    parse_body(reader, path, file_length, header)
}

/// Reads and checks the header, up to the body (and, for a file read as it is, the body's
/// length against the file's).
fn parse_header<R: Read>(reader: &mut R, path: &Path, file_length: Option<u64>) -> Result<Header> {
    let fail =
        |offset: u64, message: String| Error::data(path, Some(format!("byte {offset}")), message);
    let read_error = read_error(path, file_length);
    let mut header = [0u8; 4];
    read_fully(reader, &mut header)
        .map_err(&read_error)?
        .then_some(())
        .ok_or_else(|| {
            fail(
                0,
                "the file is shorter than the 4-byte IDX magic number".into(),
            )
        })?;
    if header[0] != 0 || header[1] != 0 {
        return Err(fail(
            0,
            format!(
                "wrong magic number 0x{:02x}{:02x}{:02x}{:02x}: an IDX file starts with two zero bytes",
                header[0], header[1], header[2], header[3]
            ),
        ));
    }
    let (type_name, element_size) = match header[2] {
        0x08 => ("u8", 1),
        0x09 => ("i8", 1),
        0x0B => ("i16", 2),
        0x0C => ("i32", 4),
        0x0D => ("f32", 4),
        0x0E => ("f64", 8),
        other => {
            return Err(fail(
                2,
                format!(
                    "unknown element type 0x{other:02x}: expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E"
                ),
            ));
        }
    };
    let rank = usize::from(header[3]);
    if rank == 0 {
        return Err(fail(
            3,
            "rank 0: an IDX array needs at least one dimension".into(),
        ));
    }
    let mut dims = Vec::with_capacity(rank);
    for d in 0..rank {
        let mut size = [0u8; 4];
        if !read_fully(reader, &mut size).map_err(&read_error)? {
            return Err(fail(
                4 + 4 * d as u64,
                format!(
                    "truncated header: rank {rank} needs {rank} dimension sizes, the file ends at dimension {d}"
                ),
            ));
        }
        dims.push(u32::from_be_bytes(size) as usize);
    }
    let header_length = 4 + 4 * rank as u64;
    let bytes = byte_size(&dims, element_size)
        .ok_or_else(|| fail(4, format!("dimensions {dims:?} overflow")))?;
    super::check_data_size(path, dims.iter().product())?;
    let declared = format!("{} of {type_name} ({bytes} bytes)", dims_text(&dims));
    if let Some(length) = file_length {
        let present = length.saturating_sub(header_length);
        if present != bytes as u64 {
            let what = if present < bytes as u64 {
                "truncated"
            } else {
                "too long"
            };
            return Err(fail(
                header_length,
                format!("{what}: the header declares {declared} but {present} bytes follow it"),
            ));
        }
    }
    Ok(Header {
        dims,
        code: header[2],
        element_size,
        length: header_length,
        bytes,
        declared,
    })
}

/// Reads the body `header` declares.
fn parse_body<R: Read>(
    reader: R,
    path: &Path,
    file_length: Option<u64>,
    header: Header,
) -> Result<IdxArray> {
    let fail =
        |offset: u64, message: String| Error::data(path, Some(format!("byte {offset}")), message);
    let read_error = read_error(path, file_length);
    let Header {
        dims,
        code,
        length: header_length,
        bytes,
        declared,
        ..
    } = header;
    // Grows with the data actually read, never with the declared size alone.
    let mut body = Vec::new();
    reader
        .take(bytes as u64 + 1)
        .read_to_end(&mut body)
        .map_err(read_error)?;
    if body.len() != bytes {
        let what = if body.len() < bytes {
            "truncated"
        } else {
            "too long"
        };
        return Err(fail(
            header_length,
            format!(
                "{what}: the header declares {declared} but the data has {} bytes",
                body.len()
            ),
        ));
    }
    let data = match code {
        0x08 => IdxData::U8(body),
        0x09 => IdxData::I8(body.into_iter().map(|b| b as i8).collect()),
        0x0B => IdxData::I16(
            body.chunks_exact(2)
                .map(|c| i16::from_be_bytes([c[0], c[1]]))
                .collect(),
        ),
        0x0C => IdxData::I32(
            body.chunks_exact(4)
                .map(|c| i32::from_be_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        0x0D => IdxData::F32(
            body.chunks_exact(4)
                .map(|c| f32::from_be_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        _ => IdxData::F64(
            body.chunks_exact(8)
                .map(|c| f64::from_be_bytes(c.try_into().unwrap()))
                .collect(),
        ),
    };
    Ok(IdxArray { dims, data })
}

fn dims_text(dims: &[usize]) -> String {
    dims.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(" × ")
}

/// Fills `buffer`; Ok(false) when the stream ends first.
fn read_fully<R: Read>(reader: &mut R, buffer: &mut [u8]) -> std::io::Result<bool> {
    match reader.read_exact(buffer) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn idx_bytes(type_code: u8, dims: &[u32], body: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0, 0, type_code, dims.len() as u8];
        for d in dims {
            bytes.extend(d.to_be_bytes());
        }
        bytes.extend(body);
        bytes
    }

    fn write(dir: &Path, name: &str, bytes: &[u8], gzip: bool) -> std::path::PathBuf {
        let path = dir.join(name);
        let mut file = File::create(&path).unwrap();
        if gzip {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(bytes).unwrap();
            file.write_all(&encoder.finish().unwrap()).unwrap();
        } else {
            file.write_all(bytes).unwrap();
        }
        path
    }

    #[test]
    fn reads_every_element_type_plain_and_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let i16s: Vec<u8> = [-2i16, 300].iter().flat_map(|v| v.to_be_bytes()).collect();
        let f64s: Vec<u8> = [1.5f64, -0.25]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        let i32s: Vec<u8> = [7i32, -9].iter().flat_map(|v| v.to_be_bytes()).collect();
        let f32s: Vec<u8> = [0.5f32, 2.0].iter().flat_map(|v| v.to_be_bytes()).collect();
        let cases: [(u8, Vec<u8>, Vec<f64>); 6] = [
            (0x08, vec![3, 250], vec![3.0, 250.0]),
            (0x09, vec![0xff, 5], vec![-1.0, 5.0]),
            (0x0B, i16s, vec![-2.0, 300.0]),
            (0x0C, i32s, vec![7.0, -9.0]),
            (0x0D, f32s, vec![0.5, 2.0]),
            (0x0E, f64s, vec![1.5, -0.25]),
        ];
        for (code, body, expected) in cases {
            for gzip in [false, true] {
                let path = write(dir.path(), "a.idx", &idx_bytes(code, &[2], &body), gzip);
                let array = read_idx(&path).unwrap();
                assert_eq!(array.dims, vec![2]);
                assert_eq!(array.to_f64(), expected, "type 0x{code:02x} gzip {gzip}");
            }
        }
    }

    #[test]
    fn malformed_files_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let good = idx_bytes(0x08, &[2, 3], &[1, 2, 3, 4, 5, 6]);
        let mut bad_magic = good.clone();
        bad_magic[0] = 8;
        let mut bad_type = good.clone();
        bad_type[2] = 0x07;
        let cases: Vec<(&str, Vec<u8>, bool, &str)> = vec![
            ("magic", bad_magic, false, "wrong magic number"),
            ("type", bad_type, false, "unknown element type 0x07"),
            (
                "truncated",
                good[..good.len() - 1].to_vec(),
                false,
                "truncated: the header declares 2 × 3 of u8 (6 bytes) but 5 bytes follow",
            ),
            ("long", [good.clone(), vec![0]].concat(), false, "too long"),
            (
                "gz-truncated",
                good[..good.len() - 2].to_vec(),
                true,
                "truncated",
            ),
            ("dims", good[..9].to_vec(), false, "truncated header"),
            (
                "overflow",
                idx_bytes(0x0E, &[u32::MAX, u32::MAX, 1000], &[1]),
                true,
                "overflow",
            ),
            // 4 TiB declared, 1 byte present: refused without allocating the declared size.
            (
                "huge",
                idx_bytes(0x08, &[1 << 20, 1 << 20, 4], &[1]),
                true,
                "larger than the 268435456 values",
            ),
            // Within the bound but truncated: refused when the data runs out.
            (
                "short",
                idx_bytes(0x08, &[1 << 10, 1 << 10], &[1]),
                true,
                "truncated",
            ),
            ("tiny", vec![0], false, "shorter than the 4-byte"),
        ];
        for (name, bytes, gzip, expected) in cases {
            let path = write(dir.path(), name, &bytes, gzip);
            let error = read_idx(&path).unwrap_err().to_string();
            assert!(
                error.contains(expected) && error.contains(name),
                "{name}: {error}"
            );
        }
    }

    #[test]
    fn corrupt_gzip_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "c.gz", &idx_bytes(0x08, &[64], &[7; 64]), true);
        let mut bytes = std::fs::read(&path).unwrap();
        let n = bytes.len();
        bytes[n - 6] ^= 0xff; // inside the CRC-32 trailer
        std::fs::write(&path, &bytes).unwrap();
        let error = read_idx(&path).unwrap_err().to_string();
        assert!(error.contains("corrupt"), "{error}");
    }
}
