//! Where a new table of rows lives: in memory when it fits the memory nabla lets its data take,
//! else in a temporary file mapped into memory, so that training sets larger than memory train.
//!
//! A mapped file's pages are the operating system's page cache: the rows in use stay in
//! memory, the others are written out to the file and read back when a batch gathers them
//! again. Under a memory limit (a cgroup's `memory.max`, or `memory.limit_in_bytes` in cgroup
//! v1) the kernel evicts such pages instead of stopping the process. Memory that fits stays
//! ordinary memory backed by 2 MB pages ([`super::huge_pages`]), where a gather of random rows
//! is fastest.
//!
//! ```text
//! budget = min(MemAvailable, the cgroup's limit − (its usage − its page cache)) / 2
//!          (NABLA_MEMORY_BUDGET overrides)
//! a table of b bytes stays in memory ⇔ b ≤ budget
//! ```
//!
//! The temporary file is made in [`std::env::temp_dir`] (`TMPDIR`), and removed from its
//! folder as soon as it is made: nothing is left behind, even when the process is killed.

use std::io::{BufWriter, Write};
use std::path::Path;

use memmap2::MmapMut;

use crate::error::{Error, Result};

/// The environment variable that sets the budget in bytes (a number, or one with a K, M or G
/// suffix), for tests and for machines whose limits nabla cannot read.
pub const BUDGET_VARIABLE: &str = "NABLA_MEMORY_BUDGET";

/// The bytes a new table of rows may take in memory (see the module docs).
pub fn memory_budget() -> u64 {
    if let Some(bytes) = std::env::var(BUDGET_VARIABLE)
        .ok()
        .and_then(|text| parse_bytes(&text))
    {
        return bytes;
    }
    let available = meminfo_available().unwrap_or(u64::MAX);
    let cgroup = cgroup_room().unwrap_or(u64::MAX);
    available.min(cgroup) / 2
}

/// Whether a table of `bytes` bytes stays in memory.
pub fn fits_in_memory(bytes: u64) -> bool {
    bytes <= memory_budget()
}

/// `bytes` for a reader: "1.1 GB", "512 MB", "40 KB" or "512 bytes" (powers of 1024).
pub fn size_text(bytes: u64) -> String {
    let units = [(30, "GB"), (20, "MB"), (10, "KB")];
    for (shift, unit) in units {
        if bytes >= 1 << shift {
            let value = bytes as f64 / (1u64 << shift) as f64;
            return if value < 10.0 {
                format!("{value:.1} {unit}")
            } else {
                format!("{value:.0} {unit}")
            };
        }
    }
    format!("{bytes} bytes")
}

