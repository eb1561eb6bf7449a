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
//! ordinary one, and nothing else changes. Only buffers of at least
//! [`HUGE_PAGE`] twice are advised, and only the pages their allocation
//! touches, rounded outward: a buffer that large is a mapping of its own
//! (the allocator's header, the buffer, the rest of its last page), so a
//! huge page never holds more than the buffer's own bytes beyond what its
//! writer fills, and memory use is unchanged. Rounded inward, the advice
//! would split that mapping in two or three (the kernel keeps one
//! mapping per set of flags), and `realloc` could no longer grow it with
//! `mremap`: it would copy the whole buffer instead, as it did for a
//! request body read in doublings here (~3 ms per 10 MiB).

/// The size of a huge page (x86-64 and aarch64 with 4 KiB pages).
pub(crate) const HUGE_PAGE: usize = 2 << 20;

/// An empty buffer of capacity `n`, advised when it is large.
pub(crate) fn with_capacity(n: usize) -> Vec<u8> {
    let v = Vec::with_capacity(n);
    advise(&v);
    v
}

/// A copy of `b`, advised before it is written when large.
pub(crate) fn copy(b: &[u8]) -> Vec<u8> {
    let mut v = with_capacity(b.len());
    v.extend_from_slice(b);
    v
}

/// A buffer wiped when dropped: its bytes and its spare capacity, each as
/// one fill the compiler may not remove (`zeroize` on a slice), not one
/// volatile write per byte as `Zeroizing<Vec<u8>>` does (~1.5 ms per 10
/// MiB call on the bench machine).
pub(crate) struct Wiped(pub(crate) Vec<u8>);

impl std::ops::Deref for Wiped {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl std::ops::DerefMut for Wiped {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl Wiped {
    fn wipe(&mut self) {
        use zeroize::Zeroize;
        self.0.as_mut_slice().zeroize();
        self.0.spare_capacity_mut().zeroize();
    }
}

impl Drop for Wiped {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// Makes room for exactly `additional` more bytes in `v`, advising its
/// allocation when it is large. Growing a buffer that the allocator mapped
/// on its own (every large one: `window::linux::return_large_buffers_to_the_system`)
/// moves its pages with `mremap` rather than copying its bytes.
pub(crate) fn reserve_exact(v: &mut Vec<u8>, additional: usize) {
    v.reserve_exact(additional);
    advise(v);
}

/// Puts `head` in front of `v`'s bytes in `v`'s own buffer, with room for
/// `tail` more bytes behind them: grown (by `mremap` when large, see
/// [`reserve_exact`]), the bytes moved up, `head` written in front. Framing
/// a large reply into a new buffer instead would fault that buffer in for
/// the copy and raise the peak memory by as much.
pub(crate) fn prepend(v: &mut Vec<u8>, head: &[u8], tail: usize) {
    let n = v.len();
    reserve_exact(v, head.len() + tail);
    v.resize(n + head.len(), 0);
    v.copy_within(0..n, head.len());
    v[..head.len()].copy_from_slice(head);
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
/// spans at least two: the pages its allocation touches, rounded outward
/// (see the module's invariants).
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
    let first = start & !(PAGE - 1);
    let end = (start + v.capacity()).next_multiple_of(PAGE);
    // SAFETY: [first, end) is the whole pages that hold `v`'s allocation,
    // all mapped (a mapping is whole pages). MADV_HUGEPAGE changes how the
    // kernel backs those pages when they are next faulted in, never their
    // contents or who owns them; where huge pages are unavailable it fails
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
            let mut r = vec![1u8];
            reserve_exact(&mut r, n);
            assert!(r.capacity() > n && r == [1]);
            let mut p = data.clone();
            prepend(&mut p, b"head", 2);
            assert!(p[..4] == *b"head" && p[4..] == data[..] && p.capacity() >= n + 6);
            assert!(with_capacity(n).capacity() >= n);
            let mut g = Growing(Vec::new());
            for piece in data.chunks(100_000) {
                g.write_all(piece).unwrap();
            }
            assert_eq!(g.0, data);
        }
    }

    /// A wiped buffer's whole allocation holds zeroes: its bytes and its
    /// spare capacity.
    #[test]
    fn a_wiped_buffer_leaves_zeroes() {
        let mut w = Wiped(with_capacity(3 * HUGE_PAGE));
        w.extend_from_slice(&[0xa5; 2 * HUGE_PAGE]);
        w.truncate(HUGE_PAGE);
        w.wipe();
        let all = whole_allocation(&w);
        assert!(all.iter().all(|&b| b == 0));
        assert_eq!(w.len(), HUGE_PAGE);
    }

    /// Every byte of `w`'s allocation, its spare capacity included.
    #[allow(
        unsafe_code,
        reason = "reading a buffer's spare capacity after its wipe"
    )]
    fn whole_allocation(w: &Wiped) -> &[u8] {
        // SAFETY: called after a wipe, which wrote every byte of the
        // allocation, so all `capacity` bytes are initialised; `w` is alive
        // and borrowed for as long as the slice.
        unsafe { std::slice::from_raw_parts(w.as_ptr(), w.capacity()) }
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
        // The page that holds its first byte too: one mapping, which
        // `realloc` can still grow with `mremap`.
        let first = flags_at(v.as_ptr() as usize);
        assert!(first.iter().any(|f| f == "hg"), "{first:?}");
    }
}
