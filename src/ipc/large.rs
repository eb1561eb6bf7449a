//! The large buffers of a call (its body as read, its reply, its bytes),
//! backed by huge pages where the kernel has them.
//!
//! A new 10 MiB buffer is ~2,560 page faults as it is first written, 10–20
//! ms of the thread that writes it on the bench machine, and each large
//! call makes several: the fixed mmap threshold
//! (`window::linux::return_large_buffers_to_the_system`) maps every large
//! buffer afresh, and returns it when freed, so none is ever warm. Advised
//! with `MADV_HUGEPAGE`, the kernel backs each 2 MiB-aligned stretch of the
//! buffer with one huge page when it has one free (`docs/bench.md`).
//!
//! Invariants: this is advice only. With transparent huge pages off
//! (`never`), with none free, or on another platform, a buffer is an
//! ordinary one, and nothing else changes. Only pages inside the buffer's
//! own allocation are advised, and only buffers of at least [`HUGE_PAGE`]
//! twice, so a huge page never holds more than the buffer's own bytes
//! beyond what its writer fills; memory use is unchanged.

/// The size of a huge page (x86-64 and aarch64 with 4 KiB pages).
pub(crate) const HUGE_PAGE: usize = 2 << 20;

/// An empty buffer of capacity `n`, advised when it is large.
pub(crate) fn with_capacity(n: usize) -> Vec<u8> {
    let v = Vec::with_capacity(n);
    advise(&v);
    v
}

/// `n` zero bytes, advised before any is touched when large (the zeroes
/// of a fresh mapping are the kernel's, so a huge page comes zeroed too).
pub(crate) fn zeroed(n: usize) -> Vec<u8> {
    let v = vec![0u8; n];
    advise(&v);
    v
}

/// A copy of `b`, advised before it is written when large.
pub(crate) fn copy(b: &[u8]) -> Vec<u8> {
    let mut v = with_capacity(b.len());
    v.extend_from_slice(b);
    v
}

/// A buffer for output of unknown length (a serialised reply): grows by
/// doubling, like a `Vec`, and advises its allocation each time it grows
/// past [`HUGE_PAGE`] twice.
pub(crate) struct Growing(pub(crate) Vec<u8>);

impl std::io::Write for Growing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let v = &mut self.0;
        if v.len() + buf.len() > v.capacity() {
            v.reserve(buf.len());
            advise(v);
        }
        v.extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Advises the kernel to back `v`'s allocation with huge pages, when it
/// spans at least two: the whole pages inside it, rounded inward.
#[cfg(target_os = "linux")]
#[allow(
    unsafe_code,
    reason = "one madvise of the buffer's own pages; its SAFETY comment says why it is sound"
)]
fn advise(v: &Vec<u8>) {
    const PAGE: usize = 4096;
    if v.capacity() < 2 * HUGE_PAGE {
        return;
    }
    let start = v.as_ptr() as usize;
    let first = start.next_multiple_of(PAGE);
    let end = (start + v.capacity()) & !(PAGE - 1);
    // SAFETY: [first, end) is whole pages inside the allocation `v` owns
    // (its capacity, rounded inward). MADV_HUGEPAGE changes how the kernel
    // backs those pages when they are next faulted in, never their
    // contents or the mapping; where huge pages are unavailable it fails
    // (EINVAL) and nothing changes.
    let advised =
        unsafe { libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE) };
    if advised != 0 {
        tracing::trace!(
            error = %std::io::Error::last_os_error(),
            "a large buffer stays on ordinary pages"
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_: &Vec<u8>) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// The advice changes no byte: each form holds exactly what was put
    /// in, small and large, and a growing buffer keeps its earlier output.
    #[test]
    fn large_buffers_hold_what_is_written() {
        for n in [0, 10, 3 * HUGE_PAGE + 17] {
            let data: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            assert_eq!(copy(&data), data);
            assert!(zeroed(n).iter().all(|&b| b == 0));
            assert!(with_capacity(n).capacity() >= n);
            let mut g = Growing(Vec::new());
            for piece in data.chunks(100_000) {
                g.write_all(piece).unwrap();
            }
            assert_eq!(g.0, data);
        }
    }

    /// The flags of the mapping that holds `at`, from `/proc/self/smaps`.
    #[cfg(target_os = "linux")]
    fn flags_at(at: usize) -> Vec<String> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            let range = line.split_once(' ').and_then(|(r, _)| r.split_once('-'));
            if let Some((lo, hi)) = range {
                if let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
                {
                    inside = lo <= at && at < hi;
                    continue;
                }
            }
            if let Some(f) = line.strip_prefix("VmFlags:").filter(|_| inside) {
                return f.split_whitespace().map(str::to_owned).collect();
            }
        }
        panic!("no mapping holds {at:#x}");
    }

    /// Where the kernel has transparent huge pages, a large buffer's pages
    /// are advised: its mapping says `hg` in `/proc/self/smaps`.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_large_buffer_is_advised_where_the_kernel_allows() {
        let thp = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
            .unwrap_or_default();
        if !thp.contains("[madvise]") && !thp.contains("[always]") {
            return;
        }
        let v = vec![0u8; 4 * HUGE_PAGE];
        let at = v.as_ptr() as usize + HUGE_PAGE;
        // Memory another test advised and freed may be handed out again.
        if flags_at(at).iter().any(|f| f == "hg") {
            return;
        }
        advise(&v);
        let flags = flags_at(at);
        assert!(flags.iter().any(|f| f == "hg"), "{flags:?}");
    }
}