/// "123", "64K", "512M", "2G" (powers of 1024).
fn parse_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, shift) = match text.chars().last()?.to_ascii_uppercase() {
        'K' => (&text[..text.len() - 1], 10),
        'M' => (&text[..text.len() - 1], 20),
        'G' => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// MemAvailable of /proc/meminfo, in bytes.
fn meminfo_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The limit of this process's memory cgroup minus its usage other than the page cache (which
/// the kernel gives back when memory is short), in bytes, when there is a limit.
fn cgroup_room() -> Option<u64> {
    let membership = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    cgroup_room_in(Path::new("/sys/fs/cgroup"), &membership)
}

/// [`cgroup_room`] given the cgroup file system's root and /proc/self/cgroup's text. In a
/// container the listed path may not exist under the root (the container sees its own cgroup
/// as the root), so the root's own files are read as well, and the smallest room wins.
fn cgroup_room_in(root: &Path, membership: &str) -> Option<u64> {
    let read = |path: &Path| std::fs::read_to_string(path).ok();
    let number = |text: Option<String>| text.and_then(|t| t.trim().parse::<u64>().ok());
    // The page cache in a memory.stat file: "total_cache" (v1, this cgroup and those below),
    // "file" (v2).
    let cache = |dir: &Path, key: &str| -> u64 {
        read(&dir.join("memory.stat"))
            .and_then(|text| {
                text.lines()
                    .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
            })
            .unwrap_or(0)
    };
    let mut rooms = Vec::new();
    for line in membership.lines() {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        let path = path.trim_start_matches('/');
        if controllers.is_empty() {
            // cgroup v2: memory.max ("max" when unlimited) and memory.current.
            for dir in [root.join(path), root.to_path_buf()] {
                if let (Some(limit), Some(usage)) = (
                    number(read(&dir.join("memory.max"))),
                    number(read(&dir.join("memory.current"))),
                ) {
                    rooms.push(limit.saturating_sub(usage.saturating_sub(cache(&dir, "file"))));
                }
            }
        } else if controllers.split(',').any(|c| c == "memory") {
            // cgroup v1: no limit reads as a huge number, which the minimum ignores.
            for dir in [root.join("memory").join(path), root.join("memory")] {
                if let (Some(limit), Some(usage)) = (
                    number(read(&dir.join("memory.limit_in_bytes"))),
                    number(read(&dir.join("memory.usage_in_bytes"))),
                ) {
                    let used = usage.saturating_sub(cache(&dir, "total_cache"));
                    rooms.push(limit.saturating_sub(used));
                }
            }
        }
    }
    rooms.into_iter().min()
}

/// A `rows` × `columns` table of f32 in a temporary file mapped read-write, row i written by
/// `fill(i, row)` (the row starts at 0; its first error ends the table, and is returned). The rows go through the file in one sequential pass,
/// then the file is mapped: writing through a fresh mapping would fault on, and zero, every
/// page first. The file is unlinked at once; the mapping keeps it until dropped.
pub(crate) fn spilled_rows(
    rows: usize,
    columns: usize,
    fill: &mut dyn FnMut(usize, &mut [f32]) -> Result<()>,
) -> Result<MmapMut> {
    let folder = std::env::temp_dir();
    let fail = |e: std::io::Error| {
        Error::io(
            &folder,
            std::io::Error::new(
                e.kind(),
                format!(
                    "a temporary file for {rows} × {columns} values that do not fit in memory: {e}"
                ),
            ),
        )
    };
    let file = tempfile::tempfile_in(&folder).map_err(fail)?;
    let mut writer = BufWriter::with_capacity(1 << 20, &file);
    let mut row = vec![0.0f32; columns];
    let mut bytes = Vec::with_capacity(columns * 4);
    for i in 0..rows {
        row.fill(0.0);
        fill(i, &mut row)?;
        bytes.clear();
        bytes.extend(row.iter().flat_map(|v| v.to_le_bytes()));
        writer.write_all(&bytes).map_err(fail)?;
    }
    writer.flush().map_err(fail)?;
    drop(writer);
    // An empty table still maps one value (a mapping cannot be empty).
    file.set_len(((rows * columns).max(1) * std::mem::size_of::<f32>()) as u64)
        .map_err(fail)?;
    // SAFETY: the file is ours alone (unlinked, never opened again), so nothing else changes
    // it while it is mapped.
    unsafe { MmapMut::map_mut(&file) }.map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_the_largest_unit() {
        assert_eq!(size_text(512), "512 bytes");
        assert_eq!(size_text(40 << 10), "40 KB");
        assert_eq!(size_text(1536 << 20), "1.5 GB");
        assert_eq!(size_text(512 << 20), "512 MB");
    }

    #[test]
    fn budgets_parse_with_suffixes() {
        assert_eq!(parse_bytes("123"), Some(123));
        assert_eq!(parse_bytes("64k"), Some(64 << 10));
        assert_eq!(parse_bytes(" 512M "), Some(512 << 20));
        assert_eq!(parse_bytes("2G"), Some(2 << 30));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(parse_bytes(""), None);
    }

    #[test]
    fn the_cgroup_limit_minus_usage_is_the_room() {
        let root = tempfile::tempdir().unwrap();
        let v1 = root.path().join("memory/job");
        std::fs::create_dir_all(&v1).unwrap();
        std::fs::write(v1.join("memory.limit_in_bytes"), "1073741824\n").unwrap();
        std::fs::write(v1.join("memory.usage_in_bytes"), "83741824\n").unwrap();
        // 10 MB of it page cache, which counts as room.
        std::fs::write(
            v1.join("memory.stat"),
            "cache 10000000\nrss 1\ntotal_cache 10000000\n",
        )
        .unwrap();
        let membership = "4:memory:/job\n3:cpuset:/\n";
        assert_eq!(cgroup_room_in(root.path(), membership), Some(1_000_000_000));

        let v2 = root.path().join("unified/job");
        std::fs::create_dir_all(&v2).unwrap();
        std::fs::write(v2.join("memory.max"), "max\n").unwrap();
        std::fs::write(v2.join("memory.current"), "5\n").unwrap();
        // "max" is no limit.
        assert_eq!(
            cgroup_room_in(&root.path().join("unified"), "0::/job\n"),
            None
        );
        std::fs::write(v2.join("memory.max"), "105\n").unwrap();
        assert_eq!(
            cgroup_room_in(&root.path().join("unified"), "0::/job\n"),
            Some(100)
        );
    }

    #[test]
    fn spilled_rows_are_the_ones_written() {
        let map = spilled_rows(250, 4, &mut |i, row| {
            row[i % 4] = i as f32;
            Ok(())
        })
        .unwrap();
        assert_eq!(map.len(), 4000);
        let read: Vec<f32> = map
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        for (i, row) in read.chunks(4).enumerate() {
            let mut expected = [0.0; 4];
            expected[i % 4] = i as f32;
            assert_eq!(row, expected);
        }
        assert_eq!(spilled_rows(0, 3, &mut |_, _| Ok(())).unwrap().len(), 4);
    }
}
